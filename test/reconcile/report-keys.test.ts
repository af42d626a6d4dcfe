// A report never cuts its key lists silently: with more drifted rows than reconcile.keyLimit, the
// JSON report says how many keys each list leaves out (keysLeftOut) and where lists stop
// (keyLimit), and the text report ends a cut list with "… and N more". A repair refused for too
// much drift names the config key that sets the limit, reconcile.maxRepairShare. (PGlite on both
// sides: what is tested here is the report, not an engine.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PGlite } from '@electric-sql/pglite';
import { createSink, type SqlSink } from '../../src/apply/index.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { introspect } from '../../src/metadata/index.js';
import type { DbConnection } from '../../src/metadata/types.js';
import { reconcile } from '../../src/reconcile/reconcile.js';
import { formatReport } from '../../src/reconcile/report.js';

let a: PGlite;
let b: PGlite;
let source: DbConnection;
let target: DbConnection;
let tables: Array<{ source: TableSchema; target: TableSchema }>;
let sink: SqlSink;

before(async () => {
  [a, b] = await Promise.all([PGlite.create(), PGlite.create()]);
  source = { dialect: 'pglite', connection: a };
  target = { dialect: 'pglite', connection: b };
  for (const db of [a, b])
    await db.exec('CREATE TABLE t (id integer PRIMARY KEY, v text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 40) i;');
  // 7 different, 3 missing, 1 extra: 11 of 40 rows (27.5%).
  await b.exec("UPDATE t SET v = 'changed' WHERE id <= 7; DELETE FROM t WHERE id IN (20, 21, 22); INSERT INTO t VALUES (100, 'extra');");
  const s = await introspect(source, { name: 't' });
  tables = [{ source: s, target: await introspect(target, { name: 't' }) }];
  sink = createSink({ dialect: 'pglite', connection: b, tables: [s] });
});
after(async () => {
  await sink?.close();
  await a?.close();
  await b?.close();
});

test('keys beyond keyLimit are counted in keysLeftOut, and the text says how many more', async () => {
  const report = await reconcile({ name: 'keys', source, target, tables, keyLimit: 2 });
  const t = report.tables[0]!;
  assert.equal(report.keyLimit, 2);
  assert.deepEqual([t.missing, t.extra, t.different], [3, 1, 7]);
  assert.deepEqual(t.keys.different, ['1', '2']);
  assert.deepEqual(t.keys.extra, ['100']);
  assert.deepEqual(t.keysLeftOut, { missing: 1, extra: 0, different: 5, inFlight: 0 });
  // The JSON form carries it as it is.
  assert.deepEqual(JSON.parse(JSON.stringify(report)).tables[0].keysLeftOut, t.keysLeftOut);
  const text = formatReport(report);
  assert.match(text, /different: 1, 2 … and 5 more/);
  assert.match(text, /missing: 20, 21 … and 1 more/);
  assert.match(text, /extra: 100\n/);
  assert.match(text, /keys listed up to reconcile\.keyLimit, 2 per kind/);
});

test('complete lists leave nothing out', async () => {
  const report = await reconcile({ name: 'keys', source, target, tables });
  const t = report.tables[0]!;
  assert.equal(report.keyLimit, 20, 'the default');
  assert.deepEqual(t.keys.different, ['1', '2', '3', '4', '5', '6', '7']);
  assert.deepEqual(t.keysLeftOut, { missing: 0, extra: 0, different: 0, inFlight: 0 });
  assert.doesNotMatch(formatReport(report), /more|keyLimit/);
});

test('a repair refused for too much drift names reconcile.maxRepairShare', async () => {
  const t = (await reconcile({ name: 'keys', source, target, tables, repair: { sink, maxShare: 0.1, rowsPerSecond: 1000, batch: 100 } }))
    .tables[0]!;
  assert.equal(t.repair.status, 'refused');
  assert.match(
    (t.repair as { reason: string }).reason,
    /^11 rows \(27\.5%\) drifted, above reconcile\.maxRepairShare \(10\.0%\): re-snapshot the table instead$/,
  );
});
