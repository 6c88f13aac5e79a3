// Sign-in with OpenID Connect in headless Chromium, against the real
// provider tests/browser/idp.mjs runs at ISSUER: the app's button, the
// provider's own login and consent pages, back to the app signed in with an
// access token the API accepts, the code gone from the address bar; and a
// return the app did not start, and a refusal, each said plainly.
// Exits 1 naming what failed.
import { check, launch, run, fullForm } from './common.mjs';

const BASE = process.env.BASE_URL;
const ISSUER = process.env.ISSUER;
const browser = await launch();
await run(browser, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const urls = [];
  page.on('request', (request) => { if (request.isNavigationRequest()) urls.push(request.url()); });
  // Cookies are per host, not per port: the provider's session cookie is on
  // 127.0.0.1 too. The app itself must set none.
  const appCookies = [];
  page.on('response', async (response) => {
    if (response.url().startsWith(BASE) && (await response.allHeaders())['set-cookie']) appCookies.push(response.url());
  });

  await page.goto(BASE + '/');
  const button = page.locator('#oidc-sign-in');
  await button.waitFor({ state: 'visible' });
  const label = await button.textContent();
  check(label === `Sign in with ${new URL(ISSUER).host}`, `the button names the provider: ${label}`);
  await button.click();

  // The provider's own pages: any user name on its development login, then consent.
  await page.waitForURL((url) => url.href.startsWith(ISSUER));
  const authorize = new URL(urls.find((u) => u.startsWith(`${ISSUER}/auth`)));
  check(authorize.searchParams.get('code_challenge_method') === 'S256', `PKCE S256: ${authorize}`);
  check(/^[A-Za-z0-9_-]{43}$/.test(authorize.searchParams.get('code_challenge')), 'a SHA-256 challenge');
  check(!authorize.searchParams.has('code_verifier'), 'the verifier never leaves the page');
  await page.fill('input[name="login"]', 'oidc-user');
  await page.fill('input[name="password"]', 'anything');
  await page.click('button[type="submit"]');
  await page.locator('button[type="submit"]', { hasText: /continue/i }).click();

  await page.waitForURL((url) => url.href.startsWith(BASE));
  await page.locator('#who').filter({ hasText: 'oidc-user' }).waitFor();
  check(page.url() === `${BASE}/`, `the code is gone from the address bar: ${page.url()}`);
  const token = await page.evaluate(() => sessionStorage.getItem('todo.token'));
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  check(claims.iss === ISSUER && claims.sub === 'oidc-user', `the provider's access token: ${JSON.stringify(claims)}`);
  check(!urls.some((u) => u.includes(token)), 'the token was never in an address');
  check(appCookies.length === 0, `the app set no cookie: ${appCookies}`);
  const cookies = await context.cookies(BASE);
  check(!cookies.some((c) => c.value.includes(token.split('.')[2])), 'no cookie holds the token');
  console.log(`ok: signed in with OpenID Connect as ${claims.sub} (PKCE S256, token for ${claims.aud})`);

  // The token works with the API: a task made and listed.
  await fullForm(page);
  await page.fill('#title', 'Made after signing in with a provider');
  await page.click('#new-task button[type=submit]');
  await page.locator('#tasks li button.title:text-is("Made after signing in with a provider")').waitFor();
  await page.locator('#live[data-state="live"]').waitFor();
  console.log('ok: the API accepts the access token');

  // A code the provider never issued: its refusal, passed on.
  const forged = await page.evaluate(async () => {
    const res = await fetch('/auth/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code: 'forged', code_verifier: 'v'.repeat(43), redirect_uri: `${location.origin}/` }),
    });
    return { status: res.status, body: await res.json() };
  });
  check(forged.status === 400 && forged.body.error.code === 'sign_in_failed' && /invalid_grant/.test(forged.body.error.message),
    `a forged code is refused with the provider's reason: ${JSON.stringify(forged)}`);

  // Back from the provider without having started here: refused, plainly.
  const other = await context.newPage();
  await other.goto(`${BASE}/?code=forged&state=forged`);
  await other.locator('#status', { hasText: 'not started here' }).waitFor();
  check(other.url() === `${BASE}/`, 'the forged code is gone from the address bar');
  await other.goto(`${BASE}/?error=access_denied&error_description=The+user+said+no`);
  await other.locator('#status', { hasText: 'The user said no' }).waitFor();
  console.log('ok: a return that was not started here, and a refusal, are said plainly');
  await context.close();
});
