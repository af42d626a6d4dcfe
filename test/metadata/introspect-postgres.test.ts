// Introspection and reading rows back on the machine's PostgreSQL (scratch database): every
// mapped type, nullability, key order, refusals (no key, unsupported type, missing table) and the
// lossless parsers (docs/guarantees.md: lossless-values) whatever the session's TimeZone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { isSluiceError } from '../../src/core/errors.js';
import { introspect, readRows, readRowsPostgres, type DbConnection } from '../../src/metadata/index.js';
import { skipUnless } from '../support/services.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';

const up = await postgresAvailable();

describe('PostgreSQL table metadata', { skip: skipUnless(up, POSTGRES_WHAT) }, () => {
  let db: ScratchPostgres;
  let conn: DbConnection;
  before(async () => {
    db = await scratchPostgres({ max: 2 });
    conn = { dialect: 'postgres', connection: db.pool };
    await db.pool.query(`
      CREATE TYPE mood AS ENUM ('sad', 'ok');
      CREATE DOMAIN positive AS integer NOT NULL CHECK (VALUE > 0);
      CREATE TABLE every_type (
        a smallint NOT NULL, b integer, c bigint NOT NULL, gone text, d real, e double precision, f numeric(38,10), g numeric,
        h boolean, i text, j varchar(20), k char(5), l json, m jsonb, n bytea, o uuid, p date, q time(6), r timestamp(6),
        s timestamptz(6), t mood, u positive, v bigserial,
        PRIMARY KEY (c, a));
      ALTER TABLE every_type DROP COLUMN gone;
      CREATE TABLE no_key (x integer, y text);
      CREATE TABLE odd_types (id integer PRIMARY KEY, span point);
      CREATE TABLE arrays (id integer PRIMARY KEY, tags text[]);
      CREATE SCHEMA "Other Schema";
      CREATE TABLE "Other Schema"."Weird ""Name""" ("key col" integer PRIMARY KEY, "val""ue" text);
      CREATE TABLE times (id integer PRIMARY KEY, ts timestamptz(6), d date, t timestamp(6), big bigint, f4 real, f8 double precision, n numeric(38,10));`);
  });
  after(async () => db?.drop());

  test('maps every supported type, in ordinal order, with nullability and the key in key order', async () => {
    const t = await introspect(conn, { name: 'every_type' });
    assert.equal(t.schema, 'public');
    assert.equal(t.name, 'every_type');
    assert.deepEqual(t.primaryKey, ['c', 'a']);
    assert.deepEqual(
      t.columns.map((c) => [c.name, c.type, c.nullable]),
      [
        ['a', { kind: 'int16' }, false],
        ['b', { kind: 'int32' }, true],
        ['c', { kind: 'int64' }, false],
        ['d', { kind: 'float32' }, true],
        ['e', { kind: 'float64' }, true],
        ['f', { kind: 'decimal', precision: 38, scale: 10 }, true],
        ['g', { kind: 'string' }, true], // numeric without precision: exact text, no decimal(p,s) is safe
        ['h', { kind: 'boolean' }, true],
        ['i', { kind: 'string' }, true],
        ['j', { kind: 'string', maxLength: 20 }, true],
        ['k', { kind: 'string', maxLength: 5 }, true],
        ['l', { kind: 'json' }, true],
        ['m', { kind: 'json' }, true],
        ['n', { kind: 'bytes' }, true],
        ['o', { kind: 'uuid' }, true],
        ['p', { kind: 'date' }, true],
        ['q', { kind: 'time' }, true],
        ['r', { kind: 'timestamp' }, true],
        ['s', { kind: 'timestamptz' }, true],
        ['t', { kind: 'string' }, true], // enum
        ['u', { kind: 'int32' }, false], // domain: its base type; NOT NULL from the domain
        ['v', { kind: 'int64' }, false],
      ],
    );
  });

  test('a table without a primary key is refused unless key columns are given', async () => {
    await assert.rejects(
      introspect(conn, { name: 'no_key' }),
      (e) =>
        isSluiceError(e, 'SLUICE_ERR_SCHEMA_INVALID') &&
        /public\.no_key has no primary key/.test(e.message) &&
        /keyColumns/.test(e.message),
    );
    const t = await introspect(conn, { name: 'no_key' }, { keyColumns: ['y', 'x'] });
    assert.deepEqual(t.primaryKey, ['y', 'x']);
    await assert.rejects(
      introspect(conn, { name: 'no_key' }, { keyColumns: ['nope'] }),
      (e) => isSluiceError(e, 'SLUICE_ERR_SCHEMA_INVALID') && /"nope"/.test(e.message),
    );
    // The override also replaces an existing primary key.
    assert.deepEqual((await introspect(conn, { name: 'every_type' }, { keyColumns: ['v'] })).primaryKey, ['v']);
  });

  test('an unsupported column type is refused naming table and column', async () => {
    await assert.rejects(
      introspect(conn, { name: 'odd_types' }),
      (e) =>
        isSluiceError(e, 'SLUICE_ERR_SCHEMA_INVALID') &&
        e.context.table === 'public.odd_types' &&
        e.context.field === 'span' &&
        /"span".*public\.odd_types.*point/.test(e.message),
    );
    // Arrays (and intervals, network addresses…) travel as PostgreSQL's text.
    assert.deepEqual((await introspect(conn, { name: 'arrays' })).columns.find((c) => c.name === 'tags')?.type, { kind: 'string' });
  });

  test('a missing table is an error naming it', async () => {
    await assert.rejects(
      introspect(conn, { schema: 'public', name: 'missing' }),
      (e) => isSluiceError(e, 'SLUICE_ERR_SCHEMA_INVALID') && /public\.missing does not exist/.test(e.message),
    );
    await assert.rejects(
      introspect(conn, { name: 'every_type', schema: 'Other Schema' }),
      (e) => isSluiceError(e) && /Other Schema\.every_type/.test(e.message),
    );
  });

  test('names with spaces and quotes are quoted everywhere', async () => {
    const t = await introspect(conn, { schema: 'Other Schema', name: 'Weird "Name"' });
    assert.deepEqual(t.primaryKey, ['key col']);
    await db.pool.query(`INSERT INTO "Other Schema"."Weird ""Name""" VALUES (1, 'a'), (2, 'b')`);
    assert.deepEqual(await readRows(conn, t), [
      { 'key col': 1, 'val"ue': 'a' },
      { 'key col': 2, 'val"ue': 'b' },
    ]);
    assert.deepEqual(await readRows(conn, t, [{ 'key col': 2 }, { 'key col': 3 }]), [{ 'key col': 2, 'val"ue': 'b' }]);
  });

  test('reads values without loss, whatever the session TimeZone and float settings of the client', async () => {
    await db.pool.query(`INSERT INTO times VALUES
      (1, '2024-02-29 23:59:59.999999+00', '0044-03-15 BC', '0001-01-01 00:00:00.000001', 9223372036854775807, 3.4028235e38, 0.30000000000000004, '-9999999999999999999999999999.9999999999'),
      (2, '1900-01-01 00:00:00+00', '2024-01-01', '2024-01-01 12:00:00.5', -9223372036854775808, 1e-45, 5e-324, '0.0000000001')`);
    const t = await introspect(conn, { name: 'times' });
    const expected = [
      {
        id: 1,
        ts: '2024-02-29T23:59:59.999999Z',
        d: '-0043-03-15',
        t: '0001-01-01T00:00:00.000001',
        big: 9223372036854775807n,
        f4: 3.4028235e38,
        f8: 0.30000000000000004,
        n: '-9999999999999999999999999999.9999999999',
      },
      {
        id: 2,
        ts: '1900-01-01T00:00:00Z',
        d: '2024-01-01',
        t: '2024-01-01T12:00:00.500000',
        big: -9223372036854775808n,
        f4: 1e-45,
        f8: 5e-324,
        n: '0.0000000001',
      },
    ];
    assert.deepEqual(await readRows(conn, t), expected);
    // A client whose session says Asia/Kolkata (+05:30) and, in 1900, an LMT offset with seconds.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query("SET TimeZone = 'Asia/Kolkata'");
      assert.deepEqual(await readRowsPostgres(client, t), expected);
    } finally {
      await client.end();
    }
  });
});
