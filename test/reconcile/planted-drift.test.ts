// Planted drift is found exactly — missing rows (first, middle, last key), extra rows (below the
// lowest key, in a gap, above the highest), and one row per column type changed by the smallest
// difference that matters (1 ulp, the last decimal digit, one microsecond, NULL vs '', a trailing
// space, letter case) — with no false positive, PostgreSQL→PostgreSQL and PostgreSQL→MariaDB,
// over ranges and buckets small enough that every boundary case is crossed. Then --repair makes
// the target equal and a second run finds nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Row } from '../../src/core/table-schema.js';
import { introspect, readRows } from '../../src/metadata/index.js';
import type { DbConnection } from '../../src/metadata/types.js';
import { MYSQL_SESSION_SQL } from '../../src/metadata/index.js';
import { reconcile } from '../../src/reconcile/reconcile.js';
import type { SqlSink } from '../../src/apply/index.js';
import {
  createTableSql,
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
import { event, load, makeRow, NUDGED, nudge, sinkFor, sourceIds, TABLE } from './fixture.js';

const pgUp = await postgresAvailable();
const myUp = await mysqlAvailable();
const N = 2500;
const SMALL = { rangeMs: 1, initialRows: 300, minRows: 200, bucketRows: 16, gridBucketRows: 8, pageRows: 50 };

interface Planted {
  missing: string[];
  extra: string[];
  different: string[];
}

async function plant(target: SqlSink, rows: Map<number, Row>): Promise<Planted> {
  const ids = [...rows.keys()];
  const last = ids[ids.length - 1]!;
  const missing = [ids[0]!, ids[Math.floor(ids.length / 2)]!, last];
  const extra = [-5, 0, 97 * 3, last + 1, last + 1000];
  const different: number[] = [];
  const events = [];
  let v = 10n ** 12n;
  for (const id of missing) events.push(event(TABLE, 'd', rows.get(id)!, v++));
  for (const id of extra) events.push(event(TABLE, 'c', { ...makeRow(Math.abs(id) + 7, 2), id: BigInt(id) }, v++));
  // One row per column, each a row whose value for that column is set (s: one that is NULL).
  let cursor = 10;
  for (const col of NUDGED) {
    for (; ; cursor++) {
      const row = rows.get(ids[cursor]!)!;
      if (missing.includes(Number(row.id)) || different.includes(Number(row.id))) continue;
      if (col === 's' ? row.s !== null : row[col] === null) continue;
      events.push(event(TABLE, 'u', { ...row, [col]: nudge(col, row[col]!) }, v++));
      different.push(Number(row.id));
      cursor += 37; // spread over ranges
      break;
    }
  }
  await target.apply(events);
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b).map(String);
  return { missing: sorted(missing), extra: sorted(extra), different: sorted(different) };
}

function driftCase(
  name: string,
  skip: string | false,
  open: () => Promise<{ source: DbConnection; target: DbConnection; close(): Promise<void> }>,
) {
  describe(`planted drift, ${name}`, { skip }, () => {
    let env: Awaited<ReturnType<typeof open>>;
    let targetSink: SqlSink;
    let planted: Planted;
    const rows = new Map<number, Row>();
    before(async () => {
      env = await open();
      for (const id of sourceIds(N)) rows.set(id, makeRow(id));
      const sourceSink = sinkFor(env.source);
      targetSink = sinkFor(env.target);
      await load(sourceSink, [...rows.values()]);
      await load(targetSink, [...rows.values()]);
      await sourceSink.close();
      planted = await plant(targetSink, rows);
    });
    after(async () => {
      await targetSink?.close();
      await env?.close();
    });

    const run = async (repair: boolean) => {
      const source = await introspect(env.source, { name: TABLE.name });
      const target = await introspect(env.target, { name: TABLE.name });
      return reconcile({
        name: 'drift',
        source: env.source,
        target: env.target,
        tables: [{ source, target }],
        keyLimit: 100,
        diff: SMALL,
        ...(repair ? { repair: { sink: targetSink, maxShare: 0.5, rowsPerSecond: 100_000, batch: 7 } } : {}),
      });
    };

    test('finds exactly the planted rows, nothing else', async () => {
      const report = await run(false);
      const t = report.tables[0]!;
      assert.equal(t.error, undefined);
      assert.ok(t.ranges > 3, `several ranges walked (${t.ranges})`);
      const sorted = (xs: readonly string[]) => [...xs].sort((a, b) => Number(a) - Number(b));
      assert.deepEqual({ missing: sorted(t.keys.missing), extra: sorted(t.keys.extra), different: sorted(t.keys.different) }, planted);
      assert.deepEqual(
        [t.missing, t.extra, t.different, t.inFlight],
        [planted.missing.length, planted.extra.length, planted.different.length, 0],
      );
      assert.equal(t.sourceRows, rows.size, JSON.stringify({ ...t, keys: undefined }));
      assert.equal(t.targetRows, rows.size - planted.missing.length + planted.extra.length);
    });

    test('--repair makes the target equal to the source; a second run finds nothing', async () => {
      const first = await run(true);
      const t = first.tables[0]!;
      assert.deepEqual(t.repair, {
        status: 'done',
        inserted: planted.missing.length,
        updated: planted.different.length,
        deleted: planted.extra.length,
        skipped: 0,
      });
      const second = (await run(false)).tables[0]!;
      assert.deepEqual([second.missing, second.extra, second.different, second.inFlight], [0, 0, 0, 0]);
      const s = await readRows(env.source, TABLE);
      const tr = await readRows(env.target, TABLE);
      assert.equal(tr.length, s.length);
      assert.deepEqual(tr, s);
    });
  });
}

driftCase('PostgreSQL → PostgreSQL', skipUnless(pgUp, POSTGRES_WHAT), async () => {
  const a: ScratchPostgres = await scratchPostgres();
  const b: ScratchPostgres = await scratchPostgres();
  await a.pool.query(createTableSql('postgres', TABLE));
  await b.pool.query(createTableSql('postgres', TABLE));
  return {
    source: { dialect: 'postgres', connection: a.pool },
    target: { dialect: 'postgres', connection: b.pool },
    close: async () => {
      await a.drop();
      await b.drop();
    },
  };
});

driftCase('PostgreSQL → MariaDB', skipUnless(pgUp, POSTGRES_WHAT) || skipUnless(myUp, MYSQL_WHAT), async () => {
  const a: ScratchPostgres = await scratchPostgres();
  const b: ScratchMysql = await scratchMysql();
  b.pool.on('connection', (c) => void c.query(MYSQL_SESSION_SQL));
  await a.pool.query(createTableSql('postgres', TABLE));
  await b.pool.query(createTableSql('mysql', TABLE, ['CHECK (json_valid(`js`))']));
  return {
    source: { dialect: 'postgres', connection: a.pool },
    target: { dialect: 'mysql', connection: b.pool },
    close: async () => {
      await a.drop();
      await b.drop();
    },
  };
});
