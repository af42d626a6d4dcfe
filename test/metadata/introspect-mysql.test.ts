// Introspection and reading rows back on the machine's MariaDB (scratch database): every mapped
// type (tinyint(1), unsigned widths, MariaDB's JSON-as-longtext, UUID, TIMESTAMP as UTC),
// nullability, key order, refusals, and values read exactly whatever the session's time zone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isSluiceError } from '../../src/core/errors.js';
import { introspect, readRows, readRowsMysql, toMysqlParam, type DbConnection } from '../../src/metadata/index.js';
import { skipUnless } from '../support/services.js';
import { MYSQL_WHAT, mysqlAvailable, scratchMysql, type ScratchMysql } from '../support/databases.js';

const up = await mysqlAvailable();

describe('MariaDB table metadata', { skip: skipUnless(up, MYSQL_WHAT) }, () => {
  let db: ScratchMysql;
  let conn: DbConnection;
  before(async () => {
    db = await scratchMysql({ connectionLimit: 2 });
    conn = { dialect: 'mysql', connection: db.pool };
    for (const sql of [
      `CREATE TABLE every_type (
        a tinyint(1) NOT NULL, b tinyint, c smallint, d smallint unsigned, e mediumint unsigned, f int NOT NULL, g int unsigned,
        h bigint NOT NULL, i bigint unsigned, j float, k double, l decimal(38,10), m bit(1), n char(5), o varchar(20), p text,
        q json, r enum('x','y'), s blob, t varbinary(16), u uuid, v date, w time(6), x datetime(6), y timestamp(6) NULL, z year,
        PRIMARY KEY (h, f, a))`,
      'CREATE TABLE no_key (x int, y text)',
      'CREATE TABLE geo (id int PRIMARY KEY, place point)',
      'CREATE TABLE vals (id int PRIMARY KEY, ts timestamp(6) NULL, dt datetime(6), f float, big bigint unsigned, b tinyint(1), bits bit(1), j json, t time(6))',
    ])
      await db.pool.query(sql);
  });
  after(async () => db?.drop());

  test('maps every supported type, in ordinal order, with nullability and the key in key order', async () => {
    const t = await introspect(conn, { name: 'every_type' });
    assert.equal(t.schema, db.database);
    assert.deepEqual(t.primaryKey, ['h', 'f', 'a']);
    assert.deepEqual(
      t.columns.map((c) => [c.name, c.type, c.nullable]),
      [
        ['a', { kind: 'boolean' }, false],
        ['b', { kind: 'int16' }, true],
        ['c', { kind: 'int16' }, true],
        ['d', { kind: 'int32' }, true],
        ['e', { kind: 'int32' }, true],
        ['f', { kind: 'int32' }, false],
        ['g', { kind: 'int64' }, true],
        ['h', { kind: 'int64' }, false],
        ['i', { kind: 'decimal', precision: 20, scale: 0 }, true],
        ['j', { kind: 'float32' }, true],
        ['k', { kind: 'float64' }, true],
        ['l', { kind: 'decimal', precision: 38, scale: 10 }, true],
        ['m', { kind: 'boolean' }, true],
        ['n', { kind: 'string', maxLength: 5 }, true],
        ['o', { kind: 'string', maxLength: 20 }, true],
        ['p', { kind: 'string' }, true],
        ['q', { kind: 'json' }, true],
        ['r', { kind: 'string' }, true],
        ['s', { kind: 'bytes' }, true],
        ['t', { kind: 'bytes' }, true],
        ['u', { kind: 'uuid' }, true],
        ['v', { kind: 'date' }, true],
        ['w', { kind: 'time' }, true],
        ['x', { kind: 'timestamp' }, true],
        ['y', { kind: 'timestamptz' }, true],
        ['z', { kind: 'int16' }, true],
      ],
    );
  });

  test('a table without a primary key is refused unless key columns are given', async () => {
    await assert.rejects(
      introspect(conn, { name: 'no_key' }),
      (e) => isSluiceError(e, 'SLUICE_ERR_SCHEMA_INVALID') && /no_key has no primary key/.test(e.message) && /keyColumns/.test(e.message),
    );
    assert.deepEqual((await introspect(conn, { name: 'no_key' }, { keyColumns: ['x'] })).primaryKey, ['x']);
    await assert.rejects(
      introspect(conn, { name: 'no_key' }, { keyColumns: ['x', 'zz'] }),
      (e) => isSluiceError(e, 'SLUICE_ERR_SCHEMA_INVALID') && /"zz"/.test(e.message),
    );
  });

  test('an unsupported column type is refused naming table and column; a missing table naming it', async () => {
    await assert.rejects(
      introspect(conn, { name: 'geo' }),
      (e) =>
        isSluiceError(e, 'SLUICE_ERR_SCHEMA_INVALID') &&
        e.context.field === 'place' &&
        /"place" of table .*geo has type point/.test(e.message),
    );
    await assert.rejects(
      introspect(conn, { name: 'missing' }),
      (e) => isSluiceError(e, 'SLUICE_ERR_SCHEMA_INVALID') && /Table missing does not exist/.test(e.message),
    );
  });

  test('reads values exactly: TIMESTAMP as UTC whatever the session zone, FLOAT at full float precision, big unsigned', async () => {
    const t = await introspect(conn, { name: 'vals' });
    const c = await db.pool.getConnection();
    try {
      // Written through the portable parameters, in a UTC session as apply's (set by hand here).
      await c.query("SET time_zone = '+00:00'");
      await c.query('INSERT INTO vals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        1,
        toMysqlParam({ kind: 'timestamptz' }, '2038-01-19T03:14:07.999999Z'),
        toMysqlParam({ kind: 'timestamp' }, '9999-12-31T23:59:59.999999'),
        toMysqlParam({ kind: 'float32' }, 3.4028234663852886e38),
        '18446744073709551615',
        1,
        1,
        '{"a": [1, 2]}',
        '00:00:00.5',
      ]);
      await c.query('INSERT INTO vals VALUES (2, NULL, NULL, 0.1, 0, 0, 0, NULL, NULL)');
      await c.query("SET time_zone = '-08:00'");
      const expected = [
        {
          id: 1,
          ts: '2038-01-19T03:14:07.999999Z',
          dt: '9999-12-31T23:59:59.999999',
          f: 3.4028235e38,
          big: '18446744073709551615',
          b: true,
          bits: true,
          j: '{"a": [1, 2]}',
          t: '00:00:00.500000',
        },
        { id: 2, ts: null, dt: null, f: 0.1, big: '0', b: false, bits: false, j: null, t: null },
      ];
      assert.deepEqual(await readRowsMysql(c, t), expected); // sets the session to UTC itself
      assert.deepEqual(await readRows(conn, t, [{ id: 2 }]), [expected[1]]);
    } finally {
      c.release();
    }
  });
});
