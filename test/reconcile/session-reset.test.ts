// Reconcile borrows sessions from the caller's pool (the pipeline's, under `sluice run`) and sets
// them up for canonical text (time zone, DateStyle, work_mem, no parallel workers). A session it
// returns must carry none of that: the pipeline would otherwise apply with reconcile's settings.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openSide } from '../../src/reconcile/side.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import {
  MYSQL_WHAT,
  mysqlAvailable,
  POSTGRES_WHAT,
  postgresAvailable,
  scratchMysql,
  scratchPostgres,
  type ScratchMysql,
  type ScratchPostgres,
} from '../support/databases.js';
import { skipUnless } from '../support/services.js';

const pgUp = await postgresAvailable();
const myUp = await mysqlAvailable();
const TABLE: TableSchema = { name: 'sr', primaryKey: ['id'], columns: [{ name: 'id', type: { kind: 'int64' }, nullable: false }] };
const stats = () => ({ queries: 0, bytes: 0, rechecks: 0, waitMs: 0 });

describe('reconcile sessions go back to the pool as they came, PostgreSQL', { skip: skipUnless(pgUp, POSTGRES_WHAT) }, () => {
  let db: ScratchPostgres;
  before(async () => {
    db = await scratchPostgres({ max: 1 });
  });
  after(() => db?.drop());

  test('work_mem, DateStyle, parallel workers are the defaults again after close()', async () => {
    const show = async () =>
      (
        await db.pool.query(
          "SELECT current_setting('work_mem') AS w, current_setting('DateStyle') AS d, current_setting('max_parallel_workers_per_gather') AS p",
        )
      ).rows[0];
    const before = await show();
    const side = openSide({
      role: 'source',
      conn: { dialect: 'postgres', connection: db.pool },
      table: TABLE,
      columns: ['id'],
      keyColumns: ['id'],
      stats: stats(),
      sessions: 1,
    });
    const inside = await side.query<{ w: string; p: string }>(
      "SELECT current_setting('work_mem') AS w, current_setting('max_parallel_workers_per_gather') AS p",
      [],
    );
    assert.deepEqual(inside[0], { w: '64MB', p: '0' }, 'set while reconcile holds the session');
    await side.close();
    // The pool has one connection: it is the one reconcile used.
    assert.deepEqual(await show(), before);
  });
});

describe('reconcile sessions go back to the pool as they came, MariaDB', { skip: skipUnless(myUp, MYSQL_WHAT) }, () => {
  let db: ScratchMysql;
  before(async () => {
    db = await scratchMysql({ connectionLimit: 1 });
  });
  after(() => db?.drop());

  test('the session time zone is the server default again after close()', async () => {
    const show = async () => ((await db.pool.query('SELECT @@session.time_zone AS tz'))[0] as Array<{ tz: string }>)[0]!.tz;
    const before = await show();
    const side = openSide({
      role: 'source',
      conn: { dialect: 'mysql', connection: db.pool },
      table: TABLE,
      columns: ['id'],
      keyColumns: ['id'],
      stats: stats(),
      sessions: 1,
    });
    assert.equal((await side.query<{ tz: string }>('SELECT @@session.time_zone AS tz', []))[0]!.tz, '+00:00');
    await side.close();
    assert.equal(await show(), before);
  });
});
