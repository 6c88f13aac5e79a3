// The API explorer at /docs in headless Chromium, against the local host at
// BASE_URL: it loads with no console error (so nothing is refused by the
// strict CSP) and lists every operation of /openapi.json; "Try it out" with
// the token TOKEN under Authorize calls this origin and shows the answer.
// Exits 1 naming what failed.
import { check, launch, run } from './common.mjs';

const BASE = process.env.BASE_URL;
const TOKEN = process.env.TOKEN;
const browser = await launch();

await run(browser, async () => {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  const response = await page.goto(BASE + '/docs');
  const csp = response.headers()['content-security-policy'] || '';
  check(/script-src 'self'/.test(csp) && !/unsafe-(inline|eval)/.test(csp), `a strict CSP on /docs: ${csp}`);

  const doc = await (await fetch(BASE + '/openapi.json')).json();
  const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
  const operations = Object.values(doc.paths).flatMap((item) => Object.keys(item).filter((m) => methods.includes(m)));
  await page.locator('.opblock').first().waitFor();
  const shown = await page.locator('.opblock').count();
  check(shown === operations.length, `every operation is listed: ${shown} of ${operations.length}`);
  console.log(`ok: /docs lists all ${shown} operations`);

  // Authorize with a bearer token, then try GET /v1/lists on this origin.
  await page.click('button.authorize');
  await page.fill('.auth-container input[type=text], .auth-container input[type=password]', TOKEN);
  await page.click('.auth-btn-wrapper button.authorize');
  await page.click('.auth-btn-wrapper button.btn-done');
  const lists = page.locator('.opblock-get', { has: page.locator('[data-path="/v1/lists"]') }).first();
  await lists.locator('.opblock-summary').click();
  await lists.locator('button.try-out__btn').click();
  await lists.locator('button.execute').click();
  const status = lists.locator('.live-responses-table tr.response .response-col_status').first();
  await status.waitFor();
  const code = (await status.textContent()).trim();
  check(code === '200', `try it out answered ${code}`);
  const body = await lists.locator('.live-responses-table .microlight').first().textContent();
  check(body.includes('"Inbox"'), `the answer is the user's lists: ${body.slice(0, 200)}`);
  console.log('ok: try it out with a bearer token answered 200 from this origin');
  check(errors.length === 0, `no console error: ${errors.join(' | ')}`);
  console.log('ok: no console error on /docs');
});
