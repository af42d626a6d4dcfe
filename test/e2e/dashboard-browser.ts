// What the dashboard's browser tests share: Debian's Chromium (driven by playwright-core, never a
// downloaded browser), where screenshots go, and entering the observe token on the page.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SHOTS = new URL('../../docs/screenshots/', import.meta.url);

export async function useToken(page: Page, token: string): Promise<void> {
  await page.fill('#token', token);
  await page.click('#token-form button');
  await page.waitForSelector('#token-state.ok, #token-state.error');
  assert.equal(await page.locator('#token-state').getAttribute('class'), 'ok', await page.locator('#token-state').innerText());
}
