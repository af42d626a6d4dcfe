// The PostgreSQL family keeps one version table per target table (pg-family.ts versionTableName).
// A database that an earlier release applied to has them all in one shared table: binding a
// table moves its rows over, and the guard then keeps stale changes and tombstones exactly as
// before the move (TRAPS #9, #11). Real PostgreSQL and PGlite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PGlite } from '@electric-sql/pglite';
import { createSink, type SinkTarget } from '../../src/apply/index.js';
import { versionTableName } from '../../src/apply/dialects/pg-family.js';
import type { ChangeEvent } from '../../src/core/change-event.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { skipUnless } from '../support/services.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres } from '../support/databases.js';

const items: TableSchema = { name: 'items', primaryKey: ['id'], columns: [
  { name: 'id', type: { kind: 'int64' }, nullable: false }, { name: 'name', type: { kind: 'string' }, nullable: true },
] };
const other: TableSchema = { ...items, name: 'other' };

const ev = (table: string, id: number, name: string | null, version: number): ChangeEvent => ({
  op: name === null ? 'd' : 'u', table: { name: table }, key: { id: BigInt(id) }, ...(name === null ? {} : { after: { id: BigInt(id), name } }),
  source: { connector: 'test', position: String(version) }, version: BigInt(version),
});

/** The shared version table of earlier releases, as they created it, with some rows in it. */
const LEGACY = `
  CREATE TABLE items (id bigint PRIMARY KEY, name text);
  CREATE TABLE other (id bigint PRIMARY KEY, name text);
  INSERT INTO items VALUES (1, 'one'), (3, 'three');
  CREATE TABLE sluice_row_versions (table_name text COLLATE "C" NOT NULL, key_text text COLLATE "C" NOT NULL,
    version bigint NOT NULL, deleted boolean NOT NULL, PRIMARY KEY (table_name, key_text)) WITH (fillfactor = 80);
  INSERT INTO sluice_row_versions VALUES
    ('public.items', '1', 10, false), ('public.items', '2', 10, true), ('public.items', '3', 5, false),
    ('public.other', '9', 1, false);`;

type Query = (sql: string) => Promise<Array<Record<string, unknown>>>;

async function migrates(target: Extract<SinkTarget, { dialect: 'postgres' | 'pglite' }>, exec: (sql: string) => Promise<void>, query: Query): Promise<void> {
  await exec(LEGACY);
  const sink = createSink({ ...target, tables: [items] });
  try {
    await sink.prepare();
    const moved = await query(`SELECT key_text, version::int AS version, deleted FROM ${versionTableName('public.items')} ORDER BY key_text`);
    assert.deepEqual(moved, [
      { key_text: '1', version: 10, deleted: false }, { key_text: '2', version: 10, deleted: true }, { key_text: '3', version: 5, deleted: false },
    ]);
    // Another table's rows wait in the shared table for a sink that binds it.
    assert.deepEqual(await query('SELECT table_name, key_text FROM sluice_row_versions'), [{ table_name: 'public.other', key_text: '9' }]);

    // An older change loses, a tombstone stops an older update, a newer change wins.
    const r = await sink.apply([ev('items', 1, 'stale', 5), ev('items', 2, 'resurrected', 9), ev('items', 3, 'newer', 6)]);
    assert.deepEqual(r, { applied: 1, skipped: 2, deadLettered: 0 });
    assert.deepEqual(await query('SELECT id::int AS id, name FROM items ORDER BY id'), [{ id: 1, name: 'one' }, { id: 3, name: 'newer' }]);

    // The last table moved: the shared table is gone, and binding again moves nothing twice.
    await sink.prepare([other]);
    assert.deepEqual(await query(`SELECT key_text, version::int AS version FROM ${versionTableName('public.other')}`), [{ key_text: '9', version: 1 }]);
    assert.deepEqual(await query("SELECT to_regclass('sluice_row_versions')::text AS t"), [{ t: null }]);
    const again = createSink({ ...target, tables: [items, other] });
    await again.prepare();
    await again.close();
    assert.deepEqual(await query(`SELECT count(*)::int AS n FROM ${versionTableName('public.items')}`), [{ n: 3 }]);
  } finally {
    await sink.close();
  }
}

test('PostgreSQL: binding a table moves its version rows out of the shared table of earlier releases', { skip: skipUnless(await postgresAvailable(), POSTGRES_WHAT) }, async () => {
  const db = await scratchPostgres({ max: 2 });
  try {
    await migrates({ dialect: 'postgres', connection: db.pool }, async (sql) => void (await db.pool.query(sql)), async (sql) => (await db.pool.query(sql)).rows);
  } finally {
    await db.drop();
  }
});

test('PGlite: binding a table moves its version rows out of the shared table of earlier releases', async () => {
  const db = await PGlite.create();
  try {
    await migrates({ dialect: 'pglite', connection: db }, async (sql) => void (await db.exec(sql)), async (sql) => (await db.query<Record<string, unknown>>(sql)).rows);
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
