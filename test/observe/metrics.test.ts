// The metrics a pipeline exports after a known workload, scraped from its observe server and parsed
// as Prometheus text: per-table counters by stage, dead letters per table, the latency and apply
// batch histograms, and replication lag that stays 0 while the source is idle.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline, type RunningPipeline } from '../../src/pipeline/run.js';
import { createOutboxWriter } from '../../src/capture/outbox/writer.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { waitFor } from '../support/kafka.js';
import { skipUnless } from '../support/services.js';
import { parsePrometheus, sampleValue } from './prometheus-text.js';
import { statusTable } from './status-text.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

describe('observe metrics after a known workload', { skip: skipUnless(await postgresAvailable(), POSTGRES_WHAT) }, () => {
  let src: ScratchPostgres;
  let dst: ScratchPostgres;
  let pipeline: RunningPipeline | undefined;
  before(async () => {
    src = await scratchPostgres();
    dst = await scratchPostgres();
    const ddl =
      'CREATE TABLE coupon (id bigint PRIMARY KEY, discount numeric(10,2) NOT NULL); CREATE TABLE shop (id bigint PRIMARY KEY, name text NOT NULL)';
    await src.pool.query(ddl);
    await dst.pool.query(`${ddl}; ALTER TABLE coupon ADD CONSTRAINT discount_cap CHECK (discount < 100)`);
  });
  after(async () => {
    await pipeline?.stop();
    await src?.drop();
    await dst?.drop();
  });

  test('per-table counters, dead letters, histograms; lag 0 while idle', { timeout: 120_000 }, async () => {
    const writer = createOutboxWriter({ dialect: 'postgres' });
    await src.pool.query(writer.ddl);
    // 10 coupons (one breaks the target's check), 3 updates of coupons, 4 shops: 17 changes.
    await writer.write(
      src.pool,
      Array.from({ length: 10 }, (_, i) => ({
        table: 'coupon',
        op: 'c' as const,
        row: { id: i + 1, discount: i === 9 ? '500.00' : `${i + 1}.00` },
      })),
    );
    await writer.write(
      src.pool,
      [1, 2, 3].map((id) => ({ table: 'coupon', op: 'u' as const, row: { id, discount: '42.00' } })),
    );
    await writer.write(
      src.pool,
      Array.from({ length: 4 }, (_, i) => ({ table: 'shop', op: 'c' as const, row: { id: i + 1, name: `shop ${i + 1}` } })),
    );
    const cfg = parseConfig({
      name: 'observe-metrics',
      source: { connector: 'outbox', connection: { dialect: 'postgres', url: src.url }, tables: ['coupon', 'shop'], pollIntervalMs: 20 },
      transport: { kind: 'direct' },
      target: { connection: { dialect: 'postgres', url: dst.url } },
      observe: { port: 0 },
    });
    pipeline = await runPipeline(cfg, pino({ level: 'silent' }));
    const p = pipeline;
    await waitFor(() => p.stats.applied + p.stats.deadLettered + p.stats.skipped >= 17, 'the workload applied');
    const scrape = async () => parsePrometheus(await (await fetch(`${p.observeUrl}/metrics`)).text());

    const m = await scrape();
    const total = (name: string, labels: Record<string, string>) => sampleValue(m, name, { pipeline: 'observe-metrics', ...labels });
    assert.equal(total('sluice_table_changes_total', { table: 'public.coupon', stage: 'captured' }), 13);
    assert.equal(total('sluice_table_changes_total', { table: 'public.coupon', stage: 'applied' }), 13);
    assert.equal(total('sluice_table_changes_total', { table: 'public.shop', stage: 'captured' }), 4);
    assert.equal(total('sluice_table_changes_total', { table: 'public.shop', stage: 'applied' }), 4);
    // Direct transport: nothing goes through Kafka.
    assert.equal(total('sluice_table_changes_total', { table: 'public.shop', stage: 'published' }), 0);
    assert.equal(total('sluice_table_dead_letters_total', { table: 'public.coupon' }), 1);
    assert.equal(total('sluice_table_dead_letters_total', { table: 'public.shop' }), 0);
    assert.equal(total('sluice_changes_captured_total', {}), 17);
    assert.equal(total('sluice_changes_dead_lettered_total', {}), 1);
    // Every change through apply is one latency observation; the batch histograms count batches whose sizes sum to 17.
    assert.equal(total('sluice_end_to_end_latency_seconds_count', {}), 17);
    assert.equal(total('sluice_end_to_end_latency_seconds_bucket', { le: '+Inf' }), 17);
    assert.equal(total('sluice_apply_batch_size_sum', {}), 17);
    const batches = total('sluice_apply_batch_size_count', {});
    assert.ok(batches >= 1);
    assert.equal(total('sluice_apply_batch_duration_seconds_count', {}), batches);
    // Buckets are cumulative.
    const buckets = m.filter((s) => s.name === 'sluice_end_to_end_latency_seconds_bucket').map((s) => s.value);
    assert.deepEqual(
      [...buckets].sort((a, b) => a - b),
      buckets,
    );

    // Idle: nothing waits, so lag is 0 now and after the next history sample, not the age of the last change.
    await waitFor(() => p.stats.backlog === 0, 'the outbox emptied');
    assert.equal(total('sluice_replication_lag_seconds', {}), 0);
    const status = (await (await fetch(`${p.observeUrl}/api/status`)).json()) as {
      tables: Array<{ table: string; waiting: number; lagSeconds: number }>;
    };
    assert.deepEqual(
      status.tables.map((t) => [t.table, t.waiting, t.lagSeconds]),
      [
        ['public.coupon', 0, 0],
        ['public.shop', 0, 0],
      ],
    );
    const before = ((await (await fetch(`${p.observeUrl}/api/history`)).json()) as unknown[]).length;
    await waitFor(
      async () => ((await (await fetch(`${p.observeUrl}/api/history`)).json()) as unknown[]).length > before,
      'a history sample taken while idle',
      30_000,
    );
    assert.equal(sampleValue(await scrape(), 'sluice_replication_lag_seconds', { pipeline: 'observe-metrics' }), 0);
    assert.equal(
      sampleValue(await scrape(), 'sluice_table_replication_lag_seconds', { pipeline: 'observe-metrics', table: 'public.coupon' }),
      0,
    );

    // Readiness: up and ready, with the databases reachable.
    const ready = await fetch(`${p.observeUrl}/readyz`);
    assert.equal(ready.status, 200);

    // sluice status reads the same document: per table, applied, dead letters and the lag at each stage.
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'status', '--url', p.observeUrl!], {
      env: { ...process.env, SLUICE_LOG_LEVEL: 'error' },
    });
    assert.match(stdout, /^observe-metrics {2}running, ready/);
    const { head, rows } = statusTable(stdout);
    assert.deepEqual(head, [
      'table',
      'topic',
      'target',
      'captured',
      'published',
      'applied',
      'rate',
      'waiting',
      'dead letters',
      'lag',
      'lag: captured',
      'published',
      'applied',
    ]);
    const coupon = rows.get('public.coupon')!;
    assert.deepEqual([coupon[0], coupon[3], coupon[5], coupon[7], coupon[8]], ['public.coupon', '13', '13', '0', '1']);
    // Nothing waits: 0 at the captured and applied stages; the direct transport has no published stage.
    assert.deepEqual(coupon.slice(10), ['0 ms', '-', '0 ms']);
    assert.deepEqual(rows.get('public.shop')!.slice(10), ['0 ms', '-', '0 ms']);
  });
});
