/**
 * Debian's Chromium driven by playwright-core (no browser download). Under CI a missing
 * Chromium fails the test that needs it; `.ci/run` installs it with apt-get.
 */
import { access, constants } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  await access(CHROMIUM_PATH, constants.X_OK).catch(() => {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it with 'apt-get install chromium' (.ci/run does)`);
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
  return {
    browser,
    // playwright gives every launch a fresh profile of its own and removes it on close.
    close: () => browser.close(),
  };
}
