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
import type { Row, TableSchema } from '../../src/core/table-schema.js';
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
import { skipUnless } from '../support/services.js';

const table: TableSchema = {
  name: 'all_types',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'i16', type: { kind: 'int16' }, nullable: true },
    { name: 'i32', type: { kind: 'int32' }, nullable: true },
    { name: 'i64', type: { kind: 'int64' }, nullable: true },
    { name: 'f64', type: { kind: 'float64' }, nullable: true },
    { name: 'dec', type: { kind: 'decimal', precision: 38, scale: 10 }, nullable: true },
    { name: 'flag', type: { kind: 'boolean' }, nullable: true },
    { name: 'label', type: { kind: 'string', maxLength: 100 }, nullable: true },
    { name: 'body', type: { kind: 'string' }, nullable: true },
    { name: 'raw', type: { kind: 'bytes' }, nullable: true },
    { name: 'day', type: { kind: 'date' }, nullable: true },
    { name: 'at_local', type: { kind: 'timestamp' }, nullable: true },
    { name: 'at_utc', type: { kind: 'timestamptz' }, nullable: true },
    { name: 'clock', type: { kind: 'time' }, nullable: true },
    { name: 'doc', type: { kind: 'json' }, nullable: true },
    { name: 'uid', type: { kind: 'uuid' }, nullable: true },
  ],
};

// Limits every engine in the matrix can hold (MariaDB DATETIME starts at year 1000, TIMESTAMP spans 1970–2038).
const rows: Record<string, unknown>[] = [
  {
    id: 1,
    i16: -32768,
    i32: 2147483647,
    i64: '9223372036854775807',
    f64: 1.7976931348623157e308,
    dec: '9999999999999999999999999999.9999999999',
    flag: true,
    label: 'ü€ 𝄞 日本',
    body: 'x'.repeat(5000),
    raw: Buffer.from([0, 255, 1, 254]),
    day: '1000-01-01',
    at_local: '9999-12-31T23:59:59.999999',
    at_utc: '2038-01-19T03:14:07.999999Z',
    clock: '23:59:59.999999',
    doc: '{"a": [1, 2.5, "ü"], "b": null}',
    uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  },
  {
    id: 2,
    i16: 32767,
    i32: -2147483648,
    i64: '-9223372036854775808',
    f64: -4.9e-324,
    dec: '-0.0000000001',
    flag: false,
    label: '',
    body: '',
    raw: Buffer.alloc(0),
    day: '9999-12-31',
    at_local: '1000-01-01T00:00:00',
    at_utc: '1970-01-01T00:00:01.000001Z',
    clock: '00:00:00',
    doc: '[]',
    uid: '00000000-0000-0000-0000-000000000000',
  },
  {
    id: 3,
    i16: null,
    i32: null,
    i64: null,
    f64: null,
    dec: null,
    flag: null,
    label: null,
    body: null,
    raw: null,
    day: null,
    at_local: null,
    at_utc: null,
    clock: null,
    doc: null,
    uid: null,
  },
  {
    id: 9007199254740993n,
    i16: 0,
    i32: 0,
    i64: '9007199254740993',
    f64: 0.1,
    dec: '0.5000000000',
    flag: true,
    label: 'null',
    body: 'NULL',
    raw: Buffer.from('null'),
    day: '2024-02-29',
    at_local: '2024-02-29T12:00:00.000001',
    at_utc: '2024-02-29T12:00:00.5Z',
    clock: '12:30:00.000001',
    doc: '{"nested": {"deep": [true, false]}}',
    uid: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
  },
];

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
