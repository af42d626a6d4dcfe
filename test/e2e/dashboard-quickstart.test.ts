// The dashboard loads from the quick start, in real headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core; no browser is downloaded): `sluice quickstart` as a user starts it
// (in a fresh data directory), the URL it prints opened, the overview showing both coupon tables
// and charts with data, a screenshot in docs/screenshots/; SIGTERM then stops the quick start
// cleanly (exit 0, target identical to the source).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { spawnSluice, type SluiceProcess } from '../support/cli.js';
import { skipUnless } from '../support/services.js';
import { CHROMIUM, CHROMIUM_ARGS, SHOTS } from './dashboard-browser.js';

// Functions given to page.waitForFunction run in the page, where `document` exists (tsconfig has no DOM lib).
declare const document: { body: { dataset: Record<string, string | undefined> } };

const TABLES = ['public.coupon', 'public.coupon_history'];

describe('the quick start serves the dashboard', { skip: skipUnless(existsSync(CHROMIUM), `Chromium at ${CHROMIUM}`) }, () => {
  test('its URL loads in Chromium: both coupon tables and charts with data; SIGTERM exits 0', { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-qs-dashboard-'));
    let quickstart: SluiceProcess | undefined;
    let browser: Browser | undefined;
    try {
      quickstart = spawnSluice(['quickstart', '--data-dir', dir]);
      // The first line once the pipeline runs leads with the URL (a first start prints a line
      // about creating the databases before it).
      const first = await quickstart.line(/^sluice quick start: (?!creating)/);
      const url = /^sluice quick start: dashboard (http:\/\/\S+) · first run/.exec(first)?.[1];
      assert.ok(url, first);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(url);
      for (const t of TABLES) await page.waitForSelector(`#topology tbody tr[data-table="${t}"]`);
      // Three history samples make two points.
      await page.waitForFunction(() => Number(document.body.dataset.chartPoints ?? 0) >= 2, undefined, { timeout: 60_000 });
      assert.equal(await page.locator('#state').innerText(), 'running');
      assert.equal(await page.locator('#chart-throughput canvas').count(), 1);
      assert.equal(await page.locator('#chart-lag canvas').count(), 1);
      const topology = await page.locator('#topology tbody').innerText();
      for (const t of TABLES) assert.match(topology, new RegExp(`${t.replace('.', '\\.')}\\s.*\\(direct\\)`));
      await page.screenshot({ path: new URL('quickstart-overview.png', SHOTS).pathname, fullPage: true });
      await browser.close();
      browser = undefined;

      assert.equal(await quickstart.stop(), 0, quickstart.output());
      assert.match(quickstart.output(), /identical/);
    } finally {
      await browser?.close().catch(() => {});
      await quickstart?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
