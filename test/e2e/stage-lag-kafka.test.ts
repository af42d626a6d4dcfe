// Each table's lag per stage on the Kafka path (PostgreSQL outbox → Kafka → PostgreSQL), read from
// the observe server while the target is stalled on a row lock: the broker acknowledged the waiting
// change, so its published stage is back at 0 while its applied stage shows the wait, in
// /api/status, in /metrics and in `sluice status`'s columns. Once the lock is released the change
// applies and the applied stage returns to 0.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline, type RunningPipeline } from '../../src/pipeline/run.js';
import { createOutboxWriter } from '../../src/capture/outbox/writer.js';
import type { StatusDocument } from '../../src/observe/status.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { kafkaSkipReason, startKafka, uniqueName, waitFor, type KafkaCluster } from '../support/kafka.js';
import { skipUnless } from '../support/services.js';
import { sluiceCli } from '../support/cli.js';
import { parsePrometheus, sampleValue } from '../observe/prometheus-text.js';
import { statusTable } from '../observe/status-text.js';

const skip = skipUnless(await postgresAvailable(), POSTGRES_WHAT) || (await kafkaSkipReason());

describe('stage lags on the Kafka path', { skip }, () => {
  let kafka: KafkaCluster | undefined;
  let src: ScratchPostgres | undefined;
  let dst: ScratchPostgres | undefined;
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-stage-lag-kafka-'));
  const writer = createOutboxWriter({ dialect: 'postgres' });

  before(
    async () => {
      kafka = await startKafka();
      [src, dst] = await Promise.all([scratchPostgres(), scratchPostgres()]);
      const ddl = 'CREATE TABLE coupon (id bigint PRIMARY KEY, discount numeric(10,2) NOT NULL)';
      await src.pool.query(`${ddl}; ${writer.ddl}`);
      await dst.pool.query(ddl);
    },
    { timeout: 600_000 },
  );
  after(async () => {
    await Promise.all([src?.drop(), dst?.drop()]);
    await kafka?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('a target row locked: published back at 0, applied grows; 0 again once released', { timeout: 180_000 }, async () => {
    const s = src!;
    const d = dst!;
    let pipeline: RunningPipeline | undefined;
    const locker = await d.pool.connect();
    try {
      pipeline = await runPipeline(
        parseConfig({
          name: 'stage-lag-kafka',
          state: { dataDir: stateDir },
          source: { connector: 'outbox', connection: { dialect: 'postgres', url: s.url }, tables: ['coupon'], pollIntervalMs: 20 },
          transport: { kind: 'kafka', brokers: kafka!.brokers, topic: uniqueName('stage-lag'), partitions: 1, groupId: uniqueName('g') },
          registry: { port: 0 },
          target: { connection: { dialect: 'postgres', url: d.url } },
          observe: { port: 0 },
        }),
        pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' }),
      );
      const url = pipeline.observeUrl!;
      const coupon = async () => {
        const doc = (await (await fetch(`${url}/api/status`)).json()) as StatusDocument;
        assert.equal(doc.transport, 'kafka');
        return doc.tables.find((t) => t.table === 'public.coupon')!;
      };
      const target = async () =>
        (await d.pool.query('SELECT discount::text AS d FROM coupon WHERE id = 1')).rows[0]?.d as string | undefined;

      await writer.write(s.pool, [{ table: 'coupon', op: 'c', row: { id: 1, discount: '1.00' } }]);
      await waitFor(async () => (await coupon()).applied === 1, 'the first change applied', 120_000);
      assert.equal(await target(), '1.00');

      // Stall the target: hold the row's lock while the next change of it arrives.
      await locker.query('BEGIN');
      await locker.query('SELECT * FROM coupon WHERE id = 1 FOR UPDATE');
      await writer.write(s.pool, [{ table: 'coupon', op: 'u', row: { id: 1, discount: '2.00' } }]);
      // The broker has it (published), the target does not (applied).
      await waitFor(async () => {
        const c = await coupon();
        return c.published === 2 && c.applied === 1 && c.stageLagSeconds.applied > 0;
      }, 'the update acknowledged by the broker and waiting for the target');
      const stalled = await coupon();
      assert.equal(stalled.stageLagSeconds.published, 0);
      assert.ok(stalled.stageLagSeconds.applied > 0, JSON.stringify(stalled.stageLagSeconds));
      assert.equal(stalled.waiting, 1);
      assert.equal(await target(), '1.00', 'the lock holds the update back');

      // /metrics reads the same gauge, by table and stage.
      const samples = parsePrometheus(await (await fetch(`${url}/metrics`)).text());
      const gauge = (stage: string) =>
        sampleValue(samples, 'sluice_table_stage_lag_seconds', { pipeline: 'stage-lag-kafka', table: 'public.coupon', stage });
      assert.equal(gauge('published'), 0);
      assert.ok(gauge('applied') > 0);

      // sluice status shows it under its columns: the published stage at 0, the applied one not.
      const status = await sluiceCli(['status', '--url', url]);
      const row = statusTable(status.out).rows.get('public.coupon');
      assert.ok(row, status.out);
      assert.deepEqual([row[3], row[4], row[5], row[7]], ['2', '2', '1', '1'], status.out);
      assert.equal(row[11], '0 ms', status.out);
      assert.notEqual(row[12], '0 ms', status.out);
      assert.match(row[12]!, /^\d+(\.\d)? (ms|s|min)$/, status.out);

      await locker.query('COMMIT');
      await waitFor(async () => {
        const c = await coupon();
        return c.applied === 2 && c.stageLagSeconds.applied === 0;
      }, 'the update applied once the lock was released');
      const caughtUp = await coupon();
      assert.deepEqual(caughtUp.stageLagSeconds, { captured: 0, published: 0, applied: 0 });
      assert.equal(await target(), '2.00');
    } finally {
      // The lock first: a pipeline stopping with an apply blocked on it would wait for it.
      await locker.query('ROLLBACK').catch(() => {});
      locker.release();
      await pipeline?.stop().catch(() => {});
    }
  });
});
