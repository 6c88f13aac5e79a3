// Web Push in headless Chromium, against the local host that tests/web.rs
// started at BASE_URL (with a VAPID key) and the push service on loopback at
// PUSH_URL (scripts/push-test-service.py, which decrypts and verifies what it
// is sent). Headless Chromium reaches no push service of its own, so
// PushManager.subscribe is given the loopback service's subscription (the
// one boundary a test may stand in for); everything else is the browser's:
// the settings dialog turns push on (permission, service worker, the
// subscription handed to the API), a reminder goes from the server through
// the push service (decrypted there), and its payload is delivered to the
// service worker over the DevTools protocol, as a push service delivers it;
// the worker shows the notification with its actions, and the Snooze and
// Complete actions act on the task. Turning push off deletes the
// subscription. axe on the dialog; screenshots to SHOTS.
import { mkdirSync, readFileSync } from 'node:fs';
import { check, launch, require, run } from './common.mjs';

const AXE = require.resolve('axe-core/axe.min.js');
const BASE = process.env.BASE_URL;
const PUSH = process.env.PUSH_URL;
const SHOTS = process.env.SHOTS;
mkdirSync(SHOTS, { recursive: true });
const browser = await launch();

const post = async (url, body) => (await fetch(url, { method: 'POST', body: JSON.stringify(body) })).json();

/** Polls `read` until it gives something truthy, for at most `ms`. */
async function until(read, what, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const got = await read();
    if (got) return got;
    check(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

await run(browser, async () => {
  const subscription = await post(`${PUSH}/subscriptions`, {});
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['notifications'], { origin: BASE });
  // The push service's part of subscribing: what the loopback service made.
  await context.addInitScript((sub) => {
    let current = null;
    PushManager.prototype.subscribe = async function (options) {
      const key = new Uint8Array(options.applicationServerKey);
      window.__applicationServerKey = btoa(String.fromCharCode(...key)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      window.__userVisibleOnly = options.userVisibleOnly;
      current = { endpoint: sub.endpoint, expirationTime: null, toJSON: () => sub, unsubscribe: async () => { current = null; return true; } };
      return current;
    };
    PushManager.prototype.getSubscription = async function () { return current; };
  }, subscription);
  const page = await context.newPage();
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  await page.goto(BASE + '/');
  await page.locator('#dev-sign-in').click();
  await page.locator('#live[data-state="live"]').waitFor();
  const token = await page.evaluate(() => sessionStorage.getItem('todo.token'));
  const call = async (method, path, body) => {
    const res = await fetch(BASE + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    return res.status === 204 ? null : res.json();
  };

  // Turn push on from the settings dialog, by keyboard.
  await page.locator('#open-settings').focus();
  await page.keyboard.press('Enter');
  const status = page.locator('#set-push-status');
  await status.filter({ hasText: 'Off:' }).waitFor();
  await page.locator('#set-push-toggle').focus();
  await page.keyboard.press('Enter');
  await status.filter({ hasText: 'On:' }).waitFor();
  check(await page.locator('input[name="push"]').isChecked(), 'reminders by push are ticked');
  const key = await call('GET', '/v1/push/key');
  check(await page.evaluate(() => window.__applicationServerKey) === key.public_key, 'subscribed with the server\'s VAPID key');
  check(await page.evaluate(() => window.__userVisibleOnly) === true, 'every push is shown');
  const listed = await call('GET', '/v1/push/subscriptions');
  check(listed.items.length === 1 && listed.items[0].service === '127.0.0.1', `the API holds the subscription: ${JSON.stringify(listed)}`);
  check((await call('GET', '/v1/me/settings')).channels.reminders.push === true, 'the setting was saved');
  await page.screenshot({ path: `${SHOTS}/settings-push.png` });
  // Evaluated over the DevTools protocol, so the page keeps its strict policy.
  await page.evaluate(readFileSync(AXE, 'utf8'));
  const axe = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `axe found ${bad.map((v) => v.id).join(', ')}`);
  console.log('ok: push turned on in this browser by keyboard, with the server\'s key; axe finds nothing serious');
  await page.keyboard.press('Escape');

  // A reminder, pushed through the loopback service and decrypted there.
  const task = await call('POST', '/v1/tasks', { title: 'Call the dentist', due_at: new Date(Date.now() + 1500).toISOString(), remind_before_minutes: 0 });
  const message = await until(async () => {
    const received = await (await fetch(`${PUSH}/received`)).json();
    return received.find((m) => m.payload && m.payload.title === 'Call the dentist') || received.find((m) => m.error);
  }, 'the pushed reminder');
  check(!message.error, `the push service refused the message: ${message.error}`);
  check(message.vapid.key === key.public_key, 'signed with the server\'s key');
  console.log(`ok: the reminder reached the push service encrypted and signed (${message.headers['content-length']} bytes)`);

  // Delivered to the service worker as the push service would.
  const cdp = await context.newCDPSession(page);
  const registered = new Promise((resolve) => cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
    const mine = registrations.find((r) => r.scopeURL === BASE + '/' && !r.isDeleted);
    if (mine) resolve(mine.registrationId);
  }));
  await cdp.send('ServiceWorker.enable');
  const registrationId = await registered;
  // The worker as it runs now (the browser stops an idle one and starts it for an event).
  const worker = () => until(async () => context.serviceWorkers().find((w) => w.url() === BASE + '/sw.js'), 'the service worker');
  const notifications = (tag) => page.evaluate(async (tag) => {
    const shown = await (await navigator.serviceWorker.ready).getNotifications({ tag });
    return shown.filter((n) => n.actions.length).map((n) => ({ title: n.title, body: n.body, actions: n.actions.map((a) => a.action) }));
  }, tag);
  const deliver = async (payload) => {
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: BASE, registrationId, data: JSON.stringify(payload) });
    return until(async () => {
      const shown = await notifications(payload.tag);
      return shown.length ? shown : null;
    }, 'the notification');
  };
  const shown = await deliver(message.payload);
  check(shown[0].title === 'Call the dentist' && shown[0].body.startsWith('Due '), `shown: ${JSON.stringify(shown)}`);
  check(JSON.stringify(shown[0].actions) === '["complete","snooze"]', `its actions: ${shown[0].actions}`);
  console.log('ok: the service worker shows the reminder with Complete and Snooze');

  // Its actions, as the notification's buttons fire them.
  const click = async (action) => (await worker()).evaluate(async ({ action, tag }) => {
    const [notification] = await self.registration.getNotifications({ tag });
    self.dispatchEvent(new NotificationEvent('notificationclick', { notification, action }));
  }, { action, tag: message.payload.tag });
  await click('snooze');
  const snoozed = await until(async () => {
    const t = await call('GET', `/v1/tasks/${task.id}`);
    return Date.parse(t.remind_at) > Date.now() + 50 * 60e3 ? t : null;
  }, 'the snooze');
  const left = (await notifications(message.payload.tag)).length;
  check(left === 0, `the snoozed notification went away: ${left} left`);
  console.log(`ok: Snooze on the notification re-armed the reminder for ${snoozed.remind_at}`);
  await deliver(message.payload);
  await click('complete');
  await until(async () => (await call('GET', `/v1/tasks/${task.id}`)).completed, 'the completion');
  console.log('ok: Complete on the notification marked the task done');

  // A subscription this browser holds for someone else (their sign-in expired here) is not shown as on.
  const mine = await page.evaluate(() => localStorage.getItem('todo.push.subscription'));
  await page.evaluate(() => localStorage.setItem('todo.push.subscription', '0190a000-0000-7000-8000-000000000000'));
  await page.click('#open-settings');
  await status.filter({ hasText: 'Off:' }).waitFor();
  await page.keyboard.press('Escape');
  await page.evaluate((id) => localStorage.setItem('todo.push.subscription', id), mine);
  console.log('ok: a subscription held for another user is not shown as on');

  // Off again: the subscription is gone.
  await page.click('#open-settings');
  await status.filter({ hasText: 'On:' }).waitFor();
  await page.click('#set-push-toggle');
  await status.filter({ hasText: 'Off:' }).waitFor();
  check((await call('GET', '/v1/push/subscriptions')).items.length === 0, 'turned off: the API forgot the browser');
  console.log('ok: turning push off deletes the subscription');

  await page.setViewportSize({ width: 360, height: 740 });
  check(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no horizontal scroll at 360 px');
  await page.screenshot({ path: `${SHOTS}/settings-push-phone.png` });
  check(violations.length === 0, `CSP violations: ${violations.join('; ')}`);
  console.log('ok: no Content-Security-Policy violation');
});
