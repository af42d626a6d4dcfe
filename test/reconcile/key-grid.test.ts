// Even-width buckets over an integer key (queries.ts keyGrid): a differing range is cut by
// arithmetic on the key, and that must stay exact at the edges — target rows at the int64 limits
// (the subtraction must never overflow), negative keys, gaps — on PostgreSQL and MariaDB. Keys too
// sparse for even widths fall back to starts read from the index.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { diffTable, DIFF_DEFAULTS } from '../../src/reconcile/diff.js';
import { keyGrid } from '../../src/reconcile/queries.js';
import { openSide, type Side } from '../../src/reconcile/side.js';
import type { DbConnection } from '../../src/metadata/types.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { MYSQL_WHAT, mysqlAvailable, POSTGRES_WHAT, postgresAvailable, scratchMysql, scratchPostgres } from '../support/databases.js';
import { skipUnless } from '../support/services.js';

const pgUp = await postgresAvailable();
const myUp = await mysqlAvailable();
const MIN = '-9223372036854775808';
const MAX = '9223372036854775807';
const TABLE: TableSchema = {
  name: 'grid',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'v', type: { kind: 'string' }, nullable: false },
  ],
};

interface Env {
  source: DbConnection;
  target: DbConnection;
  exec(side: 'source' | 'target', sql: string): Promise<void>;
  close(): Promise<void>;
}

function gridCase(name: string, skip: string | false, open: () => Promise<Env>) {
  describe(`key grid, ${name}`, { skip }, () => {
    let env: Env;
    const sides: Side[] = [];
    const side = (role: 'source' | 'target') => {
      const s = openSide({
        role,
        conn: env[role],
        table: TABLE,
        columns: ['id', 'v'],
        keyColumns: ['id'],
        stats: { queries: 0, bytes: 0, rechecks: 0, waitMs: 0 },
      });
      sides.push(s);
      return s;
    };
    before(async () => {
      env = await open();
      for (const role of ['source', 'target'] as const) {
        await env.exec(role, 'CREATE TABLE grid (id BIGINT PRIMARY KEY, v VARCHAR(20) NOT NULL)');
        // -500 … 3499 without multiples of 7 (gaps; -500 is not one), the same on both sides.
        const ids = Array.from({ length: 4000 }, (_, i) => i - 500).filter((i) => i % 7 !== 0);
        for (let i = 0; i < ids.length; i += 500)
          await env.exec(
            role,
            `INSERT INTO grid VALUES ${ids
              .slice(i, i + 500)
              .map((id) => `(${id}, 'r${id}')`)
              .join(', ')}`,
          );
      }
      // Extra target rows at both int64 limits and in a gap; one row changed; one missing.
      await env.exec('target', `INSERT INTO grid VALUES (${MIN}, 'low'), (${MAX}, 'high'), (14, 'gap')`);
      await env.exec('target', "UPDATE grid SET v = 'changed' WHERE id = 1234");
      await env.exec('target', 'DELETE FROM grid WHERE id = -499');
    });
    after(async () => {
      for (const s of sides) await s.close();
      await env?.close();
    });

    test('a dense range gets an even grid; sparse keys fall back to index starts', async () => {
      const s = side('source');
      const dense = await keyGrid(s, { lower: { key: ['99'], inclusive: false }, upper: { key: ['1099'], inclusive: true } }, 857, 100);
      assert.ok(dense, 'grid for a dense range');
      assert.equal(dense.grid.lo, 100n);
      assert.equal(dense.starts.length, dense.grid.count);
      assert.deepEqual(dense.starts[0], [String(100n + dense.grid.width)]);
      const open = await keyGrid(s, {}, 3429, 100);
      assert.equal(open?.grid.lo, -500n, 'an open lower end starts at the lowest key');
      assert.equal(
        await keyGrid(s, { lower: { key: ['0'], inclusive: false }, upper: { key: ['1000000'], inclusive: true } }, 3000, 100),
        undefined,
      );
    });

    test('drift at the int64 limits, in gaps and inside is found exactly through grid buckets', async () => {
      const res = await diffTable(side('source'), side('target'), undefined, {
        ...DIFF_DEFAULTS,
        rangeMs: 1,
        initialRows: 600,
        minRows: 600,
        bucketRows: 20,
        gridBucketRows: 20,
        pageRows: 50,
      });
      const by = (kind: string) =>
        res.candidates
          .filter((c) => c.kind === kind)
          .map((c) => c.key[0])
          .sort();
      assert.deepEqual(by('extra'), [MIN, '14', MAX].sort());
      assert.deepEqual(by('missing'), ['-499']);
      assert.deepEqual(by('different'), ['1234']);
      assert.ok(res.rowsCompared < 600, `only differing buckets were merged (${res.rowsCompared} rows)`);
    });
  });
}

gridCase('PostgreSQL → PostgreSQL', skipUnless(pgUp, POSTGRES_WHAT), async () => {
  const a = await scratchPostgres();
  const b = await scratchPostgres();
  return {
    source: { dialect: 'postgres', connection: a.pool },
    target: { dialect: 'postgres', connection: b.pool },
    exec: async (role, sql) => void (await (role === 'source' ? a : b).pool.query(sql)),
    close: async () => {
      await a.drop();
      await b.drop();
    },
  };
});

gridCase('MariaDB → MariaDB', skipUnless(myUp, MYSQL_WHAT), async () => {
  const a = await scratchMysql();
  const b = await scratchMysql();
  return {
    source: { dialect: 'mysql', connection: a.pool },
    target: { dialect: 'mysql', connection: b.pool },
    exec: async (role, sql) => void (await (role === 'source' ? a : b).pool.query(sql)),
    close: async () => {
      await a.drop();
      await b.drop();
    },
  };
});
