// The Sink contract on the machine's PostgreSQL, in a scratch database: COPY stage + guarded
// statement (pg-load.ts), a backend killed mid-batch, a closed pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createSink } from '../../src/apply/index.js';
import type { ChangeEvent } from '../../src/core/change-event.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { readRows } from '../../src/metadata/index.js';
import { skipUnless } from '../support/services.js';
import { createTableSql, POSTGRES_WHAT, postgresAvailable, scratchPostgres } from '../support/databases.js';
import { sinkContract, type SinkHarness } from '../contracts/sink.contract.js';
import { pgFaults } from './faults.js';

const up = await postgresAvailable();

sinkContract('PostgreSQL', { skip: skipUnless(up, POSTGRES_WHAT), canKillSessions: true }, async (): Promise<SinkHarness> => {
  const db = await scratchPostgres({ max: 4 });
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  const exec = async (sql: string) => void (await admin.query(sql));
  return {
    dialect: 'postgres',
    limits: {
      dateMin: '-4712-01-01',
      dateMax: '5874897-12-31',
      timestampMin: '-4712-01-01T00:00:00',
      timestampMax: '294276-12-31T23:59:59.999999',
      timestamptzMin: '-4712-01-01T00:00:00Z',
      timestamptzMax: '294276-12-31T23:59:59.999999Z',
      nonFiniteFloats: true,
      negativeZero: true,
    },
    exec,
    createSink: (o) => createSink({ dialect: 'postgres', connection: db.pool, ...o }),
    readRows: (t) => readRows({ dialect: 'postgres', connection: db.pool }, t),
    ...pgFaults(exec),
    async killSleepingSession() {
      for (;;) {
        const r = await admin.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'");
        if (r.rows.length > 0) {
          for (const { pid } of r.rows) await admin.query('SELECT pg_terminate_backend($1)', [pid]);
          return;
        }
        await new Promise((res) => setTimeout(res, 20));
      }
    },
    closeConnection: () => db.pool.end(),
    async teardown() {
      await admin.end();
      await db.drop();
    },
  };
});

test(
  "a small batch's guarded statement is prepared on its connection and keeps guarding on the cached plan; a staged batch's never is",
  { skip: skipUnless(up, POSTGRES_WHAT) },
  async () => {
    // One connection, so the sink's session is the one inspected. PostgreSQL switches a prepared
    // statement to its generic plan after five runs: the runs past that must still skip stale
    // versions and apply newer ones.
    const db = await scratchPostgres({ max: 1 });
    try {
      const t: TableSchema = {
        name: 'prepared_items',
        primaryKey: ['id'],
        columns: [
          { name: 'id', type: { kind: 'int64' }, nullable: false },
          { name: 'name', type: { kind: 'string' }, nullable: true },
        ],
      };
      await db.pool.query(createTableSql('postgres', t));
      const sink = createSink({ dialect: 'postgres', connection: db.pool, tables: [t] });
      const ev = (id: bigint, name: string, version: bigint): ChangeEvent => ({
        op: 'u',
        table: { name: t.name },
        key: { id },
        after: { id, name },
        source: { connector: 'test', position: String(version) },
        version,
      });
      for (let round = 1n; round <= 8n; round++) {
        // Keys 1..3 move to this round's version; key 1 also gets a stale change, which must lose.
        const res = await sink.apply([
          ev(1n, `r${round}`, round * 10n),
          ev(2n, `r${round}`, round * 10n),
          ev(3n, `r${round}`, round * 10n),
          ev(1n, 'stale', round * 10n - 5n),
        ]);
        assert.deepEqual(res, { applied: 3, skipped: 1, deadLettered: 0 }, `round ${round}`);
      }
      const large = Array.from({ length: 100 }, (_, i) => ev(BigInt(100 + i), 'large', 1n));
      assert.equal((await sink.apply(large)).applied, 100);
      const rows = (await db.pool.query('SELECT id::int AS id, name FROM prepared_items WHERE id < 100 ORDER BY id')).rows;
      assert.deepEqual(rows, [
        { id: 1, name: 'r8' },
        { id: 2, name: 'r8' },
        { id: 3, name: 'r8' },
      ]);
      const prepared = (await db.pool.query('SELECT statement, generic_plans::int AS generic FROM pg_prepared_statements')).rows as Array<{
        statement: string;
        generic: number;
      }>;
      const inline = prepared.filter((p) => p.statement.includes('json_array_elements'));
      assert.equal(inline.length, 1, 'the inline guarded statement is prepared once');
      assert.ok(inline[0]!.generic > 0, 'later runs used the cached generic plan');
      assert.equal(prepared.filter((p) => p.statement.includes('pg_temp.')).length, 0, 'the staged statement is never prepared');
      await sink.close();
    } finally {
      await db.drop();
    }
  },
);

test(
  'a batch costs three round trips: BEGIN travels with the dead-letter check, then the guarded statement, then COMMIT',
  { skip: skipUnless(up, POSTGRES_WHAT) },
  async () => {
    // Over a network every round trip is latency the batch pays. Each client.query call is one
    // (node-postgres sends a query only after the previous one's ReadyForQuery).
    const db = await scratchPostgres({ max: 1 });
    try {
      const sent: string[] = [];
      db.pool.on('connect', (client) => {
        // before the first connection: max 1, so every query below is on it
        const query = client.query.bind(client) as (...a: unknown[]) => unknown;
        (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
          const q = a[0] as string | { text?: string };
          sent.push((typeof q === 'string' ? q : (q.text ?? '')).trim().split(/\s+/).slice(0, 2).join(' '));
          return query(...a);
        };
      });
      await db.pool.query('CREATE TABLE rt_items (id bigint PRIMARY KEY, name varchar(5))');
      const t: TableSchema = {
        name: 'rt_items',
        primaryKey: ['id'],
        columns: [
          { name: 'id', type: { kind: 'int64' }, nullable: false },
          { name: 'name', type: { kind: 'string' }, nullable: true },
        ],
      };
      const sink = createSink({ dialect: 'postgres', connection: db.pool, tables: [t] });
      await sink.prepare();
      const ev = (id: bigint, name: string, version: bigint): ChangeEvent => ({
        op: 'u',
        table: { name: t.name },
        key: { id },
        after: { id, name },
        source: { connector: 'test', position: String(version) },
        version,
      });
      sent.length = 0;
      assert.deepEqual(await sink.apply([ev(1n, 'a', 1n), ev(2n, 'b', 1n)]), { applied: 2, skipped: 0, deadLettered: 0 });
      assert.deepEqual(sent, ['BEGIN; SELECT', 'WITH stage', 'COMMIT']);

      // Key 2's change does not fit its column: dead-lettered, and its key blocked from then on.
      assert.deepEqual(await sink.apply([ev(2n, 'too long', 2n)]), { applied: 0, skipped: 0, deadLettered: 1 });
      // With a dead letter present, the batch's own keys are looked up: one round trip more, and
      // key 2's next change is parked behind its dead letter while key 1 applies.
      sent.length = 0;
      assert.deepEqual(await sink.apply([ev(1n, 'c', 3n), ev(2n, 'd', 3n)]), { applied: 1, skipped: 0, deadLettered: 1 });
      assert.deepEqual(sent.slice(0, 3), ['BEGIN; SELECT', 'SELECT d.table_name', 'WITH stage']);
      assert.equal(sent.at(-1), 'COMMIT');
      const rows = (await db.pool.query('SELECT id::int AS id, name FROM rt_items ORDER BY id')).rows;
      assert.deepEqual(rows, [
        { id: 1, name: 'c' },
        { id: 2, name: 'b' },
      ]);
      const parked = (await db.pool.query('SELECT key_text, status FROM sluice_dead_letters ORDER BY id')).rows.map((r) => r.status);
      assert.deepEqual(parked, ['open', 'parked']);
      await sink.close();
    } finally {
      await db.drop();
    }
  },
);
