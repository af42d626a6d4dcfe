// A composite key with a string column (mixed case, accents, emoji): ranges, bucket starts, the
// nested-CASE bucket search and the merge all follow the same code-point order on PostgreSQL and
// MariaDB, so planted drift is found exactly across engines too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Row, TableSchema } from '../../src/core/table-schema.js';
import { introspect, MYSQL_SESSION_SQL } from '../../src/metadata/index.js';
import type { DbConnection } from '../../src/metadata/types.js';
import { reconcile } from '../../src/reconcile/reconcile.js';
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
import { event, load, sinkFor } from './fixture.js';

const T: TableSchema = {
  name: 'by_region',
  primaryKey: ['region', 'n'],
  columns: [
    { name: 'region', type: { kind: 'string', maxLength: 20 }, nullable: false },
    { name: 'n', type: { kind: 'int64' }, nullable: false },
    { name: 'v', type: { kind: 'string' }, nullable: true },
  ],
};
const REGIONS = ['Alpha', 'alpha', 'Beta', 'béta', 'zeta', 'Zeta', 'ÿ', '😀north', '\ue000private', 'a'];

describe(
  'composite string key, PostgreSQL → MariaDB',
  { skip: skipUnless(await postgresAvailable(), POSTGRES_WHAT) || skipUnless(await mysqlAvailable(), MYSQL_WHAT) },
  () => {
    let source: DbConnection;
    let target: DbConnection;
    let close: () => Promise<void>;
    const planted: string[] = [];
    before(async () => {
      const a = await scratchPostgres();
      const b = await scratchMysql();
      b.pool.on('connection', (c) => void c.query(MYSQL_SESSION_SQL));
      await a.pool.query(createTableSql('postgres', T));
      await b.pool.query(createTableSql('mysql', T));
      source = { dialect: 'postgres', connection: a.pool };
      target = { dialect: 'mysql', connection: b.pool };
      close = async () => {
        await a.drop();
        await b.drop();
      };
      const rows: Row[] = [];
      for (const region of REGIONS) for (let n = -40; n < 40; n++) rows.push({ region, n: BigInt(n * 3), v: `${region}:${n}` });
      const s = sinkFor(source, T);
      const t = sinkFor(target, T);
      await load(s, rows, T);
      await load(t, rows, T);
      const v = 10n ** 12n;
      await t.apply([
        event(T, 'd', { region: 'béta', n: 0n }, v),
        event(T, 'u', { region: 'Zeta', n: 3n, v: 'changed' }, v + 1n),
        event(T, 'c', { region: 'alpha', n: 1n, v: 'extra' }, v + 2n),
        event(T, 'c', { region: '😀north', n: 999n, v: 'extra' }, v + 3n),
        event(T, 'c', { region: 'AAA', n: 0n, v: 'below every key' }, v + 4n),
      ]);
      planted.push('["béta","0"]', '["Zeta","3"]', '["alpha","1"]', '["😀north","999"]', '["AAA","0"]');
      await s.close();
      await t.close();
    });
    after(() => close?.());

    test('finds exactly the planted rows', async () => {
      const report = await reconcile({
        name: 'composite',
        source,
        target,
        keyLimit: 50,
        tables: [{ source: await introspect(source, { name: T.name }), target: await introspect(target, { name: T.name }) }],
        diff: { rangeMs: 1, initialRows: 100, minRows: 60, bucketRows: 8, pageRows: 20 },
      });
      const t = report.tables[0]!;
      assert.equal(t.error, undefined);
      assert.ok(t.ranges > 5, `several ranges (${t.ranges})`);
      assert.deepEqual(
        { missing: t.keys.missing, different: t.keys.different, extra: [...t.keys.extra].sort() },
        {
          missing: [planted[0]],
          different: [planted[1]],
          extra: [planted[2], planted[3], planted[4]].sort(),
        },
      );
      assert.equal(t.inFlight, 0);
    });
  },
);
