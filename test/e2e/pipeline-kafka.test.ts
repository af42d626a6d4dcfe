// The persistence test, end to end against real servers: rows of every supported
// column type, at their limits, are written into the source with their outbox rows, read back, sent
// through outbox → Kafka (Avro, embedded registry) → consumer group → generic apply, and the target
// must read back equal. PostgreSQL→PostgreSQL, PostgreSQL→MariaDB, MariaDB→PostgreSQL. Then the
// topic is replayed from offset 0 twice (new consumer groups) and the target must not change.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline, type RunningPipeline } from '../../src/pipeline/run.js';
import { createOutboxWriter } from '../../src/capture/outbox/writer.js';
import { readRows, type DbConnection } from '../../src/metadata/index.js';
import type { Row } from '../../src/core/table-schema.js';
import {
  MYSQL_URL,
  MYSQL_WHAT,
  POSTGRES_WHAT,
  createTableSql,
  mysqlAvailable,
  postgresAvailable,
  scratchMysql,
  scratchPostgres,
  type TestDialect,
} from '../support/databases.js';
import { kafkaSkipReason, startKafka, uniqueName, waitFor, type KafkaCluster } from '../support/kafka.js';
import { ALL_TYPES_ROWS as rows, ALL_TYPES_TABLE as table } from '../support/all-types.js';
import { skipUnless } from '../support/services.js';

interface Side {
  dialect: Exclude<TestDialect, 'pglite'>;
  url: string;
  conn: DbConnection;
  drop(): Promise<void>;
  exec(sql: string, params?: unknown[]): Promise<void>;
  tx(
    fn: (
      c: { query(s: string, p?: unknown[]): Promise<unknown> } | { execute(s: string, p?: unknown[]): Promise<unknown> },
    ) => Promise<void>,
  ): Promise<void>;
}

async function side(dialect: 'postgres' | 'mysql'): Promise<Side> {
  if (dialect === 'postgres') {
    const db = await scratchPostgres();
    return {
      dialect,
      url: db.url,
      conn: { dialect, connection: db.pool },
      drop: db.drop,
      exec: async (sql, params) => void (await db.pool.query(sql, params)),
      tx: async (fn) => {
        const c = await db.pool.connect();
        try {
          await c.query('BEGIN');
          await fn(c);
          await c.query('COMMIT');
        } catch (e) {
          await c.query('ROLLBACK');
          throw e;
        } finally {
          c.release();
        }
      },
    };
  }
  const db = await scratchMysql();
  return {
    dialect,
    url: `${MYSQL_URL.replace(/\/$/, '')}/${db.database}`,
    conn: { dialect, connection: db.pool },
    drop: db.drop,
    exec: async (sql, params) => void (await db.pool.query(sql, params)),
    tx: async (fn) => {
      const c = await db.pool.getConnection();
      try {
        await c.query("SET time_zone = '+00:00'");
        await c.beginTransaction();
        await fn(c);
        await c.commit();
      } catch (e) {
        await c.rollback();
        throw e;
      } finally {
        c.release();
      }
    },
  };
}

/** Inserts the rows into the source table and reads them back: what the source service would hand over. */
async function seedSource(src: Side): Promise<Row[]> {
  await src.exec(createTableSql(src.dialect, table));
  const writer = createOutboxWriter({ dialect: src.dialect });
  await src.exec(writer.ddl);
  const cols = table.columns.map((c) => c.name);
  const q = (n: string) => (src.dialect === 'mysql' ? `\`${n}\`` : `"${n}"`);
  const ph = (i: number) => (src.dialect === 'mysql' ? '?' : `$${i + 1}`);
  const inserts: Array<[string, unknown[]]> = [];
  for (const r of rows) {
    const values = cols.map((c) => {
      const v = r[c];
      if (v === null || v === undefined) return null;
      if (src.dialect === 'mysql' && (c === 'at_utc' || c === 'at_local')) return String(v).replace('T', ' ').replace('Z', '');
      return typeof v === 'bigint' ? v.toString() : v;
    });
    inserts.push([`INSERT INTO ${q('all_types')} (${cols.map(q).join(', ')}) VALUES (${cols.map((_, i) => ph(i)).join(', ')})`, values]);
  }
  await src.tx(async (c) => {
    for (const [sql, values] of inserts) await ('execute' in c ? c.execute(sql, values) : c.query(sql, values));
  });
  const back = await readRows(src.conn, table);
  // The service hands the row images it just wrote to the outbox, in its own transaction.
  await src.tx(async (c) =>
    createOutboxWriter({ dialect: src.dialect }).write(
      c as never,
      back.map((row) => ({ table: 'all_types', op: 'c' as const, row })),
    ),
  );
  return back;
}

const sortById = (a: Row, b: Row) => (BigInt(a.id as bigint) < BigInt(b.id as bigint) ? -1 : 1);

const kafkaSkip = await kafkaSkipReason();
const pgSkip = skipUnless(await postgresAvailable(), POSTGRES_WHAT);
const mySkip = skipUnless(await mysqlAvailable(), MYSQL_WHAT);

describe('capture → Kafka → apply, every column type', { skip: kafkaSkip || pgSkip || mySkip }, () => {
  let kafka: KafkaCluster;
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  const log = pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' });
  before(
    async () => {
      kafka = await startKafka();
    },
    { timeout: 600_000 },
  );
  after(async () => {
    await kafka?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  for (const [from, to] of [
    ['postgres', 'postgres'],
    ['postgres', 'mysql'],
    ['mysql', 'postgres'],
  ] as const) {
    test(`${from} → ${to}: equal after the trip; replaying the topic twice changes nothing`, { timeout: 300_000 }, async () => {
      const src = await side(from);
      const dst = await side(to);
      const running: RunningPipeline[] = [];
      try {
        const expected = (await seedSource(src)).sort(sortById);
        assert.equal(expected.length, rows.length);
        await dst.exec(createTableSql(to, table));
        const topic = uniqueName('e2e');
        const config = (group: string) =>
          parseConfig({
            name: `e2e-${from}-${to}`,
            state: { dataDir: join(stateDir, `${from}-${to}`) },
            source: { connector: 'outbox', connection: { dialect: from, url: src.url }, tables: ['all_types'], pollIntervalMs: 20 },
            transport: { kind: 'kafka', brokers: kafka.brokers, topic, partitions: 3, groupId: group },
            registry: { port: 0 },
            target: { connection: { dialect: to, url: dst.url } },
            apply: { concurrency: 4 },
          });
        const first = await runPipeline(config(uniqueName('g')), log);
        running.push(first);
        await waitFor(async () => (await readRows(dst.conn, table)).length === rows.length, 'all rows applied', 120_000);
        await waitFor(() => first.stats.applied + first.stats.skipped >= rows.length, 'stats caught up', 30_000);
        const applied = (await readRows(dst.conn, table)).sort(sortById);
        assert.deepEqual(applied, expected);
        assert.equal(first.stats.deadLettered, 0);
        await first.stop();

        // Replay: two more consumer groups read the topic from offset 0 and apply everything again.
        for (let i = 0; i < 2; i++) {
          const again = await runPipeline(config(uniqueName('replay')), log);
          running.push(again);
          await waitFor(() => again.stats.applied + again.stats.skipped >= rows.length, `replay ${i + 1} consumed`, 120_000);
          assert.equal(again.stats.applied, 0, 'a replayed change is skipped by the version guard');
          await again.stop();
          assert.deepEqual((await readRows(dst.conn, table)).sort(sortById), expected);
        }
      } finally {
        for (const p of running) await p.stop().catch(() => {});
        await src.drop();
        await dst.drop();
      }
    });
  }
});
