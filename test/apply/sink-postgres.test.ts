// The Sink contract on the machine's PostgreSQL, in a scratch database: COPY stage + guarded
// statement (pg-family), a backend killed mid-batch, a closed pool.
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
      dateMin: '-4712-01-01', dateMax: '5874897-12-31',
      timestampMin: '-4712-01-01T00:00:00', timestampMax: '294276-12-31T23:59:59.999999',
      timestamptzMin: '-4712-01-01T00:00:00Z', timestamptzMax: '294276-12-31T23:59:59.999999Z',
      nonFiniteFloats: true, negativeZero: true,
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

test('a small batch\'s guarded statement is prepared on its connection and keeps guarding on the cached plan; a staged batch\'s never is', { skip: skipUnless(up, POSTGRES_WHAT) }, async () => {
  // One connection, so the sink's session is the one inspected. PostgreSQL switches a prepared
  // statement to its generic plan after five runs: the runs past that must still skip stale
  // versions and apply newer ones.
  const db = await scratchPostgres({ max: 1 });
  try {
    const t: TableSchema = { name: 'prepared_items', primaryKey: ['id'], columns: [
      { name: 'id', type: { kind: 'int64' }, nullable: false }, { name: 'name', type: { kind: 'string' }, nullable: true },
    ] };
    await db.pool.query(createTableSql('postgres', t));
    const sink = createSink({ dialect: 'postgres', connection: db.pool, tables: [t] });
    const ev = (id: bigint, name: string, version: bigint): ChangeEvent => ({
      op: 'u', table: { name: t.name }, key: { id }, after: { id, name }, source: { connector: 'test', position: String(version) }, version,
    });
    for (let round = 1n; round <= 8n; round++) {
      // Keys 1..3 move to this round's version; key 1 also gets a stale change, which must lose.
      const res = await sink.apply([ev(1n, `r${round}`, round * 10n), ev(2n, `r${round}`, round * 10n), ev(3n, `r${round}`, round * 10n), ev(1n, 'stale', round * 10n - 5n)]);
      assert.deepEqual(res, { applied: 3, skipped: 1, deadLettered: 0 }, `round ${round}`);
    }
    const large = Array.from({ length: 100 }, (_, i) => ev(BigInt(100 + i), 'large', 1n));
    assert.equal((await sink.apply(large)).applied, 100);
    const rows = (await db.pool.query('SELECT id::int AS id, name FROM prepared_items WHERE id < 100 ORDER BY id')).rows;
    assert.deepEqual(rows, [{ id: 1, name: 'r8' }, { id: 2, name: 'r8' }, { id: 3, name: 'r8' }]);
    const prepared = (await db.pool.query('SELECT statement, generic_plans::int AS generic FROM pg_prepared_statements')).rows as Array<{ statement: string; generic: number }>;
    const inline = prepared.filter((p) => p.statement.includes('json_array_elements'));
    assert.equal(inline.length, 1, 'the inline guarded statement is prepared once');
    assert.ok(inline[0]!.generic > 0, 'later runs used the cached generic plan');
    assert.equal(prepared.filter((p) => p.statement.includes('pg_temp.')).length, 0, 'the staged statement is never prepared');
    await sink.close();
  } finally {
    await db.drop();
  }
});
