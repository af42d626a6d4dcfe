// A one-column text key on PostgreSQL: range ends and bucket starts are strings in code-point
// order (COLLATE "C"), whatever the column's own collation. Small ranges put boundaries between
// keys that differ only by case, accents, a trailing space or an emoji; planted drift is found
// exactly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { diffTable, DIFF_DEFAULTS } from '../../src/reconcile/diff.js';
import { openSide, type Side } from '../../src/reconcile/side.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { skipUnless } from '../support/services.js';

const pgUp = await postgresAvailable();
const TABLE: TableSchema = {
  name: 'skey',
  primaryKey: ['k'],
  columns: [
    { name: 'k', type: { kind: 'string' }, nullable: false },
    { name: 'v', type: { kind: 'int32' }, nullable: false },
  ],
};
const WORDS = ['a', 'A', 'b', 'B', 'é', 'e', 'E', 'z', 'Z', 'ä', '🚀', 'x ', 'x', '0', '~', 'ß', 'Ω'];

describe('string key, PostgreSQL → PostgreSQL', { skip: skipUnless(pgUp, POSTGRES_WHAT) }, () => {
  let a: ScratchPostgres;
  let b: ScratchPostgres;
  const sides: Side[] = [];
  const keys: string[] = [];
  for (const w1 of WORDS) for (const w2 of WORDS) keys.push(`${w1}${w2}`);

  before(async () => {
    a = await scratchPostgres();
    b = await scratchPostgres();
    for (const db of [a, b]) {
      // A linguistic collation (ICU, part of PostgreSQL's packages) orders these differently
      // from code points: 'a' < 'B' there, not in code-point order.
      await db.pool.query('CREATE TABLE skey (k text COLLATE "und-x-icu" PRIMARY KEY, v integer NOT NULL)');
      await db.pool.query('INSERT INTO skey SELECT k, i FROM unnest($1::text[]) WITH ORDINALITY AS u(k, i)', [keys]);
    }
    await b.pool.query("INSERT INTO skey VALUES (' ', 1), ('\u{10FFFF}', 2), ('aa ', 3)");
    await b.pool.query("UPDATE skey SET v = v + 1 WHERE k IN ('éZ', '🚀🚀')");
    await b.pool.query("DELETE FROM skey WHERE k IN ('AA', 'Ωß')");
  });
  after(async () => {
    for (const s of sides) await s.close();
    await a?.drop();
    await b?.drop();
  });

  test('drift is found exactly across ranges ending at string keys', async () => {
    const side = (role: 'source' | 'target', db: ScratchPostgres) => {
      const s = openSide({
        role,
        conn: { dialect: 'postgres', connection: db.pool },
        table: TABLE,
        columns: ['k', 'v'],
        keyColumns: ['k'],
        stats: { queries: 0, bytes: 0, rechecks: 0, waitMs: 0 },
      });
      sides.push(s);
      return s;
    };
    const res = await diffTable(side('source', a), side('target', b), undefined, {
      ...DIFF_DEFAULTS,
      rangeMs: 1,
      initialRows: 13,
      minRows: 13,
      bucketRows: 4,
      pageRows: 5,
    });
    assert.ok(res.ranges > 10, `several ranges (${res.ranges})`);
    assert.equal(
      (await a.pool.query(`SELECT 'a' < 'B' COLLATE "und-x-icu" AS x`)).rows[0].x,
      true,
      'the column collation is not code-point order',
    );
    const by = (kind: string) =>
      res.candidates
        .filter((c) => c.kind === kind)
        .map((c) => c.key[0])
        .sort();
    assert.deepEqual(by('extra'), [' ', '\u{10FFFF}', 'aa '].sort());
    assert.deepEqual(by('different'), ['éZ', '🚀🚀'].sort());
    assert.deepEqual(by('missing'), ['AA', 'Ωß'].sort());
    assert.equal(res.sourceRows, keys.length);
  });
});
