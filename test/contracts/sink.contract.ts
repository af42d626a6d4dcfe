// The Sink contract, written once and run unchanged against every target (PostgreSQL, MariaDB,
// PGlite): values round-trip at their limits (docs/guarantees.md: lossless-values), changes apply
// by key under the version guard (duplicates, stale versions, tombstones; docs/guarantees.md:
// idempotent-replay, set-based-version-guard, tombstones), the checkpoint commits with its
// batch, poison events are dead-lettered and park their key, transient failures apply nothing.
// Each test makes its own tables, so tests do not depend on each other's rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeEvent, Op } from '../../src/core/change-event.js';
import type { Column, ColumnValue, Row, TableSchema } from '../../src/core/table-schema.js';
import { isSluiceError } from '../../src/core/errors.js';
import { retry } from '../../src/core/retry.js';
import { APPLY_ERROR_CODE, type SqlSink, type TableResolver } from '../../src/apply/index.js';
import {
  canonicalDate,
  canonicalFloat32,
  canonicalTime,
  canonicalTimestamp,
  canonicalTimestamptz,
  decimalAtScale,
} from '../../src/core/portable-values.js';
import { createTableSql, nativeType, quoteIdent, type TestDialect } from '../support/databases.js';
import { prng } from '../support/prng.js';

export interface Limits {
  readonly dateMin: string;
  readonly dateMax: string;
  readonly timestampMin: string;
  readonly timestampMax: string;
  readonly timestamptzMin: string;
  readonly timestamptzMax: string;
  /** NaN and ±Infinity in float columns. */
  readonly nonFiniteFloats: boolean;
  /** -0 survives in float columns. */
  readonly negativeZero: boolean;
}

export interface SinkHarness {
  readonly dialect: TestDialect;
  readonly limits: Limits;
  /** Runs SQL on the target through the harness's own connection. */
  exec(sql: string): Promise<void>;
  createSink(opts: { tables: TableSchema[]; resolveTable?: TableResolver }): SqlSink;
  readRows(table: TableSchema): Promise<Row[]>;
  /**
   * A trigger on `table` (which has a `name` column): NEW.name = 'boom-deadlock' raises the
   * dialect's deadlock error; 'boom-sleep' sleeps 30 s (where the dialect can sleep).
   */
  installFaults(table: string): Promise<void>;
  removeFaults(table: string): Promise<void>;
  /** Waits until a session of the sink sleeps in the fault trigger, then kills its connection. */
  killSleepingSession?(): Promise<void>;
  /** Closes the connection the sinks use (pool ended, database closed). Runs last. */
  closeConnection(): Promise<void>;
  teardown(): Promise<void>;
}

// --- fixtures ---------------------------------------------------------------------------------

const col = (name: string, type: Column['type'], nullable = true): Column => ({ name, type, nullable });

function itemsTable(name: string): TableSchema {
  return {
    name,
    primaryKey: ['id'],
    columns: [col('id', { kind: 'int64' }, false), col('name', { kind: 'string' }), col('qty', { kind: 'int32' }, false)],
  };
}

const TYPES: TableSchema = {
  name: 'all_types',
  primaryKey: ['id'],
  columns: [
    col('id', { kind: 'int64' }, false),
    col('b', { kind: 'boolean' }),
    col('i16', { kind: 'int16' }),
    col('i32', { kind: 'int32' }),
    col('i64', { kind: 'int64' }),
    col('f32', { kind: 'float32' }),
    col('f64', { kind: 'float64' }),
    col('dec', { kind: 'decimal', precision: 38, scale: 10 }),
    col('s', { kind: 'string' }),
    col('vs', { kind: 'string', maxLength: 20 }),
    col('j', { kind: 'json' }),
    col('by', { kind: 'bytes' }),
    col('u', { kind: 'uuid' }),
    col('d', { kind: 'date' }),
    col('t', { kind: 'time' }),
    col('ts', { kind: 'timestamp' }),
    col('tstz', { kind: 'timestamptz' }),
  ],
};

/** What reading a value back must give: the canonical portable form of what was written. */
function canonical(c: Column, v: ColumnValue): ColumnValue {
  if (v === null || (typeof v !== 'string' && typeof v !== 'number')) return v;
  switch (c.type.kind) {
    case 'float32':
      return canonicalFloat32(v as number);
    case 'decimal':
      return decimalAtScale(v as string, c.type.scale);
    case 'uuid':
      return (v as string).toLowerCase();
    case 'date':
      return canonicalDate(v as string);
    case 'time':
      return canonicalTime(v as string);
    case 'timestamp':
      return canonicalTimestamp(v as string);
    case 'timestamptz':
      return canonicalTimestamptz(v as string);
    default:
      return v;
  }
}

function canonicalRow(t: TableSchema, r: Row): Row {
  const out: Row = {};
  for (const c of t.columns) out[c.name] = canonical(c, r[c.name] ?? null);
  return out;
}

function typeRows(l: Limits): Row[] {
  const all256 = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const rows: Row[] = [
    {
      // maxima
      id: 1n,
      b: true,
      i16: 32767,
      i32: 2147483647,
      i64: 9223372036854775807n,
      f32: 3.4028234663852886e38,
      f64: 1.7976931348623157e308,
      dec: '9999999999999999999999999999.9999999999',
      s: 'ünïcødé 日本語 🎉 \u{1F600}',
      vs: '€'.repeat(20),
      j: '{"a":[1,2.5,{"b":null}],"ü":"✓","big":12345678901234567890}',
      by: all256,
      u: 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
      d: l.dateMax,
      t: '23:59:59.999999',
      ts: l.timestampMax,
      tstz: l.timestamptzMax,
    },
    {
      // minima; empty values that are not NULL
      id: 2n,
      b: false,
      i16: -32768,
      i32: -2147483648,
      i64: -9223372036854775808n,
      f32: -1.401298464324817e-45,
      f64: 5e-324,
      dec: '-9999999999999999999999999999.9999999999',
      s: '',
      vs: '',
      j: '[]',
      by: Buffer.alloc(0),
      u: '00000000-0000-0000-0000-000000000000',
      d: l.dateMin,
      t: '00:00:00',
      ts: l.timestampMin,
      tstz: l.timestamptzMin,
    },
    {
      // NULL everywhere it may be
      id: 3n,
      b: null,
      i16: null,
      i32: null,
      i64: null,
      f32: null,
      f64: null,
      dec: null,
      s: null,
      vs: null,
      j: null,
      by: null,
      u: null,
      d: null,
      t: null,
      ts: null,
      tstz: null,
    },
    {
      // precision a double or a Date would lose; text COPY and SQL escaping hazards
      id: 4n,
      b: true,
      i16: 0,
      i32: 0,
      i64: 9007199254740993n,
      f32: 0.1,
      f64: 0.1 + 0.2,
      dec: '0.0000000001',
      s: 'tab\there\nnewline\\backslash "double" \'single\' \\N',
      vs: "O'Brien\\",
      j: 'null',
      by: Buffer.from('5c0a0900', 'hex'),
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      d: '2024-02-29',
      t: '12:00:00.5',
      ts: '2024-02-29T12:34:56.000001',
      tstz: '2024-03-01T00:00:00.123456+05:30',
    },
  ];
  if (l.nonFiniteFloats) rows.push({ ...rows[2]!, id: 5n, f32: Number.NaN, f64: Number.NEGATIVE_INFINITY });
  if (l.negativeZero) rows.push({ ...rows[2]!, id: 6n, f32: -0, f64: -0 });
  return rows;
}

let versionCounter = 1n;
function ev(table: string, op: Op, id: bigint, row?: { name?: string | null; qty?: number }, version = versionCounter++): ChangeEvent {
  return {
    table: { name: table },
    op,
    key: { id },
    ...(op === 'd' ? {} : { after: { id, name: row?.name ?? null, qty: row?.qty ?? 0 } }),
    source: { connector: 'contract', position: String(version) },
    version,
  };
}

function rowEvent(table: TableSchema, op: Op, row: Row, version: bigint): ChangeEvent {
  const key: Row = {};
  for (const k of table.primaryKey) key[k] = row[k] ?? null;
  return {
    table: { name: table.name },
    op,
    key,
    ...(op === 'd' ? {} : { after: row }),
    source: { connector: 'contract', position: String(version) },
    version,
  };
}

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

// --- the contract -----------------------------------------------------------------------------

export function sinkContract(
  title: string,
  opts: { skip: string | false; canKillSessions?: boolean },
  setup: () => Promise<SinkHarness>,
): void {
  describe(`Sink contract: ${title}`, { skip: opts.skip }, () => {
    let h: SinkHarness;
    const created: string[] = [];
    const createTable = async (t: TableSchema, checks: string[] = []) => {
      await h.exec(createTableSql(h.dialect, t, checks));
      created.push(t.name);
    };
    const q = (n: string) => quoteIdent(h.dialect, n);

    before(async () => {
      h = await setup();
    });
    after(async () => {
      await h?.teardown();
    });

    test('every portable type round-trips at its limits, on insert and on update; NULL stays distinct from empty', async () => {
      await createTable(TYPES);
      const sink = h.createSink({ tables: [TYPES] });
      const rows = typeRows(h.limits);
      const first = await sink.apply(rows.map((r, i) => rowEvent(TYPES, 'c', r, BigInt(i + 1))));
      assert.deepEqual(first, { applied: rows.length, skipped: 0, deadLettered: 0 });
      assert.deepStrictEqual(
        await h.readRows(TYPES),
        rows.map((r) => canonicalRow(TYPES, r)),
      );
      // The update path: every row takes the next row's values (its own key).
      const rotated = rows.map((r, i) => ({ ...rows[(i + 1) % rows.length]!, id: r.id! }) as Row);
      const second = await sink.apply(rotated.map((r, i) => rowEvent(TYPES, 'u', r, BigInt(100 + i))));
      assert.equal(second.applied, rows.length);
      assert.deepStrictEqual(
        await h.readRows(TYPES),
        rotated.map((r) => canonicalRow(TYPES, r)),
      );
    });

    test('small and large batches, with and without json columns, write the same values (every load path)', async () => {
      // PostgreSQL loads a small batch of a table without json columns as one JSON parameter, of a
      // table with them as a multi-row INSERT, and a large batch with COPY, new keys from 2,000
      // upserts on COPYed straight into the table (docs/guarantees.md: lossless-values, on every
      // path): all must agree.
      const noJson: TableSchema = { ...TYPES, name: 'all_types_nojson', columns: TYPES.columns.filter((c) => c.type.kind !== 'json') };
      const withJson: TableSchema = { ...TYPES, name: 'all_types_paths' };
      for (const t of [noJson, withJson]) {
        await createTable(t);
        const sink = h.createSink({ tables: [t] });
        const pick = (r: Row): Row => Object.fromEntries(t.columns.map((c) => [c.name, r[c.name] ?? null]));
        const base = typeRows(h.limits).map(pick);
        const small = base;
        const large = Array.from({ length: 70 }, (_, i) => ({ ...base[i % base.length]!, id: BigInt(1000 + i) }));
        const huge = Array.from({ length: 2100 }, (_, i) => ({ ...base[i % base.length]!, id: BigInt(5000 + i) }));
        let v = 1n;
        for (const batch of [small, large, huge]) {
          const res = await sink.apply(batch.map((r) => rowEvent(t, 'c', r, v++)));
          assert.equal(res.applied, batch.length, `${t.name}: ${batch.length} rows applied`);
        }
        assert.deepStrictEqual(
          await h.readRows(t),
          [...small, ...large, ...huge].map((r) => canonicalRow(t, r)),
          t.name,
        );
      }
    });

    test('creates, updates and deletes by key; the checkpoint is stored with the batch', async () => {
      const t = itemsTable('crud');
      await createTable(t);
      const sink = h.createSink({ tables: [t] });
      assert.equal(await sink.checkpoint('crud-cp'), undefined);
      let r = await sink.apply(
        [
          ev('crud', 'c', 1n, { name: 'a', qty: 1 }),
          ev('crud', 'c', 2n, { name: 'b', qty: 2 }),
          ev('crud', 'c', 3n, { name: 'c', qty: 3 }),
        ],
        { name: 'crud-cp', position: 'p1' },
      );
      assert.deepEqual(r, { applied: 3, skipped: 0, deadLettered: 0 });
      r = await sink.apply(
        [ev('crud', 'u', 1n, { name: 'a2', qty: 10 }), ev('crud', 'd', 2n), ev('crud', 'r', 4n, { name: 'snap', qty: 4 })],
        { name: 'crud-cp', position: 'p2' },
      );
      assert.deepEqual(r, { applied: 3, skipped: 0, deadLettered: 0 });
      assert.deepEqual(await h.readRows(t), [
        { id: 1n, name: 'a2', qty: 10 },
        { id: 3n, name: 'c', qty: 3 },
        { id: 4n, name: 'snap', qty: 4 },
      ]);
      assert.equal(await sink.checkpoint('crud-cp'), 'p2');
      // An empty batch still moves the checkpoint; deleting a missing row is no error.
      assert.deepEqual(await sink.apply([], { name: 'crud-cp', position: 'p3' }), { applied: 0, skipped: 0, deadLettered: 0 });
      assert.equal(await sink.checkpoint('crud-cp'), 'p3');
      r = await sink.apply([ev('crud', 'd', 99n)]);
      assert.deepEqual(r, { applied: 1, skipped: 0, deadLettered: 0 });
    });

    test('a duplicate or an older version is skipped and never regresses the row', async () => {
      const t = itemsTable('stale');
      await createTable(t);
      const sink = h.createSink({ tables: [t] });
      const v10 = ev('stale', 'c', 1n, { name: 'v10' }, 10n);
      assert.equal((await sink.apply([v10])).applied, 1);
      assert.deepEqual(await sink.apply([v10]), { applied: 0, skipped: 1, deadLettered: 0 });
      assert.deepEqual(await sink.apply([ev('stale', 'u', 1n, { name: 'v9' }, 9n)]), { applied: 0, skipped: 1, deadLettered: 0 });
      assert.deepEqual(await sink.apply([ev('stale', 'u', 1n, { name: 'v10-other' }, 10n)]), { applied: 0, skipped: 1, deadLettered: 0 });
      assert.deepEqual(await h.readRows(t), [{ id: 1n, name: 'v10', qty: 0 }]);
      assert.equal((await sink.apply([ev('stale', 'u', 1n, { name: 'v11' }, 11n)])).applied, 1);
      assert.deepEqual(await h.readRows(t), [{ id: 1n, name: 'v11', qty: 0 }]);
    });

    test('a delete leaves a tombstone: an older update replayed after it does not resurrect the row', async () => {
      const t = itemsTable('tomb');
      await createTable(t);
      const sink = h.createSink({ tables: [t] });
      await sink.apply([ev('tomb', 'c', 1n, { name: 'v1' }, 1n), ev('tomb', 'c', 2n, { name: 'v1' }, 1n)]);
      await sink.apply([ev('tomb', 'd', 1n, undefined, 5n)]);
      assert.deepEqual(
        await sink.apply([ev('tomb', 'u', 1n, { name: 'v3 replayed' }, 3n), ev('tomb', 'c', 1n, { name: 'v1 replayed' }, 1n)]),
        { applied: 0, skipped: 2, deadLettered: 0 },
      );
      assert.deepEqual(await h.readRows(t), [{ id: 2n, name: 'v1', qty: 0 }]);
      // A newer create after the delete brings it back.
      assert.equal((await sink.apply([ev('tomb', 'c', 1n, { name: 'v6' }, 6n)])).applied, 1);
      assert.deepEqual(
        (await h.readRows(t)).map((r) => r.name),
        ['v6', 'v1'],
      );
    });

    test('a truncate empties the table and leaves tombstones: older changes replayed after it stay out, newer ones apply', async () => {
      const t = itemsTable('trunc');
      await createTable(t);
      const sink = h.createSink({ tables: [t] });
      await sink.apply([ev('trunc', 'c', 1n, { name: 'v1' }, 1n), ev('trunc', 'c', 2n, { name: 'v1' }, 2n)]);
      await sink.truncate(t, 10n);
      assert.deepEqual(await h.readRows(t), []);
      assert.deepEqual(await sink.apply([ev('trunc', 'u', 1n, { name: 'replayed' }, 3n)]), { applied: 0, skipped: 1, deadLettered: 0 });
      await sink.apply([ev('trunc', 'c', 2n, { name: 'after' }, 11n)]);
      assert.deepEqual(await h.readRows(t), [{ id: 2n, name: 'after', qty: 0 }]);
      await sink.close();
    });

    test('several events of one key in a batch: the newest wins whatever their order, the rest count as skipped', async () => {
      const t = itemsTable('collapse');
      await createTable(t);
      const sink = h.createSink({ tables: [t] });
      const r = await sink.apply([
        ev('collapse', 'u', 1n, { name: 'v3' }, 3n),
        ev('collapse', 'c', 1n, { name: 'v1' }, 1n),
        ev('collapse', 'u', 1n, { name: 'v2' }, 2n),
        ev('collapse', 'c', 2n, { name: 'x' }, 1n),
        ev('collapse', 'd', 2n, undefined, 2n),
      ]);
      assert.deepEqual(r, { applied: 2, skipped: 3, deadLettered: 0 });
      assert.deepEqual(await h.readRows(t), [{ id: 1n, name: 'v3', qty: 0 }]);
    });

    test('a shuffled stream with duplicates and stale versions of 1,000 keys ends as the ordered stream; replaying it changes nothing', async () => {
      const ordered = itemsTable('stream_ordered');
      const shuffled = itemsTable('stream_shuffled');
      const source = itemsTable('stream');
      await createTable(ordered);
      await createTable(shuffled);
      const sinkA = h.createSink({ tables: [source], resolveTable: () => ({ name: 'stream_ordered' }) });
      const sinkB = h.createSink({ tables: [source], resolveTable: () => ({ name: 'stream_shuffled' }) });
      const rnd = prng(20240229);
      const events: ChangeEvent[] = [];
      const model = new Map<bigint, Row>();
      let version = 1n;
      for (let round = 0; round < 6; round++) {
        for (let id = 1n; id <= 1000n; id++) {
          if (rnd() < 0.4) continue;
          const exists = model.has(id);
          const op: Op = !exists ? 'c' : rnd() < 0.2 ? 'd' : 'u';
          const e = ev('stream', op, id, { name: `r${round}-${id}`, qty: Math.floor(rnd() * 1000) }, version++);
          events.push(e);
          if (op === 'd') model.delete(id);
          else model.set(id, e.after!);
        }
      }
      for (const batch of chunks(events, 250)) await sinkA.apply(batch);
      const noisy = [...events];
      for (const e of events) if (rnd() < 0.3) noisy.push(e); // duplicates
      for (let i = noisy.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [noisy[i], noisy[j]] = [noisy[j]!, noisy[i]!];
      }
      const batches = chunks(noisy, 137);
      for (const batch of batches) await sinkB.apply(batch);
      const expected = [...model.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);
      const a = await h.readRows(ordered);
      assert.equal(a.length, expected.length);
      assert.deepEqual(a, expected);
      assert.deepEqual(await h.readRows(shuffled), expected);
      // A rebalance replays what was applied: the same batches again are a no-op.
      let appliedAgain = 0;
      for (const batch of batches) appliedAgain += (await sinkB.apply(batch)).applied;
      assert.equal(appliedAgain, 0);
      assert.deepEqual(await h.readRows(shuffled), expected);
    });

    test('two sinks applying interleaved versions of the same keys concurrently end at the newest', async () => {
      const t = itemsTable('race');
      await createTable(t);
      const s1 = h.createSink({ tables: [t] });
      const s2 = h.createSink({ tables: [t] });
      const evens: ChangeEvent[] = [];
      const odds: ChangeEvent[] = [];
      for (let v = 1n; v <= 20n; v++)
        for (let id = 1n; id <= 50n; id++) (v % 2n === 0n ? evens : odds).push(ev('race', 'u', id, { name: `v${v}` }, v));
      // As the pipeline does: a transient failure (a deadlock between the two) is retried.
      const run = async (s: SqlSink, xs: ChangeEvent[]) => {
        for (const b of chunks(xs, 100)) await retry(() => s.apply(b), { retries: 20, initialMs: 5, maxMs: 50 });
      };
      await Promise.all([run(s1, evens.reverse()), run(s2, odds)]);
      const rows = await h.readRows(t);
      assert.equal(rows.length, 50);
      assert.ok(
        rows.every((r) => r.name === 'v20'),
        JSON.stringify(rows.filter((r) => r.name !== 'v20').slice(0, 3), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
      );
    });

    test('a batch that fails stores neither its rows nor its checkpoint', async () => {
      const keep = itemsTable('cp_keep');
      const doomed = itemsTable('cp_doomed');
      await createTable(keep);
      await createTable(doomed);
      const sink = h.createSink({ tables: [keep, doomed] });
      await sink.apply([ev('cp_keep', 'c', 1n, { name: 'a' })], { name: 'cp', position: 'p1' });
      await h.exec(`DROP TABLE ${q('cp_doomed')}`);
      await assert.rejects(
        sink.apply([ev('cp_keep', 'c', 2n, { name: 'b' }), ev('cp_doomed', 'c', 1n, { name: 'x' })], { name: 'cp', position: 'p2' }),
        (e) => isSluiceError(e) && e.code === APPLY_ERROR_CODE && !e.retriable,
      );
      assert.deepEqual(
        (await h.readRows(keep)).map((r) => r.id),
        [1n],
      );
      assert.equal(await sink.checkpoint('cp'), 'p1');
    });

    test('a transient failure (deadlock) throws a retriable error with nothing applied; the retry applies the batch', async () => {
      const t = itemsTable('transient');
      await createTable(t);
      await h.installFaults('transient');
      const sink = h.createSink({ tables: [t] });
      await sink.apply([ev('transient', 'c', 1n, { name: 'a' })], { name: 'tr', position: 'p1' });
      const batch = [
        ev('transient', 'u', 1n, { name: 'a2' }),
        ev('transient', 'c', 2n, { name: 'b' }),
        ev('transient', 'c', 3n, { name: 'boom-deadlock' }),
      ];
      await assert.rejects(sink.apply(batch, { name: 'tr', position: 'p2' }), (e) => isSluiceError(e) && e.retriable);
      assert.deepEqual(await h.readRows(t), [{ id: 1n, name: 'a', qty: 0 }]);
      assert.equal(await sink.checkpoint('tr'), 'p1');
      assert.deepEqual(await sink.deadLetters.list({ table: 'transient' }), []);
      await h.removeFaults('transient');
      assert.deepEqual(await sink.apply(batch, { name: 'tr', position: 'p2' }), { applied: 3, skipped: 0, deadLettered: 0 });
      assert.equal(await sink.checkpoint('tr'), 'p2');
    });

    // Registered only where there is a server connection to kill (not embedded PGlite): CI
    // counts every skipped test as a failure.
    if (opts.canKillSessions)
      test('a connection killed mid-batch throws a retriable error with nothing applied', async () => {
        if (!h.killSleepingSession) throw new Error('harness has no killSleepingSession');
        const table = itemsTable('killed');
        await createTable(table);
        await h.installFaults('killed');
        const sink = h.createSink({ tables: [table] });
        await sink.apply([ev('killed', 'c', 1n, { name: 'a' })], { name: 'kill', position: 'p1' });
        const batch = [ev('killed', 'u', 1n, { name: 'a2' }), ev('killed', 'c', 2n, { name: 'boom-sleep' })];
        const failure = sink.apply(batch, { name: 'kill', position: 'p2' }).then(
          () => undefined,
          (e: unknown) => e,
        );
        await h.killSleepingSession();
        const e = await failure;
        assert.ok(isSluiceError(e) && e.retriable, String(e));
        await h.removeFaults('killed');
        assert.deepEqual(await h.readRows(table), [{ id: 1n, name: 'a', qty: 0 }]);
        assert.equal(await sink.checkpoint('kill'), 'p1');
        assert.equal((await sink.apply(batch, { name: 'kill', position: 'p2' })).applied, 2);
      });

    test('a poison event is dead-lettered, the rest of its batch applies, its key is parked until a replay after the fix', async () => {
      const t = itemsTable('poison');
      await createTable(t, [`CONSTRAINT ${q('poison_qty')} CHECK (${q('qty')} >= 0)`]);
      const sink = h.createSink({ tables: [t] });
      const batch1 = Array.from({ length: 10 }, (_, i) => ev('poison', 'c', BigInt(i + 1), { name: `k${i + 1}`, qty: i === 4 ? -5 : i }));
      assert.deepEqual(await sink.apply(batch1, { name: 'poison', position: 'p1' }), { applied: 9, skipped: 0, deadLettered: 1 });
      assert.deepEqual(
        (await h.readRows(t)).map((r) => r.id),
        [1n, 2n, 3n, 4n, 6n, 7n, 8n, 9n, 10n],
      );
      assert.equal(await sink.checkpoint('poison'), 'p1');
      // Later events of key 5 are parked; other keys flow.
      assert.deepEqual(
        await sink.apply([ev('poison', 'u', 5n, { name: 'k5 second', qty: 3 }), ev('poison', 'u', 6n, { name: 'k6 second', qty: 6 })]),
        { applied: 1, skipped: 0, deadLettered: 1 },
      );
      assert.deepEqual(await sink.apply([ev('poison', 'u', 5n, { name: 'k5 third', qty: 4 })]), {
        applied: 0,
        skipped: 0,
        deadLettered: 1,
      });
      assert.equal((await h.readRows(t)).find((r) => r.id === 6n)?.name, 'k6 second');
      assert.equal(
        (await h.readRows(t)).some((r) => r.id === 5n),
        false,
      );

      const open = await sink.deadLetters.list({ table: 'poison' });
      assert.equal(open.length, 1);
      const dl = open[0]!;
      assert.equal(dl.keyText, '5');
      assert.equal(dl.parked, 2);
      assert.equal(dl.status, 'open');
      assert.ok(dl.errorCode && dl.errorMessage, 'the error is stored');
      const shown = await sink.deadLetters.show(dl.id);
      assert.deepEqual(shown?.event.after, { id: 5n, name: 'k5', qty: -5 });
      assert.equal(shown?.event.version, batch1[4]!.version);
      assert.deepEqual(
        shown?.parkedEvents.map((p) => p.op),
        ['u', 'u'],
      );

      // Replaying before the fix fails again: it stays, with one more attempt.
      const again = await sink.deadLetters.replay(dl.id);
      assert.equal(again.open?.id, dl.id);
      assert.equal(again.open?.parked, 2);
      assert.equal((await sink.deadLetters.list({ table: 'poison' }))[0]?.attempts, 2);

      await h.exec(`ALTER TABLE ${q('poison')} DROP CONSTRAINT ${q('poison_qty')}`);
      const replayed = await sink.deadLetters.replay(dl.id);
      assert.deepEqual(replayed, { applied: 3, skipped: 0, released: 3 });
      assert.deepEqual(
        (await h.readRows(t)).find((r) => r.id === 5n),
        { id: 5n, name: 'k5 third', qty: 4 },
      );
      assert.deepEqual(await sink.deadLetters.list({ table: 'poison' }), []);
      assert.deepEqual(
        (await sink.deadLetters.list({ table: 'poison', status: 'all' })).map((d) => d.status),
        ['replayed', 'replayed', 'replayed'],
      );
      // The key flows again.
      assert.equal((await sink.apply([ev('poison', 'u', 5n, { name: 'k5 fourth', qty: 1 })])).applied, 1);
      await assert.rejects(sink.deadLetters.replay(dl.id), (e) => isSluiceError(e, 'SLUICE_ERR_CONFIG'));
    });

    test('skipping a dead letter drops it and applies the parked events in order; one failing again becomes the open one', async () => {
      const t = itemsTable('skipping');
      await createTable(t, [`CONSTRAINT ${q('skipping_qty')} CHECK (${q('qty')} >= 0)`]);
      const sink = h.createSink({ tables: [t] });
      await sink.apply([ev('skipping', 'c', 1n, { name: 'ok', qty: 1 })]);
      await sink.apply([ev('skipping', 'u', 1n, { name: 'bad', qty: -1 })]);
      await sink.apply([ev('skipping', 'u', 1n, { name: 'p1', qty: 2 }), ev('skipping', 'u', 1n, { name: 'p2 bad', qty: -2 })]);
      await sink.apply([ev('skipping', 'u', 1n, { name: 'p3', qty: 3 })]);
      const [dl] = await sink.deadLetters.list({ table: 'skipping' });
      assert.equal(dl?.parked, 3);
      const r = await sink.deadLetters.skip(dl!.id);
      assert.equal(r.applied, 1);
      assert.equal(r.released, 1);
      assert.equal(r.open?.parked, 1);
      assert.deepEqual(await h.readRows(t), [{ id: 1n, name: 'p1', qty: 2 }]);
      const [next] = await sink.deadLetters.list({ table: 'skipping' });
      assert.equal(next?.id, r.open?.id);
      assert.equal(next?.parked, 1);
      const r2 = await sink.deadLetters.skip(next!.id);
      assert.deepEqual(r2, { applied: 1, skipped: 0, released: 1 });
      assert.deepEqual(await h.readRows(t), [{ id: 1n, name: 'p3', qty: 3 }]);
      assert.deepEqual(
        (await sink.deadLetters.list({ table: 'skipping', status: 'all' })).map((d) => d.status),
        ['skipped', 'replayed', 'skipped', 'replayed'],
      );
    });

    test('poison isolation: several poison events among many keys, each dead-lettered once, everything else applied once', async () => {
      const t = itemsTable('isolate');
      await createTable(t, [`CONSTRAINT ${q('isolate_qty')} CHECK (${q('qty')} >= 0)`]);
      const sink = h.createSink({ tables: [t] });
      const poison = new Set([7n, 50n, 51n, 200n]);
      const batch = Array.from({ length: 250 }, (_, i) => BigInt(i + 1)).map((id) =>
        ev('isolate', 'c', id, { name: String(id), qty: poison.has(id) ? -1 : 1 }),
      );
      assert.deepEqual(await sink.apply(batch, { name: 'iso', position: 'p1' }), { applied: 246, skipped: 0, deadLettered: 4 });
      assert.equal((await h.readRows(t)).length, 246);
      assert.deepEqual((await sink.deadLetters.list({ table: 'isolate' })).map((d) => d.keyText).sort(), ['200', '50', '51', '7']);
      // Replaying the batch is a no-op: applied ones are skipped, the poison ones are already stored.
      assert.deepEqual(await sink.apply(batch, { name: 'iso', position: 'p1' }), { applied: 0, skipped: 250, deadLettered: 0 });
      const [first] = await sink.deadLetters.list({ table: 'isolate' });
      assert.equal(first?.parked, 0);
    });

    test('an event whose value does not fit its column, or whose row image is incomplete, is dead-lettered', async () => {
      const t = itemsTable('badvalue');
      await createTable(t);
      const sink = h.createSink({ tables: [t] });
      const tooBig = { ...ev('badvalue', 'c', 1n), after: { id: 1n, name: 'x', qty: 2 ** 40 } } as ChangeEvent;
      const missing = { ...ev('badvalue', 'c', 2n), after: { id: 2n, name: 'x' } } as unknown as ChangeEvent;
      const wrongKey = { ...ev('badvalue', 'c', 3n), key: { id: 'three' } } as unknown as ChangeEvent;
      const r = await sink.apply([tooBig, missing, wrongKey, ev('badvalue', 'c', 4n, { name: 'fine' })]);
      assert.deepEqual(r, { applied: 1, skipped: 0, deadLettered: 3 });
      const dls = await sink.deadLetters.list({ table: 'badvalue' });
      const byKey = new Map(dls.map((d) => [d.keyText, d.errorMessage ?? '']));
      assert.equal(dls.length, 3);
      assert.match(byKey.get('1')!, /int32/);
      assert.match(byKey.get('2')!, /lacks column "qty"/);
      assert.match([...byKey.entries()].find(([k]) => k.startsWith('invalid:'))?.[1] ?? '', /key column "id"/);
      assert.deepEqual(
        (await h.readRows(t)).map((x) => x.id),
        [4n],
      );
    });

    test('an event whose row image holds another key is dead-lettered; the same key spelled otherwise is applied', async () => {
      const t = itemsTable('keycheck');
      await createTable(t);
      const sink = h.createSink({ tables: [t] });
      const other = { ...ev('keycheck', 'u', 5n), after: { id: 6n, name: 'x', qty: 1 } } as ChangeEvent;
      const spelled = { ...ev('keycheck', 'u', 7n, { name: 'seven', qty: 7 }), key: { id: '7' } } as unknown as ChangeEvent;
      assert.deepEqual(await sink.apply([other, spelled]), { applied: 1, skipped: 0, deadLettered: 1 });
      const [dl] = await sink.deadLetters.list({ table: 'keycheck' });
      assert.equal(dl?.keyText, '5');
      assert.match(dl?.errorMessage ?? '', /row image's key differs from the event's key/);
      assert.deepEqual(
        (await h.readRows(t)).map((r) => [r.id, r.name]),
        [[7n, 'seven']],
      );
    });

    test('a large batch encoded as it is sent: values that do not fit are dead-lettered alone, wherever they fall', async () => {
      const t = itemsTable('sliced');
      await createTable(t);
      const sink = h.createSink({ tables: [t] });
      // 12,000 changes: on PostgreSQL COPYed as new keys, each row encoded as the version rows'
      // stream takes it (one that does not fit gets no version row); on PGlite through the stage.
      const bad = new Set([100n, 2600n, 5000n, 12000n]);
      const batch = Array.from({ length: 12_000 }, (_, i) => {
        const id = BigInt(i + 1);
        return bad.has(id)
          ? ({ ...ev('sliced', 'c', id), after: { id, name: 'x', qty: 2 ** 40 } } as ChangeEvent)
          : ev('sliced', 'c', id, { name: `n${id}`, qty: i % 7 });
      });
      assert.deepEqual(await sink.apply(batch), { applied: 11_996, skipped: 0, deadLettered: 4 });
      const dls = await sink.deadLetters.list({ table: 'sliced' });
      assert.deepEqual(dls.map((d) => d.keyText).sort(), ['100', '12000', '2600', '5000']);
      const rows = await h.readRows(t);
      assert.equal(rows.length, 11_996);
      assert.ok(rows.every((r) => !bad.has(r.id as bigint) && r.name === `n${r.id}`));
    });

    test('binding checks the target table: it must exist, have every column, and be keyed like the source', async () => {
      const src = itemsTable('bind_src');
      const text = nativeType(h.dialect, { kind: 'string' });
      await assert.rejects(
        h.createSink({ tables: [src] }).prepare(),
        (e) => isSluiceError(e, 'SLUICE_ERR_SCHEMA_INVALID') && /bind_src does not exist/.test(e.message),
      );
      await h.exec(`CREATE TABLE ${q('bind_src')} (${q('id')} bigint NOT NULL PRIMARY KEY, ${q('name')} ${text})`);
      await assert.rejects(
        h.createSink({ tables: [src] }).prepare(),
        (e) => isSluiceError(e, 'SLUICE_ERR_SCHEMA_INVALID') && /lacks column "qty"/.test(e.message),
      );
      await h.exec(`DROP TABLE ${q('bind_src')}`);
      await h.exec(
        `CREATE TABLE ${q('bind_src')} (${q('id')} bigint NOT NULL, ${q('name')} ${text}, ${q('qty')} int NOT NULL, PRIMARY KEY (${q('id')}, ${q('qty')}))`,
      );
      await assert.rejects(
        h.createSink({ tables: [src] }).prepare(),
        (e) => isSluiceError(e, 'SLUICE_ERR_SCHEMA_INVALID') && /keyed by \(id, qty\)/.test(e.message),
      );
    });

    test('a target without a primary key is applied by a unique key on the key columns', async () => {
      const t = itemsTable('unique_only');
      const text = nativeType(h.dialect, { kind: 'string' });
      await h.exec(
        `CREATE TABLE ${q('unique_only')} (${q('id')} bigint NOT NULL, ${q('name')} ${text}, ${q('qty')} int NOT NULL, CONSTRAINT ${q('unique_only_id')} UNIQUE (${q('id')}))`,
      );
      const sink = h.createSink({ tables: [t] });
      await sink.apply([ev('unique_only', 'c', 1n, { name: 'a' }, 1n), ev('unique_only', 'c', 2n, { name: 'b' }, 1n)]);
      await sink.apply([
        ev('unique_only', 'u', 1n, { name: 'a2' }, 2n),
        ev('unique_only', 'd', 2n, undefined, 2n),
        ev('unique_only', 'u', 1n, { name: 'stale' }, 1n),
      ]);
      assert.deepEqual(await h.readRows(t), [{ id: 1n, name: 'a2', qty: 0 }]);
    });

    test('a closed connection is a transient failure', async () => {
      const t = itemsTable('closed');
      await createTable(t);
      const sink = h.createSink({ tables: [t] });
      await sink.prepare();
      await h.closeConnection();
      await assert.rejects(
        sink.apply([ev('closed', 'c', 1n, { name: 'a' })], { name: 'closed', position: 'p1' }),
        (e) => isSluiceError(e) && e.retriable,
      );
    });
  });
}
