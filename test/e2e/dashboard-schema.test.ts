// The source tables' schema history on the dashboard's Registry page, in headless Chromium
// (Debian's /usr/bin/chromium, no browser downloaded), against a PostgreSQL log-capture pipeline
// with target.evolve: a column added at the source and a column widened on both sides each show
// as one entry of their table, with the source position, the columns added or retyped and whether
// the target evolved. GET /api/schema-history answers the same from the pipeline's observe server
// and from `sluice dashboard`, one table's entries with ?table=, and 400 for a table not carried.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline, type RunningPipeline } from '../../src/pipeline/run.js';
import { POSTGRES_WHAT, postgresLogicalAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { waitFor } from '../support/kafka.js';
import { skipUnless } from '../support/services.js';
import { spawnSluice, type SluiceProcess } from '../support/cli.js';
import { CHROMIUM, CHROMIUM_ARGS, SHOTS } from './dashboard-browser.js';

const ready = (await postgresLogicalAvailable()) && existsSync(CHROMIUM);
const why = `${POSTGRES_WHAT} with wal_level=logical and Chromium at ${CHROMIUM}`;

interface Change {
  table: string;
  position: string;
  added: Array<{ name: string; type: { kind: string } }>;
  dropped: string[];
  retyped: Array<{ name: string; from: { kind: string }; to: { kind: string } }>;
  targetEvolved: boolean;
  recordedAt: string | null;
}

describe('dashboard: schema history', { skip: skipUnless(ready, why) }, () => {
  let src: ScratchPostgres;
  let dst: ScratchPostgres;
  let state: ScratchPostgres;
  let pipeline: RunningPipeline | undefined;
  let browser: Browser | undefined;
  let dir: string | undefined;
  let raw: Record<string, unknown>;

  before(async () => {
    [src, dst, state] = await Promise.all([scratchPostgres(), scratchPostgres(), scratchPostgres()]);
    for (const t of ['gauge', 'quiet']) {
      await src.pool.query(`CREATE TABLE ${t} (id bigint PRIMARY KEY, n integer)`);
      await dst.pool.query(`CREATE TABLE ${t} (id bigint PRIMARY KEY, n integer)`);
    }
    raw = {
      name: 'dashboard-schema',
      source: {
        connector: 'postgres',
        connection: { dialect: 'postgres', url: src.url },
        tables: ['gauge', 'quiet'],
        statusIntervalMs: 200,
      },
      transport: { kind: 'direct' },
      target: { connection: { dialect: 'postgres', url: dst.url }, evolve: true },
      state: { url: state.url },
      observe: { port: 0, token: 'dashboard-schema-token' },
    };
    pipeline = await runPipeline(parseConfig(raw), pino({ level: 'silent' }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    dir = mkdtempSync(join(tmpdir(), 'sluice-dashboard-schema-'));
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await pipeline?.stop().catch(() => {});
    await Promise.all([src?.drop(), dst?.drop(), state?.drop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Until the target evolves, the new column is not there to read.
  const target = async (sql: string) =>
    (
      await dst.pool.query<Record<string, string | null>>(sql).catch((err: { code?: string }) => {
        if (err.code === '42703') return { rows: [] };
        throw err;
      })
    ).rows[0];
  const history = async (base: string, query = '') => {
    const res = await fetch(`${base}/api/schema-history${query}`);
    return { status: res.status, body: (await res.json()) as { tables: string[]; changes: Change[]; error?: string; field?: string } };
  };

  test('a column added and a column retyped show per table on the Registry page', { timeout: 180_000 }, async () => {
    const url = pipeline!.observeUrl!;
    await src.pool.query(`INSERT INTO gauge VALUES (1, 1)`);
    await waitFor(async () => (await target('SELECT n::text FROM gauge WHERE id = 1'))?.n === '1', 'the first row applied');
    assert.deepEqual((await history(url)).body, { tables: ['public.gauge', 'public.quiet'], changes: [] });

    await src.pool.query(`ALTER TABLE gauge ADD COLUMN label text`);
    await src.pool.query(`INSERT INTO gauge VALUES (2, 2, 'two')`);
    await waitFor(async () => (await target('SELECT label FROM gauge WHERE id = 2'))?.label === 'two', 'the new column applied');
    // The operator widens the column on both sides, the target's first, as a migration would.
    await dst.pool.query(`ALTER TABLE gauge ALTER COLUMN n TYPE bigint`);
    await src.pool.query(`ALTER TABLE gauge ALTER COLUMN n TYPE bigint`);
    await src.pool.query(`INSERT INTO gauge VALUES (3, 5000000000, 'three')`);
    await waitFor(async () => (await target('SELECT n::text FROM gauge WHERE id = 3'))?.n === '5000000000', 'the wide value applied');

    const all = (await history(url)).body.changes;
    assert.deepEqual(
      all.map((c) => [
        c.table,
        c.added.map((a) => `${a.name} ${a.type.kind}`),
        c.dropped,
        c.retyped.map((r) => `${r.name} ${r.from.kind}→${r.to.kind}`),
        c.targetEvolved,
      ]),
      [
        ['public.gauge', ['label string'], [], [], true],
        ['public.gauge', [], [], ['n int32→int64'], true],
      ],
    );
    for (const c of all) {
      assert.ok(c.position !== '', 'a source position');
      assert.ok(c.recordedAt && !Number.isNaN(Date.parse(c.recordedAt)), String(c.recordedAt));
    }
    assert.deepEqual((await history(url, '?table=gauge')).body.changes, all);
    assert.deepEqual((await history(url, '?table=public.quiet')).body.changes, []);
    const refused = await history(url, '?table=nowhere');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.field, 'table');

    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await page.goto(`${url}/#registry`);
      const rows = page.locator('#schema-history tbody tr[data-table="public.gauge"]');
      await rows.nth(1).waitFor();
      assert.equal(await rows.count(), 2);
      assert.match(await page.locator('#schema-history tbody tr.group').first().innerText(), /public\.gauge \(2 changes\)/);
      assert.equal(await rows.nth(0).getAttribute('data-position'), all[0]!.position);
      const first = await rows.nth(0).innerText();
      assert.ok(first.includes(all[0]!.position), first);
      assert.match(first, /\+ label string/);
      assert.match(first, /\bevolved/);
      assert.match(await rows.nth(1).innerText(), /n int32 → int64/);
      await page.screenshot({ path: new URL('schema-history.png', SHOTS).pathname, fullPage: true });

      // One table at a time: the quiet one has none.
      await page.selectOption('#sh-table', 'public.quiet');
      await page.locator('#schema-history tbody td', { hasText: 'no schema change recorded' }).waitFor();
      assert.equal(await rows.count(), 0);
    } finally {
      await page.close().catch(() => {});
    }

    // `sluice dashboard` reads the same history from the state store.
    const cfgFile = join(dir!, 'sluice.yaml');
    writeFileSync(cfgFile, JSON.stringify({ ...raw, observe: { host: '127.0.0.1', port: Number(new URL(url).port) } }));
    let dashboard: SluiceProcess | undefined;
    try {
      dashboard = spawnSluice(['dashboard', '-c', cfgFile]);
      const served = await dashboard.line();
      assert.deepEqual((await history(served)).body.changes, all);
      assert.equal(
        ((await (await fetch(`${served}/api/status`)).json()) as { features: { schemaHistory: boolean } }).features.schemaHistory,
        true,
      );
      assert.equal(await dashboard.stop(), 0, dashboard.output());
    } finally {
      await dashboard?.kill();
    }
  });
});
