// The outbox relay against embedded PGlite and a real PostgreSQL: what commits is relayed once,
// what rolls back never, a row whose seq commits late is still relayed, and only the acknowledged
// batch's rows are deleted (docs/guarantees.md: no-high-water-mark).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { OutboxSource } from '../../../src/capture/outbox/relay.js';
import { createOutboxWriter } from '../../../src/capture/outbox/writer.js';
import { pgOutboxDb, pgliteOutboxDb } from '../../../src/capture/outbox/db.js';
import type { ChangeBatch } from '../../../src/core/contracts.js';
import type { TableSchema } from '../../../src/core/table-schema.js';
import { isSluiceError } from '../../../src/core/errors.js';
import { skipUnless } from '../../support/services.js';
import {
  MYSQL_WHAT,
  POSTGRES_WHAT,
  mysqlAvailable,
  postgresAvailable,
  scratchMysql,
  scratchPostgres,
  type ScratchMysql,
  type ScratchPostgres,
} from '../../support/databases.js';

const coupon: TableSchema = {
  schema: 'public',
  name: 'coupon',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'amount', type: { kind: 'decimal', precision: 10, scale: 2 }, nullable: false },
  ],
};

async function next(it: AsyncIterator<ChangeBatch>): Promise<ChangeBatch> {
  const r = await it.next();
  assert.equal(r.done, false);
  return r.value as ChangeBatch;
}

describe('outbox relay on PGlite', () => {
  let db: PGlite;
  const writer = createOutboxWriter({ dialect: 'pglite' });
  before(async () => {
    db = new PGlite();
    await db.exec(`${writer.ddl}; CREATE TABLE coupon (id bigint primary key, amount numeric(10,2) not null)`);
  });
  after(async () => db.close());

  test('a committed transaction is relayed once with version = seq; a rolled-back one never', async () => {
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO coupon VALUES (1, 5)');
      await writer.write(tx, { table: 'coupon', op: 'c', row: { id: 1, amount: '5.00' }, context: 'create' });
    });
    await db
      .transaction(async (tx) => {
        await tx.query('INSERT INTO coupon VALUES (2, 6)');
        await writer.write(tx, { table: 'coupon', op: 'c', row: { id: 2, amount: '6.00' } });
        await tx.rollback();
      })
      .catch(() => {});
    await db.transaction(async (tx) => {
      await tx.query('DELETE FROM coupon WHERE id = 1');
      await writer.write(tx, { table: 'coupon', op: 'd', key: { id: 1 } });
    });
    const src = new OutboxSource({ name: 'o', db: pgliteOutboxDb(db), tables: [coupon], pollIntervalMs: 10 });
    const it = src.start()[Symbol.asyncIterator]();
    const b = await next(it);
    assert.deepEqual(
      b.events.map((e) => [e.op, e.key.id, e.after?.amount]),
      [
        ['c', 1n, '5.00'],
        ['d', 1n, undefined],
      ],
    );
    assert.ok(b.events[0]!.version < b.events[1]!.version);
    assert.equal(String(b.events[1]!.version), b.position);
    assert.equal(b.events[0]!.source.context, 'create');
    assert.match(b.events[0]!.source.commitTs!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await src.acknowledge(b.position);
    assert.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sluice_outbox')).rows[0]!.n, 0);
    await src.stop();
    await it.return?.();
  });

  test('acknowledging deletes exactly the batch; a new row written meanwhile stays', async () => {
    await db.transaction(async (tx) =>
      writer.write(tx, [
        { table: 'coupon', op: 'c', row: { id: 10, amount: '1' } },
        { table: 'coupon', op: 'c', row: { id: 11, amount: '1' } },
      ]),
    );
    const src = new OutboxSource({ name: 'o', db: pgliteOutboxDb(db), tables: [coupon], pollIntervalMs: 10, batchSize: 1 });
    const it = src.start()[Symbol.asyncIterator]();
    const b1 = await next(it);
    assert.equal(b1.events.length, 1);
    await db.transaction(async (tx) => writer.write(tx, { table: 'coupon', op: 'c', row: { id: 12, amount: '1' } }));
    await src.acknowledge(b1.position);
    const left = (await db.query<{ k: string }>('SELECT key_json AS k, row_json FROM sluice_outbox ORDER BY seq')).rows.length;
    assert.equal(left, 2);
    await assert.rejects(src.acknowledge(b1.position), (e) => isSluiceError(e) && /not the batch in flight/.test(e.message));
    const b2 = await next(it);
    assert.equal(b2.events[0]!.key.id, 11n);
    await src.acknowledge(b2.position);
    const b3 = await next(it);
    assert.equal(b3.events[0]!.key.id, 12n);
    await src.acknowledge(b3.position);
    await src.stop();
    await it.return?.();
  });

  test('regression: rows are relayed in numeric seq order across a digit boundary (9 before 10, not as text)', async () => {
    await db.transaction(async (tx) =>
      writer.write(
        tx,
        Array.from({ length: 25 }, (_, i) => ({ table: 'coupon', op: 'u' as const, row: { id: 7, amount: `${i}.00` } })),
      ),
    );
    const src = new OutboxSource({ name: 'o', db: pgliteOutboxDb(db), tables: [coupon], pollIntervalMs: 10, batchSize: 100 });
    const it = src.start()[Symbol.asyncIterator]();
    const b = await next(it);
    const versions = b.events.map((e) => e.version);
    assert.deepEqual(
      versions,
      [...versions].sort((x, y) => (x < y ? -1 : 1)),
    );
    assert.deepEqual(
      b.events.map((e) => e.after!.amount),
      Array.from({ length: 25 }, (_, i) => `${i}.00`),
    );
    await src.acknowledge(b.position);
    await src.stop();
    await it.return?.();
  });

  test('an outbox row for an unknown table or with a bad value stops the relay with the seq and field named, deleting nothing', async () => {
    await db.transaction(async (tx) => writer.write(tx, { table: 'coupon', op: 'c', row: { id: 20, amount: 'abc' } }));
    const src = new OutboxSource({ name: 'o', db: pgliteOutboxDb(db), tables: [coupon], pollIntervalMs: 10 });
    const it = src.start()[Symbol.asyncIterator]();
    await assert.rejects(
      it.next(),
      (e) => isSluiceError(e, 'SLUICE_ERR_CODEC_VALUE') && /outbox row seq \d+ for coupon: row\.amount/.test(e.message),
    );
    assert.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sluice_outbox')).rows[0]!.n, 1);
    await db.exec('DELETE FROM sluice_outbox');
    await db.transaction(async (tx) => writer.write(tx, { table: 'voucher', op: 'c', row: { id: 1 } }));
    const src2 = new OutboxSource({ name: 'o', db: pgliteOutboxDb(db), tables: [coupon], pollIntervalMs: 10 });
    await assert.rejects(
      src2.start()[Symbol.asyncIterator]().next(),
      (e) => isSluiceError(e, 'SLUICE_ERR_CONFIG') && /table "voucher" is not among source\.tables/.test(e.message),
    );
    await db.exec('DELETE FROM sluice_outbox');
  });
});

describe('outbox relay on PostgreSQL', { skip: skipUnless(await postgresAvailable(), POSTGRES_WHAT) }, () => {
  let db: ScratchPostgres;
  let pool: pg.Pool;
  const writer = createOutboxWriter({ dialect: 'postgres' });
  before(async () => {
    db = await scratchPostgres();
    pool = db.pool;
    await pool.query(`${writer.ddl}; CREATE TABLE coupon (id bigint primary key, amount numeric(10,2) not null)`);
  });
  after(async () => db?.drop());

  // docs/guarantees.md: no-high-water-mark
  test('a transaction that took a lower seq but commits after a higher one is still relayed', async () => {
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      await a.query('BEGIN');
      await writer.write(a, { table: 'coupon', op: 'c', row: { id: 1, amount: '1.00' } }); // takes the lower seq
      await b.query('BEGIN');
      await writer.write(b, { table: 'coupon', op: 'c', row: { id: 2, amount: '2.00' } });
      await b.query('COMMIT');
      const src = new OutboxSource({ name: 'o', db: pgOutboxDb(pool), tables: [coupon], pollIntervalMs: 10 });
      const it = src.start()[Symbol.asyncIterator]();
      const first = await next(it);
      assert.deepEqual(
        first.events.map((e) => e.key.id),
        [2n],
      );
      await src.acknowledge(first.position);
      await a.query('COMMIT'); // the lower seq becomes visible only now
      const second = await next(it);
      assert.deepEqual(
        second.events.map((e) => e.key.id),
        [1n],
      );
      assert.ok(second.events[0]!.version < first.events[0]!.version, 'its version is the lower seq');
      await src.acknowledge(second.position);
      assert.equal((await pool.query('SELECT count(*)::int AS n FROM sluice_outbox')).rows[0].n, 0);
      await src.stop();
      await it.return?.();
    } finally {
      a.release();
      b.release();
    }
  });

  // docs/guarantees.md: outbox-after-business-row
  test('two transactions changing one row: the one that waited for the row lock writes the later seq', async () => {
    await pool.query("INSERT INTO coupon VALUES (5, '0.00')");
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      await a.query('BEGIN');
      await a.query("UPDATE coupon SET amount = '1.00' WHERE id = 5");
      await writer.write(a, { table: 'coupon', op: 'u', row: { id: 5, amount: '1.00' } });
      await b.query('BEGIN');
      const waiting = b.query("UPDATE coupon SET amount = '2.00' WHERE id = 5"); // blocks on a's row lock
      await a.query('COMMIT');
      await waiting;
      await writer.write(b, { table: 'coupon', op: 'u', row: { id: 5, amount: '2.00' } });
      await b.query('COMMIT');
      const src = new OutboxSource({ name: 'o', db: pgOutboxDb(pool), tables: [coupon], pollIntervalMs: 10 });
      const it = src.start()[Symbol.asyncIterator]();
      const batch = await next(it);
      assert.deepEqual(
        batch.events.map((e) => e.after!.amount),
        ['1.00', '2.00'],
      );
      assert.ok(batch.events[0]!.version < batch.events[1]!.version, 'the change committed last has the higher version');
      assert.equal((await pool.query('SELECT amount::text AS a FROM coupon WHERE id = 5')).rows[0].a, '2.00');
      await src.acknowledge(batch.position);
      await src.stop();
      await it.return?.();
    } finally {
      a.release();
      b.release();
    }
  });
});

describe('outbox relay on MariaDB', { skip: skipUnless(await mysqlAvailable(), MYSQL_WHAT) }, () => {
  let db: ScratchMysql;
  let pool: import('mysql2/promise').Pool;
  const writer = createOutboxWriter({ dialect: 'mysql' });
  before(async () => {
    db = await scratchMysql();
    pool = db.pool;
    await pool.query(writer.ddl);
  });
  after(async () => db?.drop());

  test('committed changes are relayed in seq order and deleted after acknowledgement; rolled back ones never', async () => {
    const { mysqlOutboxDb } = await import('../../../src/capture/outbox/db.js');
    const conn = await pool.getConnection();
    await conn.beginTransaction();
    await writer.write(conn, [
      { table: 'coupon', op: 'c', row: { id: '9007199254740993', amount: '1.25' } },
      { table: 'coupon', op: 'u', row: { id: '9007199254740993', amount: '2.50' } },
    ]);
    await conn.commit();
    await conn.beginTransaction();
    await writer.write(conn, { table: 'coupon', op: 'd', key: { id: 5 } });
    await conn.rollback();
    conn.release();
    const src = new OutboxSource({ name: 'o', db: mysqlOutboxDb(pool), tables: [coupon], pollIntervalMs: 10 });
    const it = src.start()[Symbol.asyncIterator]();
    const b = await next(it);
    assert.deepEqual(
      b.events.map((e) => [e.op, e.key.id, e.after?.amount]),
      [
        ['c', 9007199254740993n, '1.25'],
        ['u', 9007199254740993n, '2.50'],
      ],
    );
    assert.match(b.events[0]!.source.commitTs!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await src.acknowledge(b.position);
    const [rows] = await pool.query('SELECT count(*) AS n FROM sluice_outbox');
    assert.equal(Number((rows as Array<{ n: number }>)[0]!.n), 0);
    await src.stop();
    await it.return?.();
  });
});
