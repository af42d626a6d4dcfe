// The dashboard's Snapshots page in headless Chromium (Debian's /usr/bin/chromium, no browser
// downloaded) against a PostgreSQL log-capture pipeline: the initial snapshots show as done; an
// incremental snapshot started from the page, paused, resumed and finished repairs rows deleted
// on the target; a second one is cancelled where it is. The target table is locked while a
// chunk is in flight, so the pause and the cancel land between two chunks whatever the speed of
// the machine. Without the token nothing is requested.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import type pg from 'pg';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline, type RunningPipeline } from '../../src/pipeline/run.js';
import { POSTGRES_WHAT, postgresLogicalAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { waitFor } from '../support/kafka.js';
import { skipUnless } from '../support/services.js';
import { CHROMIUM, CHROMIUM_ARGS, SHOTS, useToken } from './dashboard-browser.js';

// Functions given to page.waitForFunction run in the page, where `document` exists (tsconfig has no DOM lib).
declare const document: { querySelector(selector: string): { textContent: string | null } | null };

const TOKEN = 'dashboard-snapshots-token';
const ROWS = 20_000;
const ready = (await postgresLogicalAvailable()) && existsSync(CHROMIUM);
const why = `${POSTGRES_WHAT} with wal_level=logical and Chromium at ${CHROMIUM}`;

describe('dashboard: snapshots', { skip: skipUnless(ready, why) }, () => {
  let src: ScratchPostgres;
  let dst: ScratchPostgres;
  let state: ScratchPostgres;
  let pipeline: RunningPipeline | undefined;
  let browser: Browser | undefined;
  const logs: Array<{ msg: string; table?: string; rows?: number }> = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, cb) {
        for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
        cb();
      },
    }),
  );
  const logged = (msg: string, table: string) =>
    waitFor(() => logs.some((l) => l.msg === msg && l.table === table), `log "${msg}" for ${table}`);

  before(async () => {
    [src, dst, state] = await Promise.all([scratchPostgres(), scratchPostgres(), scratchPostgres()]);
    for (const t of ['coupon', 'voucher']) {
      await src.pool.query(`CREATE TABLE ${t} (id bigint PRIMARY KEY, code text NOT NULL)`);
      await dst.pool.query(`CREATE TABLE ${t} (id bigint PRIMARY KEY, code text NOT NULL)`);
      await src.pool.query(`INSERT INTO ${t} SELECT g, 'C' || g FROM generate_series(1, ${ROWS}) g`);
      await src.pool.query(`ANALYZE ${t}`); // the planner's estimate sizes the progress bars
    }
    pipeline = await runPipeline(
      parseConfig({
        name: 'dashboard-snapshots',
        source: {
          connector: 'postgres',
          connection: { dialect: 'postgres', url: src.url },
          tables: ['coupon', 'voucher'],
          snapshotChunkRows: 1000,
          statusIntervalMs: 200,
        },
        transport: { kind: 'direct' },
        target: { connection: { dialect: 'postgres', url: dst.url } },
        state: { url: state.url },
        observe: { port: 0, token: TOKEN },
      }),
      log,
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await pipeline?.stop().catch(() => {});
    await Promise.all([src?.drop(), dst?.drop(), state?.drop()]);
  });

  const count = async (t: string) => (await dst.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`)).rows[0]!.n;
  const progress = async (t: string) =>
    JSON.parse(
      (
        await state.pool.query<{ value_json: string }>(
          `SELECT value_json FROM sluice_source_progress WHERE pipeline = 'dashboard-snapshots' AND item = $1`,
          [`incremental:public.${t}`],
        )
      ).rows[0]!.value_json,
    ) as { rows: number; done: boolean; cancelled?: boolean };
  const row = (page: Page, t: string) => page.locator(`#sn-list tr[data-kind="incremental"][data-table="public.${t}"]`);
  /** Holds an exclusive lock on a target table until the returned function runs: the chunk in flight waits for it. */
  const lockTarget = async (t: string): Promise<() => Promise<void>> => {
    const c: pg.PoolClient = await dst.pool.connect();
    await c.query('BEGIN');
    await c.query(`LOCK TABLE ${t} IN ACCESS EXCLUSIVE MODE`);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await c.query('COMMIT').catch(() => {});
      c.release();
    };
  };

  test('start, pause, resume and finish an incremental snapshot from the page; cancel another', { timeout: 300_000 }, async () => {
    const url = pipeline!.observeUrl!;
    await waitFor(async () => (await count('coupon')) === ROWS && (await count('voucher')) === ROWS, 'the initial snapshots applied');
    // Drift the re-reads repair: rows lost on the target behind sluice's back.
    await dst.pool.query('DELETE FROM coupon WHERE id % 10 = 3; DELETE FROM voucher WHERE id % 10 = 3');

    // Without the token nothing is requested.
    for (const [path, body] of [
      ['/api/snapshots', { table: 'coupon' }],
      ['/api/snapshots/public.coupon/pause', {}],
    ] as const) {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 401, path);
    }
    assert.deepEqual(
      ((await (await fetch(`${url}/api/snapshots`)).json()) as { snapshots: Array<{ kind: string }> }).snapshots.filter(
        (s) => s.kind === 'incremental',
      ),
      [],
    );

    const page = await browser!.newPage({ viewport: { width: 1280, height: 700 } });
    page.on('dialog', (d) => void d.accept());
    let unlock: (() => Promise<void>) | undefined;
    try {
      await page.goto(`${url}/#snapshots`);
      await useToken(page, TOKEN);
      // The initial snapshots, done, full bars.
      for (const t of ['coupon', 'voucher'])
        await page.waitForSelector(`#sn-list tr[data-kind="initial"][data-table="public.${t}"][data-state="done"]`);
      assert.match(await page.locator('#sn-list tr[data-kind="initial"][data-table="public.coupon"]').innerText(), /100%\s+20,000/);

      // Start: the first chunk waits on the locked target, so the pause comes before the second.
      unlock = await lockTarget('coupon');
      await page.selectOption('#sn-table', 'public.coupon');
      await page.click('#sn-start');
      await page.waitForSelector('#sn-result.ok');
      await logged('incremental snapshot starts', 'public.coupon');
      await row(page, 'coupon').locator('button[data-action="pause"]').click();
      await page.waitForSelector('#sn-list tr[data-table="public.coupon"][data-state="paused"]');
      await unlock();
      await logged('incremental snapshot paused', 'public.coupon');
      const paused = await progress('coupon');
      assert.deepEqual([paused.rows, paused.done], [1000, false]);
      await page.reload();
      await page.waitForFunction(() =>
        document.querySelector('#sn-list tr[data-state="paused"]')?.textContent?.includes('1,000 / ~20,000'),
      );
      assert.equal(await row(page, 'coupon').locator('button[data-action="resume"]').isEnabled(), true);
      assert.equal(await row(page, 'coupon').locator('button[data-action="pause"]').isEnabled(), false);
      assert.match((await row(page, 'coupon').locator('.progress div').getAttribute('style')) ?? '', /width:5%/);
      await page.screenshot({ path: new URL('snapshots.png', SHOTS).pathname, fullPage: true });

      // Resume: it goes on after its last chunk and finishes; the lost rows are back.
      await row(page, 'coupon').locator('button[data-action="resume"]').click();
      await page.waitForSelector('#sn-list tr[data-kind="incremental"][data-table="public.coupon"][data-state="done"]', {
        timeout: 240_000,
      });
      await logged('incremental snapshot finished', 'public.coupon');
      assert.equal(await count('coupon'), ROWS);
      assert.ok(logs.some((l) => l.msg === 'incremental snapshot resumes' && l.table === 'public.coupon' && l.rows === 1000));

      // A second one, cancelled after its first chunk: the rows copied stay, the rest are not read.
      unlock = await lockTarget('voucher');
      await page.selectOption('#sn-table', 'public.voucher');
      await page.click('#sn-start');
      await logged('incremental snapshot starts', 'public.voucher');
      await row(page, 'voucher').locator('button[data-action="cancel"]').click();
      await page.waitForSelector('#sn-result.ok');
      await unlock();
      await logged('incremental snapshot cancelled', 'public.voucher');
      await page.waitForSelector('#sn-list tr[data-table="public.voucher"][data-state="cancelled"]');
      const cancelled = await progress('voucher');
      assert.deepEqual([cancelled.rows, cancelled.cancelled], [1000, true]);
      assert.ok((await count('voucher')) < ROWS, 'the rows after the first chunk were not copied');
      const res = await fetch(`${url}/api/snapshots/public.voucher/resume`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(res.status, 409);
      assert.match(((await res.json()) as { error: string }).error, /cancelled, not paused/);
    } finally {
      await unlock?.();
      await page.close().catch(() => {});
    }
  });
});
