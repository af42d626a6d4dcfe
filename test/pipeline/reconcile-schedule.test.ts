// reconcile.every inside `sluice run`: the schedule finds drift planted on the target, repairs it
// (reconcile.repair: true), alerts the generic webhook, and stops with the pipeline.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { durationMs } from '../../src/pipeline/reconcile.js';
import { createTableSql, POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { skipUnless } from '../support/services.js';
import { waitFor } from '../support/kafka.js';
import { event, load, makeRow, sinkFor, sourceIds, TABLE } from '../reconcile/fixture.js';

test('reconcile.every durations', () => {
  assert.equal(durationMs('30m'), 1_800_000);
  assert.equal(durationMs('250ms'), 250);
  assert.equal(durationMs('2h'), 7_200_000);
  assert.throws(() => durationMs('soon'), /reconcile\.every: "soon"/);
  assert.throws(
    () =>
      parseConfig({
        name: 'x',
        source: { connector: 'api', tables: ['t'] },
        transport: { kind: 'direct' },
        target: { connection: { dialect: 'pglite' } },
        reconcile: { every: '5 minutes' },
      }),
    /reconcile\.every/,
  );
});

describe('reconcile on a schedule inside sluice run', { skip: skipUnless(await postgresAvailable(), POSTGRES_WHAT) }, () => {
  let src: ScratchPostgres;
  let dst: ScratchPostgres;
  let hook: Server;
  const payloads: Array<{ event: string; tables: Array<{ missing: number; repair: { status: string } }> }> = [];
  const dir = mkdtempSync(join(tmpdir(), 'sluice-schedule-'));
  before(async () => {
    src = await scratchPostgres();
    dst = await scratchPostgres();
    await src.pool.query(createTableSql('postgres', TABLE));
    await dst.pool.query(createTableSql('postgres', TABLE));
    const rows = sourceIds(300).map((id) => makeRow(id));
    for (const [conn, drop] of [
      [src.pool, false],
      [dst.pool, true],
    ] as const) {
      const sink = sinkFor({ dialect: 'postgres', connection: conn });
      await load(sink, rows);
      if (drop) await sink.apply([event(TABLE, 'd', rows[5]!, 10n ** 12n)]);
      await sink.close();
    }
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        payloads.push(JSON.parse(body));
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    hook?.close();
    await src?.drop();
    await dst?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('finds, repairs and reports the drift, then stops with the pipeline', { timeout: 60_000 }, async () => {
    const pipeline = await runPipeline(
      parseConfig({
        name: 'scheduled',
        state: { dataDir: join(dir, 'state') },
        source: { connector: 'outbox', connection: { dialect: 'postgres', url: src.url }, tables: [TABLE.name], pollIntervalMs: 50 },
        transport: { kind: 'direct' },
        target: { connection: { dialect: 'postgres', url: dst.url } },
        reconcile: {
          every: '300ms',
          repair: true,
          alert: { webhook: { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/drift` } },
        },
      }),
      pino({ level: 'silent' }),
    );
    try {
      await waitFor(() => payloads.length > 0, 'the scheduled run alerted', 30_000);
      assert.equal(payloads[0]!.event, 'sluice.reconcile.drift');
      assert.equal(payloads[0]!.tables[0]!.missing, 1);
      assert.equal(payloads[0]!.tables[0]!.repair.status, 'done');
      await waitFor(
        async () => (await dst.pool.query('SELECT count(*)::int AS n FROM drift_all')).rows[0].n === 297,
        'the missing row repaired',
        10_000,
      );
    } finally {
      await pipeline.stop();
    }
    // Later runs find nothing, so nothing more is sent.
    const sent = payloads.length;
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(payloads.length, sent, 'no run after stop');
  });
});
