// The settings dialog and reminder snooze in headless Chromium, against the
// local host that tests/web.rs started at BASE_URL (mail kept, not sent, and
// shown at /functions/outbox-mail): by keyboard alone, open the settings, set
// a time zone, an address, e-mail reminders and quiet hours; a bad address is
// marked beside its field and cleared when fixed; the confirmation link from
// the kept mail confirms the address (its page under the strict CSP); a
// reminder is snoozed from the page. axe on the open dialog in light and dark,
// and the dialog at 360 px without horizontal scroll. Screenshots go to SHOTS.
import { mkdirSync } from 'node:fs';
import { check, launch, require, run } from './common.mjs';

const AXE = require.resolve('axe-core/axe.min.js');
const BASE = process.env.BASE_URL;
const SHOTS = process.env.SHOTS;
mkdirSync(SHOTS, { recursive: true });
const browser = await launch();

async function signIn(page) {
  await page.goto(BASE + '/');
  await page.locator('#dev-sign-in').click();
  await page.locator('#live[data-state="live"]').waitFor();
}

/** axe on the app with the settings dialog open, in `scheme`. */
async function accessible(scheme) {
  const context = await browser.newContext({ bypassCSP: true, colorScheme: scheme, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await signIn(page);
  await page.click('#open-settings');
  await page.locator('#settings[open]').waitFor();
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  await context.close();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `settings (${scheme}): axe found ${bad.map((v) => `${v.id} (${v.impact})`).join(', ')}`);
  console.log(`ok: axe on settings-${scheme}: ${result.violations.length} violations, none serious or critical`);
}

await run(browser, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  await signIn(page);
  const token = await page.evaluate(() => sessionStorage.getItem('todo.token'));
  const call = async (method, path, body) => {
    const res = await fetch(BASE + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    return res.json();
  };

  // By keyboard alone: to the Settings button, open, fill in, save.
  await page.locator('#open-settings').focus();
  await page.keyboard.press('Enter');
  const dialog = page.locator('#settings[open]');
  await dialog.waitFor();
  check(await page.evaluate(() => document.getElementById('settings').contains(document.activeElement)), 'focus moved into the dialog');
  await page.selectOption('#set-zone', 'Europe/Berlin');
  await page.locator('#set-email').focus();
  await page.keyboard.type('not an address');
  await page.locator('input[name="by_email"]').focus();
  await page.keyboard.press('Space');
  await page.locator('input[name="quiet"]').focus();
  await page.keyboard.press('Space');
  await page.fill('#set-quiet-start', '21:30');
  await page.fill('#set-quiet-end', '06:45');
  await page.locator('#settings button[type=submit]').focus();
  await page.keyboard.press('Enter');
  const email = page.locator('#set-email[aria-invalid="true"]');
  await email.waitFor();
  const note = await page.locator('#set-email-error').textContent();
  check(/e-mail address/.test(note), `the address's problem is said beside it: ${note}`);
  check(await page.evaluate(() => document.activeElement.id) === 'set-email', 'focus is on the field at fault');
  check((await call('GET', '/v1/me/settings')).updated_at === null, 'nothing was saved');
  console.log('ok: a bad address is marked beside its field, with focus on it, and nothing is saved');

  await page.fill('#set-email', 'dev@example.com');
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'detached' }).catch(() => {});
  await page.locator('#settings:not([open])').waitFor({ state: 'attached' });
  const said = await page.locator('#status').textContent();
  check(said.includes('dev@example.com'), `the status says where the link went: ${said}`);
  const saved = await call('GET', '/v1/me/settings');
  check(saved.time_zone === 'Europe/Berlin' && saved.email === 'dev@example.com' && saved.email_verified === false,
    `saved: ${JSON.stringify(saved)}`);
  check(saved.channels.reminders.email === true && saved.channels.reminders.in_app === true, `channels: ${JSON.stringify(saved.channels)}`);
  check(saved.quiet_hours && saved.quiet_hours.start === '21:30' && saved.quiet_hours.end === '06:45', `quiet hours: ${JSON.stringify(saved.quiet_hours)}`);
  console.log('ok: settings saved by keyboard alone: time zone, address, e-mail reminders, quiet hours');

  // The confirmation, as the local host keeps it, and its link.
  const outbox = await (await fetch(BASE + '/functions/outbox-mail')).json();
  const confirmation = outbox.mails.find((m) => m.address === 'dev@example.com');
  check(confirmation && confirmation.subject.includes('Confirm'), `a confirmation was queued: ${JSON.stringify(outbox)}`);
  const link = confirmation.text.match(/https?:\/\/\S+\/mail\/confirm\?token=\S+/)[0];
  const path = new URL(link).pathname + new URL(link).search;
  const confirmPage = await context.newPage();
  confirmPage.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  const opened = await confirmPage.goto(BASE + path);
  check(opened.headers()['content-security-policy'].includes("default-src 'none'"), 'the link page carries the strict CSP');
  check((await call('GET', '/v1/me/settings')).email_verified === false, 'opening the link alone confirms nothing');
  await confirmPage.getByRole('button', { name: 'Confirm this address' }).click();
  await confirmPage.getByRole('heading', { name: 'Address confirmed' }).waitFor();
  await confirmPage.screenshot({ path: `${SHOTS}/mail-confirmed.png` });
  await confirmPage.close();
  await page.click('#open-settings');
  await page.locator('#set-email-status', { hasText: 'Confirmed.' }).waitFor();
  await page.screenshot({ path: `${SHOTS}/settings.png` });
  await page.click('#settings-cancel');
  console.log('ok: the link from the kept mail confirmed the address, and the dialog says so');

  // A reminder, snoozed for an hour from the page.
  const due = new Date(Date.now() + 2000);
  await call('POST', '/v1/tasks', { title: 'Stretch', due_at: due.toISOString(), remind_before_minutes: 0 });
  const reminder = page.locator('#reminder-list li', { hasText: 'Stretch' });
  await reminder.waitFor({ timeout: 20000 });
  await reminder.getByRole('button', { name: /Snooze the reminder for an hour/ }).click();
  await reminder.waitFor({ state: 'detached' });
  const tasks = await call('GET', '/v1/tasks?q=Stretch');
  const remindAt = Date.parse(tasks.items[0].remind_at);
  check(Math.abs(remindAt - (Date.now() + 3600e3)) < 60e3, `re-armed an hour on: ${tasks.items[0].remind_at}`);
  console.log('ok: a reminder snoozed for an hour from the page');

  // On a phone: the dialog fits, and every control is big enough to touch.
  await page.setViewportSize({ width: 360, height: 740 });
  await page.click('#open-settings');
  await dialog.waitFor();
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= 360);
  check(fits, 'no horizontal scroll at 360 px');
  const cut = await page.evaluate(() => {
    const box = document.getElementById('settings').getBoundingClientRect();
    return [...document.querySelectorAll('#settings input, #settings select, #settings button, #settings label')]
      .filter((e) => e.offsetParent && e.getBoundingClientRect().right > box.right + 0.5).map((e) => e.name || e.id || e.textContent);
  });
  check(cut.length === 0, `cut off at the dialog's edge: ${cut}`);
  const small = await page.evaluate(() => [...document.querySelectorAll('#settings button, #settings input, #settings select')]
    .filter((e) => e.offsetParent && e.getBoundingClientRect().height < 24 && e.type !== 'checkbox').map((e) => e.name || e.id));
  check(small.length === 0, `touch targets under 24 px: ${small}`);
  await page.screenshot({ path: `${SHOTS}/settings-phone.png` });
  console.log('ok: the settings dialog at 360 px: no horizontal scroll, nothing cut off, touch targets of 24 px or more');

  await accessible('light');
  await accessible('dark');
  check(violations.length === 0, `CSP violations: ${violations.join('; ')}`);
  console.log('ok: no Content-Security-Policy violation');
});
