// Reconcile on live data: a pipeline (PostgreSQL outbox → direct, and → Kafka) replicates about
// 1,000 changes/s of inserts, updates and deletes on "hot" keys while reconcile --repair runs again
// and again. Before each run, drift is planted on "cold" keys the workload never touches. Every
// run must report exactly the planted rows (rows only behind are re-checked, never reported) and
// repair only them; at the end, with the workload stopped and replication drained, the target
// equals the source, so no repair ever overwrote a replicated change.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { createOutboxWriter, type OutboxChange } from '../../src/capture/outbox/writer.js';
import { openEndpoints, runPipeline, type Endpoints, type RunningPipeline } from '../../src/pipeline/run.js';
import { reconcileFromConfig } from '../../src/pipeline/reconcile.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { kafkaSkipReason, startKafka, uniqueName, waitFor, type KafkaCluster } from '../support/kafka.js';
import { skipUnless } from '../support/services.js';
import { prng } from '../support/prng.js';
import { event, sinkFor } from './fixture.js';

const COLD = 1000; // ids 1..1000: only planted drift touches them (on the target)
const HOT = 4000; // ids 1001..5000 at the start; the workload updates, deletes and inserts above
const RATE = 1000; // changes per second
const DDL = 'CREATE TABLE acct (id bigint PRIMARY KEY, balance bigint NOT NULL, note text, updated_at timestamptz(6) NOT NULL)';
const TABLE: TableSchema = {
  name: 'acct',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'balance', type: { kind: 'int64' }, nullable: false },
    { name: 'note', type: { kind: 'string' }, nullable: true },
    { name: 'updated_at', type: { kind: 'timestamptz' }, nullable: false },
  ],
};

/** Inserts, updates and deletes on hot keys through the outbox, RATE per second, until stopped. */
function startWorkload(pool: pg.Pool, seed: number): { stop(): Promise<number> } {
  const writer = createOutboxWriter({ dialect: 'postgres' });
  const r = prng(seed);
  let stopped = false;
  let nextId = COLD + HOT + 1;
  let changes = 0;
  const loop = (async () => {
    const started = Date.now();
    while (!stopped) {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const out: OutboxChange[] = [];
        for (let i = 0; i < 20; i++) {
          const roll = r();
          if (roll < 0.1) {
            const id = nextId++;
            const row = (
              await c.query(
                'INSERT INTO acct VALUES ($1, 0, $2, clock_timestamp()) RETURNING id::text, balance::text, note, to_char(updated_at AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') AS updated_at',
                [id, `n${id}`],
              )
            ).rows[0];
            out.push({
              table: 'acct',
              op: 'c',
              row: { id: BigInt(row.id), balance: BigInt(row.balance), note: row.note, updated_at: row.updated_at },
            });
          } else {
            const id = COLD + 1 + Math.floor(r() * (nextId - COLD - 1));
            if (roll < 0.15) {
              const del = await c.query('DELETE FROM acct WHERE id = $1', [id]);
              if (del.rowCount) out.push({ table: 'acct', op: 'd', key: { id: BigInt(id) } });
            } else {
              const res = await c.query(
                'UPDATE acct SET balance = balance + 1, updated_at = clock_timestamp() WHERE id = $1 RETURNING id::text, balance::text, note, to_char(updated_at AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') AS updated_at',
                [id],
              );
              const row = res.rows[0];
              if (row)
                out.push({
                  table: 'acct',
                  op: 'u',
                  row: { id: BigInt(row.id), balance: BigInt(row.balance), note: row.note, updated_at: row.updated_at },
                });
            }
          }
        }
        // The outbox row after the business row, in the same transaction
        // (docs/guarantees.md: outbox-after-business-row).
        if (out.length) await writer.write(c, out);
        await c.query('COMMIT');
        changes += out.length;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        c.release();
      }
      const ahead = (changes / RATE) * 1000 - (Date.now() - started);
      if (ahead > 0) await new Promise((res) => setTimeout(res, ahead));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return changes;
    },
  };
}

async function tableHash(pool: pg.Pool): Promise<{ n: number; h: string }> {
  return (
    await pool.query(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(id || ':' || balance || ':' || coalesce(note, '~') || ':' || updated_at::text, ',' ORDER BY id), '')) AS h FROM acct`,
    )
  ).rows[0];
}

function liveCase(name: string, skip: string | false, runs: number, transport: () => Record<string, unknown>) {
  describe(`reconcile --repair during replication at ${RATE} changes/s, ${name}`, { skip }, () => {
    let src: ScratchPostgres;
    let dst: ScratchPostgres;
    let pipeline: RunningPipeline;
    let ep: Endpoints;
    const closers: Array<() => Promise<void>> = [];
    const dir = mkdtempSync(join(tmpdir(), 'sluice-live-'));
    let cfg: ReturnType<typeof parseConfig>;
    before(
      async () => {
        src = await scratchPostgres({ max: 8 });
        dst = await scratchPostgres({ max: 8 });
        await src.pool.query(DDL);
        await dst.pool.query(DDL);
        await src.pool.query(createOutboxWriter({ dialect: 'postgres' }).ddl);
        await src.pool.query(
          `INSERT INTO acct SELECT g, g * 10, 'seed ' || g, '2025-01-01 00:00:00+00'::timestamptz + g * interval '1 second' FROM generate_series(1, ${COLD + HOT}) g`,
        );
        // The initial copy, at version 0 so every replicated change (outbox seq ≥ 1) is newer.
        const seedSink = sinkFor({ dialect: 'postgres', connection: dst.pool }, TABLE);
        const rows = (
          await src.pool.query(
            `SELECT id::text, balance::text, note, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS updated_at FROM acct ORDER BY id`,
          )
        ).rows;
        await seedSink.apply(
          rows.map((x) => event(TABLE, 'c', { id: BigInt(x.id), balance: BigInt(x.balance), note: x.note, updated_at: x.updated_at }, 0n)),
        );
        await seedSink.close();
        cfg = parseConfig({
          name: `live-${name.replace(/\W+/g, '-')}`,
          state: { dataDir: join(dir, 'state') },
          source: {
            connector: 'outbox',
            connection: { dialect: 'postgres', url: src.url },
            tables: ['acct'],
            pollIntervalMs: 20,
            batchSize: 500,
          },
          ...transport(),
          target: { connection: { dialect: 'postgres', url: dst.url } },
          reconcile: { waitTimeoutMs: 30_000, maxRepairShare: 0.05 },
        });
        pipeline = await runPipeline(cfg, pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' }));
        ep = await openEndpoints(cfg, {}, closers);
      },
      { timeout: 300_000 },
    );
    after(async () => {
      await pipeline?.stop();
      for (const c of closers.reverse()) await c().catch(() => {});
      await src?.drop();
      await dst?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test(`${runs} runs report and repair exactly the planted drift; the target ends equal`, { timeout: 600_000 }, async (t0) => {
      const plantSink = sinkFor({ dialect: 'postgres', connection: dst.pool }, TABLE);
      const workload = startWorkload(src.pool, 7);
      const log = pino({ level: 'silent' });
      let inFlight = 0;
      let changes = 0;
      try {
        for (let run = 1; run <= runs; run++) {
          // Planted on cold keys: one missing, two different, two extra (below and above every key).
          const base = run * 20;
          const cold = (
            await src.pool.query(
              `SELECT id::text, balance::text, note, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS updated_at FROM acct WHERE id IN (${base + 1}, ${base + 2}, ${base + 3}) ORDER BY id`,
            )
          ).rows;
          const v = BigInt(run) * 1_000_000_000n;
          await plantSink.apply([
            event(TABLE, 'd', { id: BigInt(cold[0].id) }, v),
            event(
              TABLE,
              'u',
              { id: BigInt(cold[1].id), balance: BigInt(cold[1].balance) + 1n, note: cold[1].note, updated_at: cold[1].updated_at },
              v + 1n,
            ),
            event(
              TABLE,
              'u',
              { id: BigInt(cold[2].id), balance: BigInt(cold[2].balance), note: null, updated_at: cold[2].updated_at },
              v + 2n,
            ),
            event(TABLE, 'c', { id: BigInt(-run), balance: 1n, note: 'extra', updated_at: '2025-01-01T00:00:00Z' }, v + 3n),
            event(TABLE, 'c', { id: 900_000_000n + BigInt(run), balance: 1n, note: 'extra', updated_at: '2025-01-01T00:00:00Z' }, v + 4n),
          ]);
          const report = await reconcileFromConfig(cfg, log, ep, { repair: true });
          const t = report.tables[0]!;
          assert.equal(t.error, undefined, `run ${run}: ${t.error}`);
          const keys = { missing: [...t.keys.missing].sort(), different: [...t.keys.different].sort(), extra: [...t.keys.extra].sort() };
          assert.deepEqual(
            keys,
            {
              missing: [String(base + 1)],
              different: [String(base + 2), String(base + 3)].sort(),
              extra: [String(-run), String(900_000_000 + run)].sort(),
            },
            `run ${run} reported exactly the planted drift (in flight: ${t.inFlight})`,
          );
          assert.deepEqual(
            t.repair,
            { status: 'done', inserted: 1, updated: 2, deleted: 2, skipped: 0 },
            `run ${run} repaired exactly the planted rows`,
          );
          inFlight += t.inFlight;
        }
      } finally {
        changes = await workload.stop();
        await plantSink.close();
      }
      assert.ok(changes > RATE, `the workload ran (${changes} changes)`);
      await waitFor(
        async () => (await src.pool.query('SELECT count(*)::int AS n FROM sluice_outbox')).rows[0].n === 0,
        'outbox drained',
        120_000,
      );
      await waitFor(
        async () => JSON.stringify(await tableHash(src.pool)) === JSON.stringify(await tableHash(dst.pool)),
        'target equal to source',
        120_000,
      );
      t0.diagnostic(`rows re-checked as in flight over all runs: ${inFlight}`);
    });
  });
}

const pgSkip = skipUnless(await postgresAvailable(), POSTGRES_WHAT);
const kafkaSkip = await kafkaSkipReason();

liveCase('direct', pgSkip, 20, () => ({ transport: { kind: 'direct' } }));

describe('with Kafka', { skip: pgSkip || kafkaSkip }, () => {
  let kafka: KafkaCluster;
  before(
    async () => {
      kafka = await startKafka();
    },
    { timeout: 600_000 },
  );
  after(async () => {
    await kafka?.stop();
  });
  liveCase('Kafka', false, 5, () => ({
    transport: { kind: 'kafka', brokers: kafka.brokers, topic: uniqueName('live'), partitions: 3 },
    registry: { port: 0 },
  }));
});
