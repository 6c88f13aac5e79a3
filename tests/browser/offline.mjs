// The web app without its server, in headless Chromium. The page talks to the
// local host (BASE_URL) through a TCP relay run here; cutting the relay closes
// its port and every connection through it, so the browser, its service worker
// included, really cannot reach the server (connection refused), as on a train
// in a tunnel. With the server cut off: the app opens from the worker's cache
// with the last tasks it saw; a quick add, a completion (by keyboard) and an
// edit are queued and survive a reload. Meanwhile another device changes the
// task being edited. Back online, the first answer to the new task's POST is
// lost on its way back (the relay drops it), the queue is sent again, and the
// server holds the task once; the edit meets the other device's change and is
// shown as a conflict, settled by keyboard. Signing out forgets what was
// kept. axe on the offline page and the conflict, light and dark; the
// offline page at 360 px. Screenshots go to SHOTS.
import net from 'node:net';
import { mkdirSync, readFileSync } from 'node:fs';
import { check, launch, require, run } from './common.mjs';

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE = process.env.BASE_URL;
const SHOTS = process.env.SHOTS;
mkdirSync(SHOTS, { recursive: true });

/**
 * A TCP relay from a port of its own to the host: `cut()` closes the port and
 * every connection through it, `restore()` opens the same port again, and
 * `loseNextAnswer(start)` relays the next request whose first line starts
 * with `start` but drops its answer (closing the browser's connection).
 */
class Relay {
  constructor(target) {
    this.target = new URL(target);
    this.sockets = new Set();
    this.seen = [];
    this.lose = null;
  }

  async open(port = 0) {
    this.server = net.createServer((client) => this.relay(client));
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
  }

  relay(client) {
    const upstream = net.connect(Number(this.target.port), this.target.hostname);
    let dropping = false;
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk) => {
      const line = chunk.toString('latin1').split('\r\n', 1)[0];
      if (/^[A-Z]+ \//.test(line)) this.seen.push(line);
      if (this.lose && line.startsWith(this.lose)) {
        this.lose = null;
        dropping = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      // The server answered; the answer never reaches the browser.
      if (dropping) client.destroy();
      else client.write(chunk);
    });
  }

  async cut() {
    const closed = new Promise((resolve) => this.server.close(resolve));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  restore() {
    return this.open(this.port);
  }

  loseNextAnswer(start) {
    this.lose = start;
  }
}

const relay = new Relay(BASE);
await relay.open();
const APP = `http://127.0.0.1:${relay.port}`;
const browser = await launch();

/** Waits, bounded, until `probe()` holds. */
async function until(what, probe, ms = 10000) {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    check(Date.now() < deadline, `${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * axe-core on the page as it is, in the light scheme and the dark one (run
 * through the debugging protocol, which the CSP does not govern).
 */
async function accessible(page, name) {
  await page.evaluate(AXE);
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    check(bad.length === 0, `${name}-${scheme}: axe found ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes[0]?.html}`).join(', ')}`);
    console.log(`ok: axe on ${name}-${scheme}: ${result.violations.length} violations, none serious or critical`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

await run(browser, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'Europe/Berlin' });
  const page = await context.newPage();
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  await page.goto(APP + '/');
  await page.locator('#dev-sign-in').click();
  await page.locator('#live[data-state="live"]').waitFor();
  const token = await page.evaluate(() => sessionStorage.getItem('todo.token'));
  // Another device of the same user, straight to the host.
  const call = async (method, path, body, headers = {}) => {
    const res = await fetch(BASE + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
      body: body && JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const made = {};
  for (const title of ['Pay the rent', 'Water the plants', 'Call the plumber']) {
    made[title] = (await call('POST', '/v1/tasks', { title })).body;
  }
  const row = (title) => page.locator('#tasks li[data-id]', { has: page.locator(`.title:text-is("${title}")`) });
  await row('Call the plumber').waitFor();
  // The worker controls the page, and the answers shown are kept.
  await until('the service worker controls the page', () => page.evaluate(() => Boolean(navigator.serviceWorker.controller)));
  await until('the tasks are kept', () => page.evaluate(async () => (await (await caches.open('todo-data')).keys())
    .some((r) => r.url.includes('/v1/tasks?'))));
  console.log('ok: the service worker controls the page and the tasks shown are kept');

  await relay.cut();
  const refused = await fetch(APP + '/').then(() => false, (e) => e.cause?.code === 'ECONNREFUSED');
  check(refused, 'the server cannot be reached through the cut relay');
  await page.reload();
  await row('Water the plants').waitFor();
  const said = await page.locator('#status').textContent();
  check(/cannot be reached: these are your tasks as of/.test(said), `the page says what it shows: ${said}`);
  console.log('ok: with the server cut off, the app opened from its cache with the last tasks it saw');

  // Added, completed by keyboard and edited, all while offline.
  await page.locator('#quick').fill('Buy milk tomorrow 9am #shop');
  await page.locator('#quick').press('Enter');
  const milk = row('Buy milk tomorrow 9am #shop');
  await milk.waitFor();
  check(/Not sent yet/.test(await milk.textContent()), 'the new task says it is not sent yet');
  await row('Water the plants').locator('input[type=checkbox]').focus();
  await page.keyboard.press('Space');
  await row('Water the plants').waitFor({ state: 'detached' });
  await row('Call the plumber').locator('.title').click();
  await page.locator('form.edit input[name=title]').fill('Call the plumber about the sink');
  await page.locator('form.edit button[type=submit]').click();
  await row('Call the plumber about the sink').waitFor();
  await page.locator('#pending:text-is("3 changes to send")').waitFor();
  console.log('ok: a quick add, a completion and an edit were queued while offline');

  // Meanwhile another device renames the task being edited.
  const elsewhere = await call('PATCH', `/v1/tasks/${made['Call the plumber'].id}`, { title: 'Call the electrician' });
  check(elsewhere.status === 200, `the other device's change: ${JSON.stringify(elsewhere)}`);

  await page.reload();
  await milk.waitFor();
  await row('Call the plumber about the sink').waitFor();
  check(await row('Water the plants').count() === 0, 'the completion is still shown after the reload');
  await page.locator('#pending:text-is("3 changes to send")').waitFor();
  check(await page.evaluate(() => JSON.parse(localStorage.getItem('todo.queue')).ops.length) === 3, 'three changes queued');
  console.log('ok: the queue survived a reload');
  await page.locator('#retry').waitFor();
  await page.screenshot({ path: `${SHOTS}/offline.png` });
  await accessible(page, 'offline');
  await page.setViewportSize({ width: 360, height: 740 });
  await page.screenshot({ path: `${SHOTS}/phone-offline.png` });
  const wide = await page.evaluate(() => [document.documentElement.scrollWidth,
    ...[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 361).slice(0, 5).map((e) => `${e.tagName}#${e.id}.${e.className}`)]);
  check(wide[0] <= 360, `no horizontal scroll at 360 px offline: ${wide}`);
  await page.setViewportSize({ width: 1280, height: 800 });
  check((await call('GET', '/v1/tasks?q=milk')).body.items.length === 0, 'nothing reached the server while it was cut off');

  // Back: the first answer to the new task's POST is lost; it is sent again.
  await relay.restore();
  relay.loseNextAnswer('POST /v1/tasks HTTP');
  relay.seen = [];
  await page.locator('#retry').focus();
  await page.keyboard.press('Enter');
  await page.locator('#problems').waitFor().catch(async (e) => check(false, `no conflict shown: ${await page.evaluate(() => JSON.stringify({
    live: document.getElementById('live').dataset.state, status: document.getElementById('status').textContent,
    pending: document.getElementById('pending').textContent, queue: localStorage.getItem('todo.queue') }))} ${relay.seen.join(' | ')}`));
  await page.locator('#pending').waitFor({ state: 'hidden' });
  const posts = relay.seen.filter((line) => line.startsWith('POST /v1/tasks HTTP')).length;
  check(posts >= 2, `the new task was sent again after its answer was lost (${posts} POSTs)`);
  const milks = (await call('GET', '/v1/tasks?q=milk')).body.items;
  check(milks.length === 1, `the server holds the new task once: ${JSON.stringify(milks)}`);
  const [bought] = milks;
  check(bought.title === 'Buy milk' && bought.tags.join() === 'shop', `the line was read: ${JSON.stringify(bought)}`);
  const berlin = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' });
  check(berlin.format(new Date(bought.due_at)) === '09:00', `due at 9am in the page's zone: ${bought.due_at}`);
  const watered = (await call('GET', `/v1/tasks/${made['Water the plants'].id}`)).body;
  check(watered.completed && watered.version === 2, `completed once, with If-Match: ${JSON.stringify(watered)}`);
  console.log(`ok: back online the queue was sent, and the new task made once though its first answer was lost (${posts} POSTs)`);

  const problem = await page.locator('#problems').textContent();
  check(/Call the electrician/.test(problem) && /Call the plumber about the sink/.test(problem), `the conflict shows both: ${problem}`);
  await page.screenshot({ path: `${SHOTS}/offline-conflict.png` });
  await accessible(page, 'offline-conflict');
  await page.locator('#problems button:text-is("Save mine anyway")').focus();
  await page.keyboard.press('Enter');
  await page.locator('#problems').waitFor({ state: 'hidden' });
  const plumber = (await call('GET', `/v1/tasks/${made['Call the plumber'].id}`)).body;
  check(plumber.title === 'Call the plumber about the sink', `the user's edit saved over the newer version: ${plumber.title}`);
  await row('Buy milk').waitFor();
  check(!/Not sent yet/.test(await row('Buy milk').textContent()), 'the new task is no longer marked unsent');
  console.log('ok: the conflict was shown and settled by keyboard');

  await page.reload();
  await row('Buy milk').waitFor();
  check((await call('GET', '/v1/tasks?q=milk')).body.items.length === 1, 'a reload sends nothing again');

  await page.locator('#sign-out').click();
  await page.locator('#signed-out').waitFor({ state: 'visible' });
  const left = await page.evaluate(async () => ({ cache: await caches.has('todo-data'), queue: localStorage.getItem('todo.queue') }));
  check(!left.cache && left.queue === null, `signing out forgets what was kept: ${JSON.stringify(left)}`);
  console.log('ok: signing out forgot the kept tasks');
  check(violations.length === 0, `Content-Security-Policy violations: ${violations.join('; ')}`);
  console.log('ok: no Content-Security-Policy violation');
  await context.close();
});
