/**
 * The statements reconcile runs, built for one Side (a table in PostgreSQL/PGlite or MariaDB).
 * Keys cross between the databases as canonical text (canonical.ts) and are bound as parameters,
 * cast to the column's type; identifiers are quoted; nothing else is spliced into SQL text.
 *
 *   rangeEnd      the key `limit` keys further in the source's key index (OFFSET over an
 *                 index-only scan): ranges come from the keys that exist, never from arithmetic on
 *                 the key space.
 *   nextRangeSums the next `limit` keys' count, hash sum and last key in one statement (the
 *                 walk and the checksum together; PostgreSQL, one integer key column).
 *   bucketStarts  every B-th key inside a range: where its buckets start.
 *   keyGrid       even-width buckets inside a range of a one-column integer key (no walk).
 *   bucketSums    count + sum of 64-bit row hashes per bucket of a range (one bucket: the whole
 *                 range), one statement; arithmetic on a grid, width_bucket on PostgreSQL, a
 *                 nested CASE otherwise.
 *   rowHashes     (key, row hash) in key order inside some ranges, a page at a time: the row merge.
 *   hashesForKeys (key, row hash) of given keys: the re-check.
 */
import type { Column } from '../core/table-schema.js';
import { quoteMysql, quotePg } from '../metadata/sql-names.js';
import { canonicalColumnSql, canonicalRowSql, hash64Sql, mod64 } from './canonical.js';
import type { KeyTexts } from './keys.js';
import type { Side } from './side.js';

export interface Bound {
  readonly key: KeyTexts;
  readonly inclusive: boolean;
}

export interface KeyRange {
  /** Absent: from the lowest key. */
  readonly lower?: Bound;
  /** Absent: to the highest key (the open end catches target rows beyond the source's last key). */
  readonly upper?: Bound;
}

/** Bound values in the order their placeholders appear in the SQL text (MariaDB's are positional). */
class Params {
  readonly values: unknown[] = [];
  constructor(private readonly family: Side['family']) {}
  add(v: unknown): string {
    this.values.push(v);
    return this.family === 'mysql' ? '?' : `$${this.values.length}`;
  }
}

const q = (side: Side, name: string) => (side.family === 'mysql' ? quoteMysql(name) : quotePg(name));
const col = (side: Side, c: Column) => `t.${q(side, c.name)}`;

/** The expression a key column is ordered and compared by (see keys.ts for why this order). */
function orderExpr(side: Side, c: Column): string {
  const ref = col(side, c);
  const kind = c.type.kind;
  if (side.family === 'pg') return kind === 'string' ? `${ref} COLLATE "C"` : ref;
  if (kind === 'string' || kind === 'uuid') return `CAST(${canonicalColumnSql('mysql', c, ref)} AS BINARY)`;
  return ref;
}

/** The PostgreSQL type a key's canonical text is cast to (bytes and timestamptz need more than a cast). */
const PG_KEY_TYPE: Record<Column['type']['kind'], string> = {
  int16: 'smallint',
  int32: 'integer',
  int64: 'bigint',
  decimal: 'numeric',
  float32: 'real',
  float64: 'double precision',
  boolean: 'boolean',
  bytes: 'bytea',
  uuid: 'uuid',
  date: 'date',
  time: 'time',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  string: 'text',
  json: 'text',
};

/** A canonical key text bound as a parameter, cast to compare with orderExpr. */
function keyParam(side: Side, c: Column, text: string, p: Params): string {
  const ph = p.add(text);
  const kind = c.type.kind;
  if (side.family === 'pg') {
    if (kind === 'bytes') return `decode(${ph}::text, 'hex')`;
    if (kind === 'timestamptz') return `(${ph}::timestamp AT TIME ZONE 'UTC')`;
    return `${ph}::${PG_KEY_TYPE[kind]}${kind === 'string' ? ' COLLATE "C"' : ''}`;
  }
  switch (kind) {
    case 'int16':
    case 'int32':
    case 'int64':
    case 'boolean':
      // A bigint value: mysql2 writes it as an integer literal, compared exactly and ~40% cheaper
      // per row than CAST(? AS SIGNED) in a bucket's CASE.
      p.values[p.values.length - 1] = BigInt(text);
      return ph;
    case 'decimal':
      return `CAST(${ph} AS DECIMAL(65,30))`;
    case 'float32':
    case 'float64':
      return `CAST(${ph} AS DOUBLE)`;
    case 'bytes':
      return `UNHEX(${ph})`;
    case 'date':
      return `CAST(${ph} AS DATE)`;
    case 'time':
      return `CAST(${ph} AS TIME(6))`;
    case 'timestamp':
    case 'timestamptz':
      return `CAST(${ph} AS DATETIME(6))`;
    case 'string':
    case 'uuid':
      return `CAST(CONVERT(${ph} USING utf8mb4) AS BINARY)`;
    default:
      return ph;
  }
}

function tuple(parts: readonly string[]): string {
  return parts.length === 1 ? parts[0]! : `(${parts.join(', ')})`;
}

function compare(side: Side, op: string, key: KeyTexts, p: Params): string {
  const left = tuple(side.keyColumns.map((c) => orderExpr(side, c)));
  const right = tuple(side.keyColumns.map((c, i) => keyParam(side, c, key[i]!, p)));
  return `${left} ${op} ${right}`;
}

function rangeWhere(side: Side, r: KeyRange, p: Params): string {
  const parts: string[] = [];
  if (r.lower) parts.push(compare(side, r.lower.inclusive ? '>=' : '>', r.lower.key, p));
  if (r.upper) parts.push(compare(side, r.upper.inclusive ? '<=' : '<', r.upper.key, p));
  return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
}

const orderBy = (side: Side) => side.keyColumns.map((c) => orderExpr(side, c)).join(', ');
const keyTextsSql = (side: Side) =>
  side.keyColumns.map((c, i) => `${canonicalColumnSql(side.family, c, col(side, c))} AS k${i}`).join(', ');
const rowHashSql = (side: Side) => hash64Sql(side.family, canonicalRowSql(side.family, side.columns, 't'));
const asText = (side: Side, e: string) => (side.family === 'mysql' ? `CAST(${e} AS CHAR)` : `(${e})::text`);

function keyOf(side: Side, row: Record<string, unknown>): string[] {
  return side.keyColumns.map((_, i) => textOf(row[`k${i}`]));
}

function textOf(v: unknown): string {
  return typeof v === 'string' ? v : v instanceof Buffer ? v.toString('utf8') : String(v);
}

export interface BucketSum {
  readonly rows: number;
  /** Sum of the rows' 64-bit hashes modulo 2^64. */
  readonly sum: bigint;
}

/** A (count, sum) pair as the databases return them, as text; an empty set's sum is NULL. */
function bucketSum(n: string, s: string | null): BucketSum {
  return { rows: Number(n), sum: s === null ? 0n : mod64(s) };
}

/**
 * The end of the next range: the `limit`-th key after `after` in key order, found by walking the
 * source's key index (OFFSET over an index-only scan: ranges follow the keys that exist, never
 * arithmetic on the key space). Undefined when fewer keys remain: the range is the last one.
 */
export async function rangeEnd(side: Side, after: KeyTexts | undefined, limit: number): Promise<KeyTexts | undefined> {
  const p = new Params(side.family);
  const rawKeys = side.keyColumns.map((c) => col(side, c)).join(', ');
  const where = rangeWhere(side, after ? { lower: { key: after, inclusive: false } } : {}, p);
  const off = p.add(limit - 1);
  const sql = `SELECT ${side.keyColumns.map((c, i) => `${canonicalColumnSql(side.family, c, `x.${q(side, c.name)}`)} AS k${i}`).join(', ')}
    FROM (SELECT ${rawKeys} FROM ${side.tableSql} t ${where} ORDER BY ${orderBy(side)} LIMIT 1 OFFSET ${off}) x`;
  const rows = await side.query<Record<string, unknown>>(sql, p.values);
  return rows[0] ? keyOf(side, rows[0]) : undefined;
}

/**
 * Whether nextRangeSums serves this side: PostgreSQL, one integer key column. Not a string key:
 * unless its index is in code-point order, LIMIT would sort every remaining row, hashes included,
 * for each range (rangeEnd sorts only the keys).
 */
export function fusedWalk(side: Side): boolean {
  return side.family === 'pg' && integerKey(side);
}

/**
 * The next range and its checksum in one statement (fusedWalk sides): the `limit` keys after
 * `after` in key order (an index scan stopped by LIMIT), their count and hash sum, and the last
 * of them, which ends the range. No end: fewer than `limit` keys remained, so the range is the
 * last one, open above. Saves rangeEnd's separate walk over the same index entries.
 */
export async function nextRangeSums(side: Side, after: KeyTexts | undefined, limit: number): Promise<{ end?: KeyTexts; sum?: BucketSum }> {
  const p = new Params(side.family);
  const c = side.keyColumns[0]!;
  const where = rangeWhere(side, after ? { lower: { key: after, inclusive: false } } : {}, p);
  const sql = `SELECT (count(*))::text AS n, (sum(x.h))::text AS s, ${canonicalColumnSql(side.family, c, 'max(x.k)')} AS e FROM (
      SELECT ${orderExpr(side, c)} AS k, ${rowHashSql(side)} AS h FROM ${side.tableSql} t ${where} ORDER BY 1 LIMIT ${p.add(limit)}
    ) x`;
  const r = (await side.query<{ n: string; s: string | null; e: unknown }>(sql, p.values))[0]!;
  const rows = Number(r.n);
  return {
    ...(rows === limit ? { end: [textOf(r.e)] } : {}),
    ...(rows > 0 ? { sum: bucketSum(r.n, r.s) } : {}),
  };
}

/**
 * The keys that start buckets of `bucketRows` rows inside a range, in key order (the 1st, B+1-th,
 * 2B+1-th … key, the first left out: bucket 0 starts with the range). Canonical text is computed
 * only for the keys returned.
 */
export async function bucketStarts(side: Side, range: KeyRange, bucketRows: number): Promise<KeyTexts[]> {
  const p = new Params(side.family);
  const rawKeys = side.keyColumns.map((c) => col(side, c)).join(', ');
  const keyTexts = side.keyColumns.map((c, i) => `${canonicalColumnSql(side.family, c, `x.${q(side, c.name)}`)} AS k${i}`).join(', ');
  const where = rangeWhere(side, range, p);
  const b = p.add(bucketRows);
  // The computed column carries a prefix no user column is expected to have (the keys are beside it).
  const sql = `SELECT ${keyTexts} FROM (
      SELECT t.*, row_number() OVER (ORDER BY ${orderBy(side)}) AS sluice__rn FROM (SELECT ${rawKeys} FROM ${side.tableSql} t ${where}) t
    ) x WHERE x.sluice__rn % ${b} = 1 AND x.sluice__rn > 1 ORDER BY x.sluice__rn`;
  return (await side.query<Record<string, unknown>>(sql, p.values)).map((r) => keyOf(side, r));
}

/**
 * Buckets of equal key width inside a range of a one-column integer key: start j is
 * lo + (j+1)·width, so a row's bucket is arithmetic on its key instead of a search among starts.
 * The range itself still comes from the key index (rangeEnd); only its inside is cut evenly,
 * which gaps in the keys make uneven in rows but never wrong.
 */
export interface KeyGrid {
  readonly lo: bigint;
  readonly width: bigint;
  /** Number of starts (buckets − 1). */
  readonly count: number;
}

const INT64_MAX = 2n ** 63n - 1n;

/** Whether a side's key is one integer column (the only kind a KeyGrid applies to). */
export function integerKey(side: Side): boolean {
  const k = side.keyColumns.length === 1 ? side.keyColumns[0]!.type.kind : undefined;
  return k === 'int16' || k === 'int32' || k === 'int64';
}

/**
 * A grid of about `rows / bucketRows` buckets over the keys of `range` (its open ends closed at
 * the source's lowest/highest key, read from the index), or undefined when the keys are too
 * sparse for even widths to mean even rows (more than `maxSpread` key values per row): then the
 * starts are read from the index instead (bucketStarts).
 */
export async function keyGrid(
  side: Side,
  range: KeyRange,
  rows: number,
  bucketRows: number,
  maxSpread = 4,
): Promise<{ grid: KeyGrid; starts: KeyTexts[] } | undefined> {
  if (!integerKey(side) || rows <= bucketRows) return undefined;
  const lo = range.lower ? BigInt(range.lower.key[0]!) + (range.lower.inclusive ? 0n : 1n) : await keyEdge(side, 'min');
  const hi = range.upper ? BigInt(range.upper.key[0]!) - (range.upper.inclusive ? 0n : 1n) : await keyEdge(side, 'max');
  if (lo === undefined || hi === undefined || hi < lo) return undefined;
  const span = hi - lo + 1n;
  if (span > BigInt(Math.ceil(rows * maxSpread))) return undefined;
  const buckets = BigInt(Math.ceil(rows / bucketRows));
  const width = (span + buckets - 1n) / buckets;
  const count = Number((span + width - 1n) / width) - 1;
  if (count < 1 || lo + BigInt(count) * width > INT64_MAX) return undefined;
  const starts: KeyTexts[] = [];
  for (let j = 1; j <= count; j++) starts.push([String(lo + BigInt(j) * width)]);
  return { grid: { lo, width, count }, starts };
}

async function keyEdge(side: Side, edge: 'min' | 'max'): Promise<bigint | undefined> {
  const k = col(side, side.keyColumns[0]!);
  const rows = await side.query<{ k: unknown }>(`SELECT ${asText(side, `${edge}(${k})`)} AS k FROM ${side.tableSql} t`, []);
  const v = rows[0]?.k;
  return v === null || v === undefined ? undefined : BigInt(textOf(v));
}

/** The bucket of a row by its key's offset from the grid's start; CASE keeps the subtraction in range. */
function gridSql(side: Side, g: KeyGrid, p: Params): string {
  const k = col(side, side.keyColumns[0]!);
  // MariaDB: a bigint value is written as an integer literal by mysql2.
  const big = (v: bigint) => (side.family === 'pg' ? `${p.add(String(v))}::bigint` : p.add(v));
  const div = side.family === 'pg' ? '/' : 'DIV';
  // Built in text order: MariaDB's placeholders are positional.
  const below = big(g.lo);
  const above = big(g.lo + BigInt(g.count) * g.width);
  const last = p.add(g.count);
  const offset = big(g.lo);
  const width = big(g.width);
  return `CASE WHEN ${k} < ${below} THEN 0 WHEN ${k} >= ${above} THEN ${last} ELSE (${k} - ${offset}) ${div} ${width} END`;
}

/**
 * Count + hash sum per bucket of a range, bucket i holding the keys in [starts[i-1], starts[i])
 * (bucket 0 from the range's start). With a grid the bucket is arithmetic on the key (see
 * KeyGrid); PostgreSQL with a one-column key finds it with width_bucket (a binary search in C);
 * otherwise a nested CASE does the binary search in SQL. One bucket: a plain aggregate.
 */
export async function bucketSums(
  side: Side,
  range: KeyRange,
  starts: readonly KeyTexts[],
  grid?: KeyGrid,
): Promise<Map<number, BucketSum>> {
  const p = new Params(side.family);
  if (starts.length === 0) {
    // No grouping: a plain aggregate is about 5% cheaper per row than GROUP BY on a constant.
    const where = rangeWhere(side, range, p);
    const sql = `SELECT ${asText(side, 'count(*)')} AS n, ${asText(side, `sum(${rowHashSql(side)})`)} AS s FROM ${side.tableSql} t ${where}`;
    const r = (await side.query<{ n: string; s: string | null }>(sql, p.values))[0];
    const out = new Map<number, BucketSum>();
    if (r && Number(r.n) > 0) out.set(0, bucketSum(r.n, r.s));
    return out;
  }
  let bucketSql: string;
  if (grid) bucketSql = gridSql(side, grid, p);
  else if (side.family === 'pg' && side.keyColumns.length === 1) {
    const c = side.keyColumns[0]!;
    bucketSql = `width_bucket(${orderExpr(side, c)}, ${arrayParam(
      c,
      starts.map((k) => k[0]!),
      p,
    )})`;
  } else {
    const bucket = (lo: number, hi: number): string => {
      if (lo === hi) return String(lo);
      const mid = (lo + hi + 1) >> 1;
      return `CASE WHEN ${compare(side, '<', starts[mid - 1]!, p)} THEN ${bucket(lo, mid - 1)} ELSE ${bucket(mid, hi)} END`;
    };
    // Built in text order: MariaDB's placeholders are positional.
    bucketSql = bucket(0, starts.length);
  }
  const where = rangeWhere(side, range, p);
  const sql = `SELECT b, ${asText(side, 'count(*)')} AS n, ${asText(side, 'sum(h)')} AS s FROM (
      SELECT ${bucketSql} AS b, ${rowHashSql(side)} AS h FROM ${side.tableSql} t ${where}
    ) x GROUP BY b`;
  const rows = await side.query<{ b: unknown; n: string; s: string | null }>(sql, p.values);
  const out = new Map<number, BucketSum>();
  for (const r of rows) out.set(Number(r.b), bucketSum(r.n, r.s));
  return out;
}

/** An array of canonical key texts bound as one parameter, cast to the key's PostgreSQL type. */
function arrayParam(c: Column, texts: readonly string[], p: Params): string {
  const ph = p.add(texts);
  if (c.type.kind === 'bytes')
    return `(SELECT array_agg(decode(x, 'hex') ORDER BY i) FROM unnest(${ph}::text[]) WITH ORDINALITY AS u(x, i))`;
  if (c.type.kind === 'timestamptz')
    return `(SELECT array_agg(x::timestamp AT TIME ZONE 'UTC' ORDER BY i) FROM unnest(${ph}::text[]) WITH ORDINALITY AS u(x, i))`;
  return `${ph}::${PG_KEY_TYPE[c.type.kind]}[]`;
}

export interface KeyHash {
  readonly key: KeyTexts;
  readonly hash: bigint;
}

/** One page of (key, row hash) in key order, from the union of `ranges`, after `after`. */
export async function rowHashes(side: Side, ranges: readonly KeyRange[], after: KeyTexts | undefined, limit: number): Promise<KeyHash[]> {
  const p = new Params(side.family);
  const parts: string[] = [];
  if (after) parts.push(compare(side, '>', after, p));
  const each = ranges.map((r) => rangeWhere(side, r, p).replace(/^WHERE /, '')).filter((w) => w !== '');
  if (each.length === ranges.length && each.length > 0) parts.push(`(${each.map((w) => `(${w})`).join(' OR ')})`);
  const where = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
  const sql = `SELECT ${keyTextsSql(side)}, ${asText(side, rowHashSql(side))} AS h FROM ${side.tableSql} t ${where} ORDER BY ${orderBy(side)} LIMIT ${p.add(limit)}`;
  const rows = await side.query<Record<string, unknown>>(sql, p.values);
  return rows.map((r) => ({ key: keyOf(side, r), hash: mod64(textOf(r.h)) }));
}

/**
 * (key, row hash) of the rows with these keys, matched by each column's own equality (so an
 * index serves it); the caller maps results back by canonical key text.
 */
export async function hashesForKeys(side: Side, keys: readonly KeyTexts[]): Promise<KeyHash[]> {
  if (keys.length === 0) return [];
  const p = new Params(side.family);
  const cols = side.keyColumns.map((c) => col(side, c));
  const list = keys.map((k) => tuple(side.keyColumns.map((c, i) => equalityParam(side, c, k[i]!, p)))).join(', ');
  const sql = `SELECT ${keyTextsSql(side)}, ${asText(side, rowHashSql(side))} AS h FROM ${side.tableSql} t WHERE ${tuple(cols)} IN (${list})`;
  const rows = await side.query<Record<string, unknown>>(sql, p.values);
  return rows.map((r) => ({ key: keyOf(side, r), hash: mod64(textOf(r.h)) }));
}

function equalityParam(side: Side, c: Column, text: string, p: Params): string {
  // For equality the column's own collation is fine (and lets the index serve); only the order
  // needed the engines' common ground.
  if (c.type.kind === 'string') return side.family === 'pg' ? `${p.add(text)}::text` : p.add(text);
  if (side.family === 'mysql' && c.type.kind === 'uuid') return p.add(text);
  return keyParam(side, c, text, p);
}

/** The planner's row estimate (no scan), for the progress bar. */
export async function estimateRows(side: Side): Promise<number | undefined> {
  try {
    if (side.family === 'pg') {
      const r = await side.query<{ n: string }>(`SELECT reltuples::bigint::text AS n FROM pg_class WHERE oid = $1::regclass`, [
        side.tableSql,
      ]);
      const n = Number(r[0]?.n ?? -1);
      return n >= 0 ? n : undefined;
    }
    const r = await side.query<{ n: string | null }>(
      'SELECT CAST(table_rows AS CHAR) AS n FROM information_schema.tables WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ?',
      [side.table.schema ?? null, side.table.name],
    );
    return r[0]?.n ? Number(r[0].n) : undefined;
  } catch {
    return undefined;
  }
}
