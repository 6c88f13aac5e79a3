// What the browser tests share: the packages from target/node-tools, Debian's
// chromium launched headless (failing with how to install it when missing),
// and the check that names what failed.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

export const require = createRequire(new URL('../../target/node-tools/', import.meta.url));
const { chromium } = require('playwright-core');

const CHROMIUM = '/usr/bin/chromium';

/** Headless Debian chromium; exits 1 saying how to install it when it is missing. */
export async function launch() {
  if (!existsSync(CHROMIUM)) {
    console.error(`FAILED: ${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does)`);
    process.exit(1);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Runs a scenario, then closes the browser; exits 1 naming what failed. */
export async function run(browser, scenario) {
  let failed = false;
  try {
    await scenario();
  } catch (e) {
    console.error(`FAILED: ${e.message}`);
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}

/** Opens the new-task form with every field (folded under the list until asked for), by keyboard. */
export async function fullForm(page) {
  if (await page.locator('#more-options[open]').count()) return;
  await page.focus('#more-options > summary');
  await page.keyboard.press('Enter');
  await page.locator('#title').waitFor({ state: 'visible' });
}
