// PostgreSQL: a table's batch of 500 or more upserts is first tried as new keys, COPYed straight
// into the version table and the target under a savepoint (plan.ts, execute.ts, new-keys.ts); any
// key that exists sends the batch back to the stage and the guarded statement. What must hold either way: stale changes lose, newer ones win, a row that
// predates sluice is updated, a delete leaves its tombstone, a poison row is dead-lettered alone,
// and two sinks writing the same new keys at once end at the newer version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createSink, type SqlSink as Sink } from '../../src/apply/index.js';
import type { ChangeEvent } from '../../src/core/change-event.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { MAX_PER_TRANSACTION } from '../../src/apply/new-keys.js';
import { versionTableName } from '../../src/apply/dialects/pg-family.js';
import { skipUnless } from '../support/services.js';
import { POSTGRES_URL, POSTGRES_WHAT, postgresAvailable, scratchPostgres } from '../support/databases.js';

const up = await postgresAvailable();
const skip = skipUnless(up, POSTGRES_WHAT);

const table: TableSchema = {
  name: 'new_items',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'name', type: { kind: 'string' }, nullable: true },
  ],
};
/** new_items' version table (unquoted, it needs no quotes). */
const V = versionTableName('public.new_items');
const DDL = "CREATE TABLE new_items (id bigint PRIMARY KEY, name text CHECK (name IS NULL OR name <> 'poison'))";

const ev = (id: number, name: string | null, version: number): ChangeEvent => ({
  op: name === null ? 'd' : 'u',
  table: { name: table.name },
  key: { id: BigInt(id) },
  ...(name === null ? {} : { after: { id: BigInt(id), name } }),
  source: { connector: 'test', position: String(version) },
  version: BigInt(version),
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Records the first two words of every statement the pool's connections are sent. */
function recordStatements(pool: pg.Pool): string[] {
  const sent: string[] = [];
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      const q = a[0] as string | { text?: string };
      sent.push((typeof q === 'string' ? q : (q.text ?? '')).trim().split(/\s+/).slice(0, 2).join(' '));
      return query(...a);
    };
  });
  return sent;
}

const NEW_KEYS = 'SAVEPOINT sluice_new_keys';
const GUARDED = 'WITH won';
const applyStatements = (sent: readonly string[]) => sent.filter((s) => s === NEW_KEYS || s === GUARDED || s === 'ROLLBACK TO');
/** The statements of the direct attempt and its fallback, COPYs named by their table. */
const directStatements = (sent: readonly string[]) =>
  sent.filter((s) => /^(SAVEPOINT|RELEASE|ROLLBACK|COPY|WITH won)/.test(s)).map((s) => s.replace(/^COPY pg_temp\..*/, 'COPY stage'));

async function names(pool: pg.Pool, ids: readonly number[]): Promise<Array<string | null>> {
  const r = await pool.query('SELECT id::int AS id, name FROM new_items WHERE id = ANY($1::bigint[]) ORDER BY id', [ids]);
  const byId = new Map(r.rows.map((x: { id: number; name: string }) => [x.id, x.name]));
  return ids.map((id) => byId.get(id) ?? null);
}

interface Harness {
  readonly pool: pg.Pool;
  readonly sink: Sink;
  readonly sent: string[];
}

/** A scratch database with the table, a prepared sink on it, and the statements sent from then on. */
async function withSink(opts: { max?: number }, fn: (h: Harness) => Promise<void>): Promise<void> {
  const db = await scratchPostgres({ max: opts.max ?? 1 });
  let sink: Sink | undefined;
  try {
    const sent = recordStatements(db.pool);
    await db.pool.query(DDL);
    sink = createSink({
      dialect: 'postgres',
      connection: db.pool,
      tables: [table],
    });
    await sink.prepare();
    sent.length = 0;
    await fn({ pool: db.pool, sink, sent });
  } finally {
    await sink?.close();
    await db.drop();
  }
}

test(
  'below 500 upserts, or with a delete, a batch goes to the guard; a row that predates sluice fails the attempt and the guard updates it',
  { skip },
  async () => {
    await withSink({}, async ({ pool, sink, sent }) => {
      assert.deepEqual(await sink.apply(range(1, 499).map((id) => ev(id, 'a', 10))), { applied: 499, skipped: 0, deadLettered: 0 });
      assert.deepEqual(applyStatements(sent), [GUARDED]);
      sent.length = 0;
      const withDelete = [...range(2001, 4499).map((id) => ev(id, 'b', 10)), ev(4500, null, 10)];
      assert.deepEqual(await sink.apply(withDelete), { applied: 2500, skipped: 0, deadLettered: 0 });
      assert.deepEqual(applyStatements(sent), [GUARDED]);

      // A row that predates sluice (no version row): the attempt fails on the target's key and the
      // guarded statement updates the row.
      await pool.query("INSERT INTO new_items VALUES (7000, 'before sluice')");
      sent.length = 0;
      assert.deepEqual(await sink.apply(range(5001, 7000).map((id) => ev(id, 'd', 40))), { applied: 2000, skipped: 0, deadLettered: 0 });
      assert.deepEqual(applyStatements(sent), [NEW_KEYS, 'ROLLBACK TO', GUARDED]);
      assert.deepEqual(await names(pool, [5001, 7000]), ['d', 'd']);
    });
  },
);

test(
  'a batch of 500 or more new upserts is COPYed straight into the version table and the target; a known key falls back to the stage and the guard',
  { skip },
  async () => {
    await withSink({}, async ({ pool, sink, sent }) => {
      assert.deepEqual(await sink.apply(range(1, 2500).map((id) => ev(id, 'a', 10))), { applied: 2500, skipped: 0, deadLettered: 0 });
      assert.deepEqual(directStatements(sent), [
        'SAVEPOINT sluice_new_keys',
        `COPY "${V}"`,
        'COPY "public"."new_items"',
        'RELEASE SAVEPOINT',
      ]);
      const v = await pool.query(
        `SELECT count(*)::int AS n, min(version)::int AS lo, max(version)::int AS hi, bool_or(deleted) AS del FROM ${V}`,
      );
      assert.deepEqual(v.rows[0], { n: 2500, lo: 10, hi: 10, del: false });

      // The last key of the next batch is known (and newer there): its COPY fails, the stage is
      // loaded after all and the guard keeps key 2500 at its newer version.
      sent.length = 0;
      const batch = [...range(2501, 4499).map((id) => ev(id, 'b', 20)), ev(2500, 'stale', 5)];
      assert.deepEqual(await sink.apply(batch), { applied: 1999, skipped: 1, deadLettered: 0 });
      assert.deepEqual(directStatements(sent), ['SAVEPOINT sluice_new_keys', `COPY "${V}"`, 'ROLLBACK TO', 'COPY stage', GUARDED]);
      assert.deepEqual(await names(pool, [1, 2500, 2501, 4499]), ['a', 'a', 'b', 'b']);
      const n = await pool.query('SELECT count(*)::int AS n FROM new_items');
      assert.equal(n.rows[0].n, 4499);

      // That miss: the next two batches skip the attempt, the third COPYs.
      sent.length = 0;
      for (let i = 0; i < 3; i++) await sink.apply(range(10_000 + i * 2000, 11_999 + i * 2000).map((id) => ev(id, 'c', 30)));
      assert.deepEqual(
        directStatements(sent).filter((x) => x.startsWith('COPY')),
        ['COPY stage', 'COPY stage', `COPY "${V}"`, 'COPY "public"."new_items"'],
      );
    });
  },
);

test(
  "keys with COPY's special characters keep the same version row whether COPYed as new keys or written by the guard",
  { skip },
  async () => {
    const db = await scratchPostgres({ max: 1 });
    let sink: Sink | undefined;
    try {
      const sent = recordStatements(db.pool);
      await db.pool.query('CREATE TABLE new_texts (code text PRIMARY KEY, n int)');
      const t: TableSchema = {
        name: 'new_texts',
        primaryKey: ['code'],
        columns: [
          { name: 'code', type: { kind: 'string' }, nullable: false },
          { name: 'n', type: { kind: 'int32' }, nullable: true },
        ],
      };
      sink = createSink({ dialect: 'postgres', connection: db.pool, tables: [t] });
      await sink.prepare();
      const specials = ['tab\there', 'new\nline', 'back\\slash', 'cr\rreturn', '\\N', 'ünïcödé ✓', 'quote\'s "both"'];
      const codes = Array.from({ length: 2100 }, (_, i) => `${specials[i % specials.length]}#${i}`);
      const evt = (code: string, n: number, version: number): ChangeEvent => ({
        op: 'u',
        table: { name: 'new_texts' },
        key: { code },
        after: { code, n },
        source: { connector: 'test', position: String(version) },
        version: BigInt(version),
      });
      sent.length = 0;
      assert.equal((await sink.apply(codes.map((c) => evt(c, 1, 10)))).applied, 2100);
      const texts = versionTableName('public.new_texts');
      assert.ok(
        sent.some((x) => x === `COPY "${texts}"`),
        'COPYed as new keys',
      );
      const back = await db.pool.query('SELECT code FROM new_texts');
      assert.deepEqual(back.rows.map((r: { code: string }) => r.code).sort(), [...codes].sort());
      // The guard finds every key's version row: older changes all lose, newer ones all win.
      assert.deepEqual(await sink.apply(codes.map((c) => evt(c, 2, 5))), { applied: 0, skipped: 2100, deadLettered: 0 });
      assert.deepEqual(await sink.apply(codes.map((c) => evt(c, 3, 20))), { applied: 2100, skipped: 0, deadLettered: 0 });
      const v = await db.pool.query(`SELECT count(*)::int AS n FROM ${texts}`);
      assert.equal(v.rows[0].n, 2100);
      const ns = await db.pool.query('SELECT DISTINCT n FROM new_texts');
      assert.deepEqual(ns.rows, [{ n: 3 }]);
    } finally {
      await sink?.close();
      await db.drop();
    }
  },
);

test(
  'a large batch of new keys reaches a target that COPY refuses (row-level security) through the stage and the guard',
  { skip },
  async () => {
    // COPY FROM is not supported on a table under row-level security; INSERT is. A superuser
    // bypasses the policies, so the sink connects as a plain role that owns the table (FORCE: the
    // owner is subject to them too).
    const db = await scratchPostgres({ max: 1 });
    const role = `sluice_rls_${db.database.slice(-8)}`;
    await db.pool.query(`CREATE ROLE ${role} LOGIN`);
    await db.pool.query(`GRANT CREATE, USAGE ON SCHEMA public TO ${role}`);
    const url = new URL(db.url);
    url.username = role;
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    pool.on('error', () => {});
    let sink: Sink | undefined;
    try {
      const sent = recordStatements(pool);
      await pool.query(DDL);
      await pool.query('ALTER TABLE new_items ENABLE ROW LEVEL SECURITY; ALTER TABLE new_items FORCE ROW LEVEL SECURITY');
      await pool.query('CREATE POLICY everything ON new_items USING (true) WITH CHECK (true)');
      sink = createSink({ dialect: 'postgres', connection: pool, tables: [table] });
      await sink.prepare();
      sent.length = 0;
      assert.deepEqual(await sink.apply(range(1, 2200).map((id) => ev(id, 'a', 1))), { applied: 2200, skipped: 0, deadLettered: 0 });
      assert.deepEqual(directStatements(sent), [
        'SAVEPOINT sluice_new_keys',
        `COPY "${V}"`,
        'COPY "public"."new_items"',
        'ROLLBACK TO',
        'COPY stage',
        GUARDED,
      ]);
      const n = await pool.query('SELECT count(*)::int AS n FROM new_items');
      assert.equal(n.rows[0].n, 2200);
    } finally {
      await sink?.close();
      await pool.end();
      await db.drop();
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`DROP ROLE IF EXISTS ${role}`).finally(() => admin.end());
    }
  },
);

test('new keys: a poison row fails the attempt and is dead-lettered alone; the rest of the batch applies', { skip }, async () => {
  await withSink({ max: 2 }, async ({ pool, sink }) => {
    const batch = range(1, 2500).map((id) => ev(id, id === 77 ? 'poison' : 'ok', 60));
    assert.deepEqual(await sink.apply(batch), { applied: 2499, skipped: 0, deadLettered: 1 });
    assert.deepEqual(await names(pool, [76, 77, 78]), ['ok', null, 'ok']);
    const dl = await pool.query('SELECT key_text, status, error_code FROM sluice_dead_letters');
    assert.equal(dl.rows.length, 1);
    assert.equal(dl.rows[0].status, 'open');
    assert.equal(dl.rows[0].error_code, '23514');
  });
});

test('new keys written by two sinks at once end at the newer version, whichever commits first', { skip }, async () => {
  const db = await scratchPostgres({ max: 1 });
  const other = new pg.Pool({ connectionString: db.url, max: 1 });
  other.on('error', () => {});
  const sinks: Sink[] = [];
  try {
    await db.pool.query(DDL);
    const a = createSink({ dialect: 'postgres', connection: db.pool, tables: [table] });
    const b = createSink({ dialect: 'postgres', connection: other, tables: [table] });
    sinks.push(a, b);
    await a.prepare();
    await b.prepare();
    for (let round = 0; round < 6; round++) {
      // Batches of 300 (the guard alone) and of 2,500 (new keys first, COPY into the tables).
      const size = round % 2 ? 2500 : 300;
      const ids = range(round * 10_000 + 1, round * 10_000 + size);
      // Alternate which sink carries the newer version and which one starts first.
      const [older, newer] = round % 2 ? [a, b] : [b, a];
      const runs = [older.apply(ids.map((id) => ev(id, 'old', 1))), newer.apply(ids.map((id) => ev(id, 'new', 2)))];
      if (round % 3 === 2) runs.reverse();
      const results = await Promise.all(runs);
      assert.equal(
        results.reduce((n, r) => n + r.applied + r.skipped, 0),
        2 * size,
        `round ${round}`,
      );
      assert.ok(
        results.every((r) => r.deadLettered === 0),
        `round ${round}: nothing dead-lettered`,
      );
      const rows = await db.pool.query('SELECT name, count(*)::int AS n FROM new_items WHERE id BETWEEN $1 AND $2 GROUP BY name', [
        ids[0],
        ids.at(-1),
      ]);
      assert.deepEqual(rows.rows, [{ name: 'new', n: size }], `round ${round}`);
    }
    const v = await db.pool.query(`SELECT DISTINCT version::int AS v FROM ${V}`);
    assert.deepEqual(v.rows, [{ v: 2 }]);
  } finally {
    for (const s of sinks) await s.close();
    await other.end();
    await db.drop();
  }
});

test(`one transaction makes at most ${MAX_PER_TRANSACTION} attempts (each is a subtransaction)`, { skip }, async () => {
  const db = await scratchPostgres({ max: 1 });
  let sink: Sink | undefined;
  try {
    const tables: TableSchema[] = Array.from({ length: MAX_PER_TRANSACTION + 2 }, (_, i) => ({ ...table, name: `many_${i}` }));
    const sent = recordStatements(db.pool);
    for (const t of tables) await db.pool.query(`CREATE TABLE ${t.name} (id bigint PRIMARY KEY, name text)`);
    sink = createSink({ dialect: 'postgres', connection: db.pool, tables });
    await sink.prepare();
    sent.length = 0;
    const batch = tables.flatMap((t) => range(1, 500).map((id) => ({ ...ev(id, 'n', 1), table: { name: t.name } })));
    assert.equal((await sink.apply(batch)).applied, 500 * tables.length);
    const st = applyStatements(sent);
    assert.deepEqual(st, [...Array<string>(MAX_PER_TRANSACTION).fill(NEW_KEYS), GUARDED, GUARDED]);
  } finally {
    await sink?.close();
    await db.drop();
  }
});
