// Repair goes through the sink's version guard: it locks the keys' version rows, reads the source
// under the lock, writes, and keeps each key's stored version. So a replicated change that arrives
// while a repair runs waits for it and then wins; one that is no newer than what was applied stays
// skipped; a key never applied gets a placeholder version every real change beats.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Row } from '../../src/core/table-schema.js';
import { readRows, MYSQL_SESSION_SQL } from '../../src/metadata/index.js';
import type { DbConnection } from '../../src/metadata/types.js';
import type { SqlSink } from '../../src/apply/index.js';
import {
  createTableSql,
  MYSQL_WHAT,
  mysqlAvailable,
  POSTGRES_WHAT,
  postgresAvailable,
  scratchMysql,
  scratchPostgres,
} from '../support/databases.js';
import { skipUnless } from '../support/services.js';
import { versionTableName } from '../../src/apply/dialects/pg-family.js';
import { event, makeRow, sinkFor, TABLE } from './fixture.js';

function repairCase(
  name: string,
  skip: string | false,
  open: () => Promise<{ conn: DbConnection; versionOf(key: string): Promise<bigint | undefined>; close(): Promise<void> }>,
) {
  describe(`repair through the version guard, ${name}`, { skip }, () => {
    let env: Awaited<ReturnType<typeof open>>;
    let repairer: SqlSink;
    let replicator: SqlSink;
    before(async () => {
      env = await open();
      repairer = sinkFor(env.conn);
      replicator = sinkFor(env.conn);
      await replicator.apply([event(TABLE, 'c', makeRow(1), 5n), event(TABLE, 'c', makeRow(2), 5n)]);
    });
    after(async () => {
      await repairer?.close();
      await replicator?.close();
      await env?.close();
    });

    const rowOf = async (id: number): Promise<Row | undefined> => (await readRows(env.conn, TABLE, [{ id: BigInt(id) }]))[0];

    test('a replicated change arriving during the repair waits for it and then wins', async () => {
      const stale = { ...makeRow(1), i32: 111 };
      const newer = { ...makeRow(1), i32: 222 };
      let concurrent: Promise<unknown> | undefined;
      const res = await repairer.repair(TABLE, [{ id: 1n }], async () => {
        // Under the repair's lock: the replicated change (version 6) must block until it commits.
        concurrent = replicator.apply([event(TABLE, 'u', newer, 6n)]);
        await new Promise((r) => setTimeout(r, 300));
        return [stale];
      });
      assert.deepEqual(res, { upserted: ['1'], deleted: [] });
      assert.deepEqual(await concurrent, { applied: 1, skipped: 0, deadLettered: 0 });
      assert.equal((await rowOf(1))?.i32, 222);
      assert.equal(await env.versionOf('1'), 6n);
    });

    test('the stored version is kept: an equal or older change stays skipped, a newer one applies', async () => {
      await repairer.repair(TABLE, [{ id: 2n }], async () => [{ ...makeRow(2), i32: 7 }]);
      assert.equal(await env.versionOf('2'), 5n);
      assert.equal((await rowOf(2))?.i32, 7);
      assert.deepEqual(await replicator.apply([event(TABLE, 'u', { ...makeRow(2), i32: 8 }, 5n)]), {
        applied: 0,
        skipped: 1,
        deadLettered: 0,
      });
      assert.equal((await rowOf(2))?.i32, 7);
      await replicator.apply([event(TABLE, 'u', { ...makeRow(2), i32: 9 }, 7n)]);
      assert.equal((await rowOf(2))?.i32, 9);
    });

    test('a key the source no longer has is deleted; one never applied gets a placeholder every change beats', async () => {
      await replicator.apply([event(TABLE, 'c', makeRow(3), 5n)]);
      const res = await repairer.repair(TABLE, [{ id: 3n }, { id: 4n }], async () => [makeRow(4)]);
      assert.deepEqual(res, { upserted: ['4'], deleted: ['3'] });
      assert.equal(await rowOf(3), undefined);
      assert.equal(await env.versionOf('3'), 5n);
      assert.equal((await rowOf(4))?.s, makeRow(4).s);
      assert.equal(await env.versionOf('4'), -1n);
      await replicator.apply([event(TABLE, 'u', { ...makeRow(4), i32: 1 }, 1n)]);
      assert.equal((await rowOf(4))?.i32, 1);
    });
  });
}

repairCase('PostgreSQL', skipUnless(await postgresAvailable(), POSTGRES_WHAT), async () => {
  const db = await scratchPostgres({ max: 6 });
  await db.pool.query(createTableSql('postgres', TABLE));
  return {
    conn: { dialect: 'postgres', connection: db.pool },
    versionOf: async (key) => {
      const r = await db.pool.query(`SELECT version::text AS v FROM ${versionTableName(`public.${TABLE.name}`)} WHERE key_text = $1`, [
        key,
      ]);
      return r.rows[0] ? BigInt(r.rows[0].v) : undefined;
    },
    close: () => db.drop(),
  };
});

repairCase('MariaDB', skipUnless(await mysqlAvailable(), MYSQL_WHAT), async () => {
  const db = await scratchMysql({ connectionLimit: 6 });
  db.pool.on('connection', (c) => void c.query(MYSQL_SESSION_SQL));
  await db.pool.query(createTableSql('mysql', TABLE, ['CHECK (json_valid(`js`))']));
  return {
    conn: { dialect: 'mysql', connection: db.pool },
    versionOf: async (key) => {
      const [rows] = await db.pool.query('SELECT CAST(version AS CHAR) AS v FROM sluice_row_versions WHERE key_text = ?', [key]);
      const r = rows as Array<{ v: string }>;
      return r[0] ? BigInt(r[0].v) : undefined;
    },
    close: () => db.drop(),
  };
});
