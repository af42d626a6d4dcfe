// The PostgreSQL family keeps one version table per target table (pg-family.ts versionTableName),
// created when a sink binds the table; the version guard and tombstones themselves are the sink
// contract's (docs/guarantees.md: set-based-version-guard, tombstones). Real PostgreSQL and PGlite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PGlite } from '@electric-sql/pglite';
import { createSink, type SinkTarget } from '../../src/apply/index.js';
import { versionTableName } from '../../src/apply/dialects/pg-family.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { skipUnless } from '../support/services.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres } from '../support/databases.js';

const items: TableSchema = {
  name: 'items',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'name', type: { kind: 'string' }, nullable: true },
  ],
};

type Query = (sql: string) => Promise<Array<Record<string, unknown>>>;

async function bindsOwnTable(
  target: Extract<SinkTarget, { dialect: 'postgres' | 'pglite' }>,
  exec: (sql: string) => Promise<void>,
  query: Query,
): Promise<void> {
  await exec('CREATE TABLE items (id bigint PRIMARY KEY, name text)');
  const name = versionTableName('public.items');
  for (let i = 0; i < 2; i++) {
    // binding again finds the table and leaves it be
    const sink = createSink({ ...target, tables: [items] });
    try {
      await sink.prepare();
    } finally {
      await sink.close();
    }
    assert.deepEqual(await query(`SELECT obj_description('${name}'::regclass, 'pg_class') AS c`), [
      { c: 'sluice: the last applied version of each key of public.items' },
    ]);
  }
  assert.deepEqual(await query("SELECT to_regclass('sluice_row_versions')::text AS t"), [{ t: null }]);
}

test(
  "PostgreSQL: binding a table creates its own version table, commented with the table's name",
  { skip: skipUnless(await postgresAvailable(), POSTGRES_WHAT) },
  async () => {
    const db = await scratchPostgres({ max: 2 });
    try {
      await bindsOwnTable(
        { dialect: 'postgres', connection: db.pool },
        async (sql) => void (await db.pool.query(sql)),
        async (sql) => (await db.pool.query(sql)).rows,
      );
    } finally {
      await db.drop();
    }
  },
);

test("PGlite: binding a table creates its own version table, commented with the table's name", async () => {
  const db = await PGlite.create();
  try {
    await bindsOwnTable(
      { dialect: 'pglite', connection: db },
      async (sql) => void (await db.exec(sql)),
      async (sql) => (await db.query<Record<string, unknown>>(sql)).rows,
    );
  } finally {
    await db.close();
  }
});

test('version table names are distinct where the target names differ, and fit in an identifier', () => {
  const long = `s.${'x'.repeat(200)}`;
  const names = ['a.b_c', 'a_b.c', 'public.Items', 'public.items', long, `${long}y`].map(versionTableName);
  assert.equal(new Set(names).size, names.length);
  for (const n of names) assert.ok(Buffer.byteLength(n) <= 63 && /^[a-z0-9_]+$/.test(n), n);
});
