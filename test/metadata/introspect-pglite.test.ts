// Introspection and reading rows back on embedded PGlite (one in-memory instance): the shared
// PostgreSQL catalog code through PGlite's client, and its parsers replacing PGlite's lossy
// defaults (int8 as a JS number, bytea as Uint8Array).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PGlite } from '@electric-sql/pglite';
import { isSluiceError } from '../../src/core/errors.js';
import { introspect, readRows, type DbConnection } from '../../src/metadata/index.js';

describe('PGlite table metadata', () => {
  let db: PGlite;
  let conn: DbConnection;
  before(async () => {
    db = await PGlite.create();
    conn = { dialect: 'pglite', connection: db };
    await db.exec(`
      CREATE TABLE t (k2 text, k1 bigint, v numeric(38,10) NOT NULL, b bytea, ts timestamptz(6), PRIMARY KEY (k1, k2));
      CREATE TABLE no_key (x integer);
      CREATE TABLE odd (id integer PRIMARY KEY, span point);
      INSERT INTO t VALUES ('a', 9223372036854775807, '1.5', '\\x00ff', '2024-01-01 00:00:00.000001+00');`);
  });
  after(async () => db?.close());

  test('maps types, nullability and key order; reads int8, numeric, bytea and timestamptz exactly', async () => {
    const t = await introspect(conn, { name: 't' });
    assert.deepEqual(t.primaryKey, ['k1', 'k2']);
    assert.deepEqual(
      t.columns.map((c) => [c.name, c.type.kind, c.nullable]),
      [
        ['k2', 'string', false],
        ['k1', 'int64', false],
        ['v', 'decimal', false],
        ['b', 'bytes', true],
        ['ts', 'timestamptz', true],
      ],
    );
    assert.deepEqual(await readRows(conn, t), [
      { k2: 'a', k1: 9223372036854775807n, v: '1.5000000000', b: Buffer.from([0, 255]), ts: '2024-01-01T00:00:00.000001Z' },
    ]);
    assert.deepEqual(
      await readRows(conn, t, [
        { k1: 9223372036854775807n, k2: 'a' },
        { k1: 1n, k2: 'a' },
      ]),
      await readRows(conn, t),
    );
  });

  test('refuses a table without a key, an unsupported type, a missing table', async () => {
    await assert.rejects(
      introspect(conn, { name: 'no_key' }),
      (e) => isSluiceError(e, 'SLUICE_ERR_SCHEMA_INVALID') && /no primary key/.test(e.message),
    );
    assert.deepEqual((await introspect(conn, { name: 'no_key' }, { keyColumns: ['x'] })).primaryKey, ['x']);
    await assert.rejects(
      introspect(conn, { name: 'odd' }),
      (e) => isSluiceError(e, 'SLUICE_ERR_SCHEMA_INVALID') && e.context.field === 'span',
    );
    await assert.rejects(introspect(conn, { name: 'nope' }), (e) => isSluiceError(e) && /nope does not exist/.test(e.message));
  });
});
