// Drift in every range (a scattered 5%): once two ranges in a row differed, a range the source
// had already checksummed whole (it walks ahead of the target) goes straight to buckets instead
// of being compared whole on the target first. Checked on the target's statements; the drift is
// still found exactly. A text key, so the source reads its first ranges whole (bucketing a text
// key at once waits for two finished ranges) and walks ahead into them whatever the timing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { diffTable, DIFF_DEFAULTS } from '../../src/reconcile/diff.js';
import { openSide, type Side } from '../../src/reconcile/side.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { skipUnless } from '../support/services.js';

const pgUp = await postgresAvailable();
const TABLE: TableSchema = {
  name: 'dense',
  primaryKey: ['k'],
  columns: [
    { name: 'k', type: { kind: 'string' }, nullable: false },
    { name: 'v', type: { kind: 'int32' }, nullable: false },
  ],
};

describe('drift in every range, PostgreSQL → PostgreSQL', { skip: skipUnless(pgUp, POSTGRES_WHAT) }, () => {
  let a: ScratchPostgres;
  let b: ScratchPostgres;
  const sides: Side[] = [];

  before(async () => {
    a = await scratchPostgres();
    b = await scratchPostgres();
    for (const db of [a, b]) {
      await db.pool.query('CREATE TABLE dense (k text PRIMARY KEY, v integer NOT NULL)');
      await db.pool.query(`INSERT INTO dense SELECT 'k' || lpad(i::text, 4, '0'), i FROM generate_series(1, 410) i`);
    }
    await b.pool.query('UPDATE dense SET v = -v WHERE v % 20 = 5');
  });
  after(async () => {
    for (const s of sides) await s.close();
    await a?.drop();
    await b?.drop();
  });

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

  test('after two differing ranges in a row, no range is compared whole on the target', async () => {
    const target = side('target', b);
    const whole: unknown[][] = [];
    const counted: Side = {
      ...target,
      query: (sql, params) => {
        if (/count\(\*\)/.test(sql) && !/GROUP BY/.test(sql)) whole.push([...params]);
        return target.query(sql, params);
      },
    };
    const res = await diffTable(side('source', a), counted, undefined, {
      ...DIFF_DEFAULTS,
      rangeMs: 1,
      initialRows: 40,
      minRows: 40,
      bucketRows: 5,
      pageRows: 50,
    });
    assert.ok(res.ranges >= 6, `several ranges (${res.ranges})`);
    assert.equal(res.rangesDiffering, res.ranges, 'every range differs');
    // Ranges of 40 keys end at k0040, k0080, k0120 …; a whole-range statement binds the range's
    // lower end, then its upper end (the first range has no lower end). The target compares two
    // ranges at once, so the third range may start before the second one finished: whole
    // comparisons are allowed for the first three ranges, none after.
    const lowers = whole.map((p) => (p.length === 1 ? 'first' : String(p[0])));
    assert.ok(lowers.includes('first') && lowers.includes('k0040'), `the first two ranges were compared whole (${lowers.join(', ')})`);
    assert.deepEqual(
      lowers.filter((l) => l !== 'first' && l > 'k0080'),
      [],
      'no range after the third was compared whole on the target',
    );
    const keys = res.candidates.map((c) => c.key[0]).sort();
    assert.deepEqual(
      keys,
      Array.from({ length: 21 }, (_, i) => `k${String(i * 20 + 5).padStart(4, '0')}`),
    );
    assert.ok(res.candidates.every((c) => c.kind === 'different'));
  });

  test('a failing statement fails the diff only once nothing else is still querying either side', async () => {
    let inFlight = 0;
    let targetCalls = 0;
    const tracked = (s: Side, fail?: number): Side => ({
      ...s,
      query: async (sql, params) => {
        if (fail !== undefined && ++targetCalls === fail) throw new Error('target went away');
        inFlight++;
        try {
          return await s.query(sql, params);
        } finally {
          inFlight--;
        }
      },
    });
    const source = side('source', a);
    const target = side('target', b);
    // The 6th target statement fails while the other lane and the merges are at work.
    await assert.rejects(
      diffTable(tracked(source), tracked(target, 6), undefined, {
        ...DIFF_DEFAULTS,
        rangeMs: 1,
        initialRows: 40,
        minRows: 40,
        bucketRows: 5,
        pageRows: 50,
      }),
      /target went away/,
    );
    assert.equal(inFlight, 0, 'no statement still running when the diff failed (the caller closes the sessions next)');
  });
});
