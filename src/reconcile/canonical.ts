/**
 * Canonical row text and its 64-bit hash, computed inside each database so that a source and a
 * target compare by count + sum of row hashes per key range without moving rows.
 *
 * The text of a column is decided by its logical type: the source column's portable type, which
 * is what the pipeline carries and writes into the target, the same on both sides. Each side only
 * decides how to read that value out of its own column (a PostgreSQL uuid and a MariaDB CHAR(36)
 * both give the lowercase uuid text; a boolean in a MariaDB TINYINT gives 1 / 0). So equal values
 * give equal text on PostgreSQL, PGlite and MariaDB whatever column types apply wrote them into,
 * and any difference in a value changes the text. The text of a value, per logical kind:
 *
 *   integers: decimal. boolean: 1 / 0 (any non-zero number is 1). decimal: no trailing
 *     fractional zeros, no trailing '.'.
 *   float32/float64 (float32 widened exactly to double; a float32 held in a wider column is
 *     rounded to float32 first): PostgreSQL's float8 text (shortest
 *     digits, plain from 1e-4 to below 1e15, else 1.5e-10, 1e-05, 1e+15, 1e+50), -0 as 0; except
 *     that integers from 2^53 to below 2^136 are written exactly ('87101021409035008', 1e23 as
 *     '99999999999999991611392'): see pgFloat below.
 *   string: the text. bytes: lowercase hex. uuid: lowercase 8-4-4-4-12 (also from a text column).
 *   json: the document by value, in MariaDB's JSON_NORMALIZE form (see pgJson below): keys sorted
 *     by their bytes, no whitespace, numbers by decimal value as d.dddE<n> (1, 1.0, 1e0 and 10e-1
 *     are all 1.0E0; -0 is 0.0E0; no rounding through a double), strings as JSON text.
 *   date: YYYY-MM-DD. time: HH:MM:SS[.f] and timestamp: YYYY-MM-DD HH:MM:SS[.f], the fraction
 *     without trailing zeros (PostgreSQL's own output, so its side is a plain cast; timestamp(3)
 *     '…05.12' equals DATETIME(6) '…05.120000'); this text still sorts like the value.
 *   timestamptz: as timestamp, in UTC (MariaDB TIMESTAMP under the session's '+00:00'; DATETIME
 *     holding UTC compares as it is).
 *
 * Known limits. A string column written into another kind of column (text into jsonb, a MariaDB
 * CHAR(36) into a PostgreSQL uuid) compares as text, so what the target's type rewrote (jsonb's
 * formatting, uuid's case) shows as different. JSON strings compare by their JSON text in
 * PostgreSQL's escaping (what sluice and JSON.stringify write): MariaDB keeps a document's own
 * escapes, so one spelling é as \u00e9 or / as \/ differs; duplicate keys (jsonb keeps the last,
 * MariaDB both) and documents nested deeper than 32 levels (beyond JSON_NORMALIZE) differ too.
 * JSON on MariaDB needs JSON_NORMALIZE (10.7+; not MySQL). A PostgreSQL numeric without precision
 * is a string column (metadata/pg-catalog.ts) and compares as text ('1.50'). MariaDB CHAR keeps no
 * trailing spaces (like bpchar::text) unless PAD_CHAR_TO_FULL_LENGTH is set. The MariaDB float
 * rewrite was verified on MariaDB 10.11 only; MySQL 8's float text was not checked.
 */
import { createHash } from 'node:crypto';
import type { Column, ColumnType } from '../core/table-schema.js';
import { quoteMysql, quotePg } from '../metadata/sql-names.js';

export type SqlFamily = 'pg' | 'mysql'; // 'pg' serves both PostgreSQL and PGlite

/**
 * A column as one side reads it: `type` is this side's own (how to read the stored value),
 * `logical` the source column's portable type (which canonical text to make of it); without
 * `logical` the column's own type is both.
 */
export interface CanonicalColumn extends Column {
  readonly logical?: ColumnType;
}

/** Statements to run once per session before any canonical expression is used. */
export function canonicalSessionSql(family: SqlFamily): readonly string[] {
  return family === 'pg'
    ? // timestamp::text and date::text are ISO only under this DateStyle; float8 text is shortest
      // round-trip only with extra_float_digits > 0 (the default, but a session may lower it).
      ["SET DateStyle = 'ISO, YMD'", 'SET extra_float_digits = 1']
    : // TIMESTAMP columns convert to text in the session's zone.
      ["SET time_zone = '+00:00'"];
}

/** SQL expression for one column's canonical text, NULL when the value is NULL. */
export function canonicalColumnSql(family: SqlFamily, column: CanonicalColumn, ref: string): string {
  const logical = column.logical ?? column.type;
  return family === 'pg' ? pgColumn(logical, column.type, ref) : mysqlColumn(logical, column.type, ref);
}

/**
 * SQL expression for the canonical text of a whole row over `columns`, never NULL: each field `\N`
 * when NULL, string fields as `<char_length>:<text>` so that NULL, '' and separators inside
 * values are unambiguous, fields joined by '|'. A json field needs no length: its canonical text
 * is one complete JSON value, which ends where it ends, and is never `\N`. Whether a field is
 * length-prefixed follows its logical type, so both sides agree.
 */
export function canonicalRowSql(family: SqlFamily, columns: readonly CanonicalColumn[], alias?: string): string {
  if (columns.length === 0) return "''";
  const quote = family === 'pg' ? quotePg : quoteMysql;
  const fields = columns.map((c) => {
    const e = canonicalColumnSql(family, c, alias ? `${alias}.${quote(c.name)}` : quote(c.name));
    const prefixed = (c.logical ?? c.type).kind === 'string';
    if (family === 'pg') return `coalesce(${prefixed ? `length(${e}) || ':' || ${e}` : e}, ${PG_NULL})`;
    return `IFNULL(${prefixed ? `CONCAT(CHAR_LENGTH(${e}), ':', ${e})` : e}, ${MYSQL_NULL})`;
  });
  return family === 'pg' ? fields.join(" || '|' || ") : `CONCAT(${fields.join(", '|', ")})`;
}

// `\N` written so that neither standard_conforming_strings nor NO_BACKSLASH_ESCAPES changes it.
const PG_NULL = "E'\\\\N'";
const MYSQL_NULL = "_utf8mb4 X'5C4E'";

/**
 * SQL expression: a 64-bit hash of `textSql` as an integer, the first 16 hex digits of the md5 of
 * its UTF-8 bytes; signed on PostgreSQL, unsigned on MariaDB, equal modulo 2^64 (see mod64).
 */
export function hash64Sql(family: SqlFamily, textSql: string): string {
  // convert_to: md5(text) would hash the database encoding's bytes, not UTF-8, in a LATIN1 database.
  if (family === 'pg') return `('x' || substr(md5(convert_to(${textSql}, 'UTF8')), 1, 16))::bit(64)::bigint`;
  return `CAST(CONV(SUBSTRING(MD5(CONVERT(${textSql} USING utf8mb4)), 1, 16), 16, 10) AS UNSIGNED)`;
}

/** The same 64-bit value computed in JS from a canonical text, unsigned. */
export function hash64(text: string): bigint {
  return createHash('md5').update(text, 'utf8').digest().readBigUInt64BE(0);
}

/**
 * An engine's hash or sum of hashes (signed bigint or numeric from PostgreSQL, unsigned or decimal
 * from MariaDB, as text or bigint) reduced to an unsigned 64-bit value, so both sides compare.
 */
export function mod64(value: string | bigint): bigint {
  if (typeof value === 'bigint') return BigInt.asUintN(64, value);
  const m = /^\s*([+-]?\d+)(?:\.0*)?\s*$/.exec(value);
  if (!m) throw new TypeError(`Not an integer hash or hash sum: ${JSON.stringify(value)}`);
  return BigInt.asUintN(64, BigInt(m[1]!));
}

// --- PostgreSQL / PGlite ------------------------------------------------------------------------

const isExactNumber = (t: ColumnType) => t.kind === 'int16' || t.kind === 'int32' || t.kind === 'int64' || t.kind === 'decimal';
const isNumber = (t: ColumnType) => isExactNumber(t) || t.kind === 'float32' || t.kind === 'float64';

/** The canonical text of a `logical` value held in a PostgreSQL column of type `native`. */
function pgColumn(logical: ColumnType, native: ColumnType, ref: string): string {
  switch (logical.kind) {
    case 'boolean':
      if (native.kind !== 'boolean' && isNumber(native)) return `CASE WHEN ${ref} <> 0 THEN '1' WHEN ${ref} = 0 THEN '0' END`;
      break;
    case 'int16':
    case 'int32':
    case 'int64':
    case 'decimal':
      // A numeric without precision reads as a string column (it may hold any digits).
      if (native.kind === 'string') return `trim_scale((${ref})::numeric)::text`;
      break;
    // Apply writes a float32 as its shortest decimal (0.1 for 0.1f): a wider column holds that
    // decimal's double, which rounds back to the float32 the source holds.
    case 'float32':
      if (native.kind !== 'float32' && isNumber(native)) return pgFloat(`(${ref})::float4::float8`);
      break;
    case 'float64':
      if (isExactNumber(native)) return pgFloat(`(${ref})::float8`);
      break;
    case 'json':
      return pgJson(`(${ref})::jsonb`);
    case 'uuid':
      if (native.kind !== 'uuid') return `lower((${ref})::text)`;
      break;
    default:
      break;
  }
  return pgNative(native, ref);
}

/** The canonical text of a PostgreSQL column read as its own type. */
function pgNative(t: ColumnType, ref: string): string {
  switch (t.kind) {
    case 'boolean':
      return `CASE WHEN ${ref} THEN '1' WHEN NOT ${ref} THEN '0' END`;
    case 'int16':
    case 'int32':
    case 'int64':
      return `(${ref})::text`;
    // numeric keeps its scale in text ('1.50'); trim_scale makes numeric(10,2) equal numeric(12,4).
    case 'decimal':
      return t.scale === 0 ? `(${ref})::text` : `trim_scale(${ref})::text`;
    case 'float32':
      return pgFloat(`(${ref})::float8`);
    case 'float64':
      return pgFloat(`(${ref})`);
    case 'bytes':
      return `encode(${ref}, 'hex')`;
    case 'timestamptz':
      return `((${ref}) AT TIME ZONE 'UTC')::text`;
    default:
      return `(${ref})::text`; // string, json (as stored), uuid, date, time, timestamp
  }
}

/*
 * JSON on PostgreSQL, in the text MariaDB's JSON_NORMALIZE gives the same document: objects with
 * members ordered by the bytes of their keys as JSON text (jsonb orders by length first), no
 * whitespace, numbers as d.dddE<n>, strings, true, false, null as jsonb prints them. Rebuilding
 * the order needs one subquery per object or array. The first JSON_LEVELS levels are nested
 * subqueries; below that a recursive query takes over, exact at any depth but slower: for a
 * 10-node document of 3 containers, 62 µs per row recursive against 28 nested (jit off, as
 * reconcile's sessions run; 2 busy cores). Deeper nesting only grew the SQL text.
 */
const JSON_LEVELS = 4;

function pgJson(doc: string): string {
  // Evaluated once: `doc` may be a json/text → jsonb parse, and the node reads its value often.
  return `(SELECT ${pgJsonNode('j0.v', 1)} FROM (SELECT ${doc} AS v) j0)`;
}

/** Byte order of a key as MariaDB sorts it: the key's JSON text without its quotes. */
const pgJsonKeyOrder = (key: string) => `convert_to(substr(to_jsonb(${key})::text, 2, length(to_jsonb(${key})::text) - 2), 'UTF8')`;

function pgJsonNode(v: string, level: number): string {
  if (level > JSON_LEVELS) return pgJsonRecursive(v);
  const a = `j${level}`;
  const type = `jsonb_typeof(${v})`;
  // One subquery for objects and arrays alike, so each level holds the next one once (not twice).
  const members = `SELECT to_jsonb(e.key)::text || ':' AS lead, e.value AS v, ${pgJsonKeyOrder('e.key')} AS o
      FROM jsonb_each(CASE WHEN ${type} = 'object' THEN ${v} ELSE '{}' END) e
    UNION ALL SELECT '', e.value, int8send(e.i)
      FROM jsonb_array_elements(CASE WHEN ${type} = 'array' THEN ${v} ELSE '[]' END) WITH ORDINALITY e(value, i)`;
  const container =
    `(SELECT CASE ${type} WHEN 'object' THEN '{' ELSE '[' END || coalesce(string_agg(${a}.lead || ${pgJsonNode(`${a}.v`, level + 1)}, ',' ORDER BY ${a}.o), '')` +
    ` || CASE ${type} WHEN 'object' THEN '}' ELSE ']' END FROM (${members}) ${a})`;
  return `CASE WHEN ${type} IN ('object', 'array') THEN ${container} WHEN ${type} = 'number' THEN ${pgJsonNumber(v)} ELSE (${v})::text END`;
}

/**
 * A subtree at any depth: each node is emitted as a token with a sort path (bytes), the tokens
 * joined in path order. A member's path step is its key's bytes then \x01 (no key byte is lower
 * once control characters are escaped, so a shorter key sorts first, as MariaDB sorts); an array
 * element's step is its index as 4 big-endian bytes; a container's closing token sorts last under
 * it with \xff, which UTF-8 never contains.
 */
function pgJsonRecursive(root: string): string {
  return `(WITH RECURSIVE n(path, v, lead) AS (
      SELECT ''::bytea, ${root}, ''::text
      UNION ALL
      SELECT n.path || c.step, c.v, c.lead FROM n CROSS JOIN LATERAL (
        SELECT ${pgJsonKeyOrder('e.key')} || decode('01', 'hex') AS step, e.value AS v,
               CASE WHEN row_number() OVER (ORDER BY ${pgJsonKeyOrder('e.key')}) = 1 THEN '' ELSE ',' END || to_jsonb(e.key)::text || ':' AS lead
          FROM jsonb_each(CASE WHEN jsonb_typeof(n.v) = 'object' THEN n.v ELSE '{}' END) e
        UNION ALL
        SELECT int4send(e.i::int), e.value, CASE WHEN e.i = 1 THEN '' ELSE ',' END
          FROM jsonb_array_elements(CASE WHEN jsonb_typeof(n.v) = 'array' THEN n.v ELSE '[]' END) WITH ORDINALITY e(value, i)
      ) c
    )
    SELECT string_agg(tok, '' ORDER BY p) FROM (
      SELECT path AS p, lead || CASE WHEN jsonb_typeof(v) = 'object' THEN '{' WHEN jsonb_typeof(v) = 'array' THEN '['
        WHEN jsonb_typeof(v) = 'number' THEN ${pgJsonNumber('v')} ELSE v::text END AS tok FROM n
      UNION ALL
      SELECT path || decode('ff', 'hex'), CASE WHEN jsonb_typeof(v) = 'object' THEN '}' ELSE ']' END FROM n WHERE jsonb_typeof(v) IN ('object', 'array')
    ) tk)`;
}

/**
 * A jsonb number as JSON_NORMALIZE writes it (strings/json_normalize.c): the decimal digits
 * without leading and trailing zeros as d.ddd (d.0 for one digit), 'E', the decimal exponent;
 * zero (and -0) is 0.0E0. jsonb keeps the number as numeric, whose text is plain digits.
 */
function pgJsonNumber(v: string): string {
  const n = `(${v})::numeric`;
  const t = `trim_scale(abs(${n}))::text`;
  const d = `replace(${t}, '.', '')`;
  const m = `btrim(${d}, '0')`;
  const exp = `strpos(${t} || '.', '.') - 2 - (length(${d}) - length(ltrim(${d}, '0')))`;
  return (
    `CASE WHEN ${n} = 0 THEN '0.0E0' ELSE CASE WHEN ${n} < 0 THEN '-' ELSE '' END || left(${m}, 1) || '.'` +
    ` || CASE WHEN length(${m}) = 1 THEN '0' ELSE substr(${m}, 2) END || 'E' || (${exp})::text END`
  );
}

/*
 * Floats. PostgreSQL prints the shortest digits that read back strictly inside the value's
 * rounding interval; MariaDB (and JavaScript) also accept a decimal lying exactly on the
 * interval's edge, which reads back to the value by round-half-even. So for some integers in
 * 2^53..2^133 the digits differ: 1e23 is '1e23' on MariaDB, '9.999999999999999e+22' on
 * PostgreSQL; about 1.6% of few-digit decimals in 1e16..1e45 are such edges. No shorter cue
 * exists on either side, so both write exact integer digits in 2^53..2^136 instead, built from
 * three limbs of at most 46 bits, each exact as a double and as a decimal (a float8 → numeric
 * cast keeps only 15 digits, a MariaDB DOUBLE → DECIMAL cast only the shortest digits).
 * Only those rows pay for it: the common path is one comparison and float8 text.
 */
const P53 = '9007199254740992';
const P136 = '87112285931760246646623899502532662132736';
const P90 = '1237940039285380274899124224';
const P45 = '35184372088832';

function pgFloat(v: string): string {
  const abs = `abs(${v})`;
  const a = `trunc(${abs} / '${P90}'::float8)`;
  const r = `(${abs} - ${a} * '${P90}'::float8)`;
  const b = `trunc(${r} / '${P45}'::float8)`;
  const c = `(${r} - ${b} * '${P45}'::float8)`;
  const exact = `(${a}::int8::numeric * ${P90} + ${b}::int8::numeric * ${P45} + ${c}::int8)::text`;
  // + 0 turns -0 into 0 (IEEE), which MariaDB cannot store apart from 0.
  return (
    `CASE WHEN ${abs} >= '${P53}'::float8 AND ${abs} < '${P136}'::float8 ` +
    `THEN CASE WHEN ${v} < 0 THEN '-' ELSE '' END || ${exact} ELSE (${v} + 0::float8)::text END`
  );
}

// --- MariaDB ------------------------------------------------------------------------------------

/** The canonical text of a `logical` value held in a MariaDB column of type `native`. */
function mysqlColumn(logical: ColumnType, native: ColumnType, ref: string): string {
  switch (logical.kind) {
    // tinyint(1) may hold any small integer (true when not 0), bit(1) a bit; a boolean written
    // into a wider integer column reads the same way.
    case 'boolean':
      if (native.kind === 'boolean' || isNumber(native)) return `CASE WHEN ${ref} <> 0 THEN '1' WHEN ${ref} = 0 THEN '0' END`;
      break;
    case 'float32': // see pgColumn
      if (native.kind !== 'float32' && isNumber(native)) return mysqlFloat(`CAST(CAST(${ref} AS FLOAT) AS DOUBLE)`);
      break;
    case 'float64':
      if (isExactNumber(native)) return mysqlFloat(`CAST(${ref} AS DOUBLE)`);
      break;
    case 'json':
      return mysqlJson(ref);
    case 'uuid':
      if (native.kind !== 'uuid') return `LOWER(CONVERT(${ref} USING utf8mb4))`;
      break;
    default:
      break;
  }
  return mysqlNative(native, ref);
}

/** The canonical text of a MariaDB column read as its own type. */
function mysqlNative(t: ColumnType, ref: string): string {
  switch (t.kind) {
    case 'boolean':
      return `CASE WHEN ${ref} <> 0 THEN '1' WHEN ${ref} = 0 THEN '0' END`;
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uuid': // MariaDB prints UUID lowercase
    case 'date':
      return `CAST(${ref} AS CHAR)`;
    // With a scale the text always has a '.', so trimming zeros stops there.
    case 'decimal':
      return t.scale === 0 ? `CAST(${ref} AS CHAR)` : trimFraction(`CAST(${ref} AS CHAR)`);
    case 'float32':
      return mysqlFloat(`CAST(${ref} AS DOUBLE)`);
    case 'float64':
      return mysqlFloat(ref);
    case 'string':
    case 'json': // as stored
      return `CONVERT(${ref} USING utf8mb4)`;
    case 'bytes':
      return `LOWER(HEX(${ref}))`;
    // CAST to (DATE)TIME(6) gives all six fraction digits whatever the column's precision.
    case 'time':
      return trimFraction(`CAST(CAST(${ref} AS TIME(6)) AS CHAR)`);
    case 'timestamp':
    case 'timestamptz':
      return trimFraction(`CAST(CAST(${ref} AS DATETIME(6)) AS CHAR)`);
  }
}

/**
 * JSON_NORMALIZE is the common form (pgJson builds the same text). A value it cannot parse (a
 * text column holding something else) gets a text no valid document has, '!' and its length, so
 * that it is neither NULL nor equal to anything valid.
 */
function mysqlJson(ref: string): string {
  return `COALESCE(JSON_NORMALIZE(${ref}), CONCAT('!', CHAR_LENGTH(${ref}), ':', CONVERT(${ref} USING utf8mb4)))`;
}

function trimFraction(text: string): string {
  return `TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM ${text}))`;
}

/*
 * MariaDB prints the same shortest digits as PostgreSQL (outside the exact-integer range above)
 * in another layout: plain from 1e-15 up to 1e15 and for non-integers up to 2^53
 * ('0.00000000015', '1234567890123456.8'), otherwise an exponent without sign or padding ('1e20',
 * '1e-16'). In PostgreSQL's plain range, 1e-4 ≤ |v| < 1e15, the texts are identical; elsewhere
 * the text is rewritten from whichever layout MariaDB chose.
 */
function mysqlFloat(v: string): string {
  const a = `CAST(ABS(${v}) AS CHAR)`;
  const sign = `IF(${v} < 0, '-', '')`;
  const mantissa = (digits: string) => `INSERT(${digits}, 2, 0, IF(CHAR_LENGTH(${digits}) > 1, '.', ''))`;
  const exp = `SUBSTRING_INDEX(${a}, 'e', -1)`;
  const fromExponent = `CONCAT(${sign}, SUBSTRING_INDEX(${a}, 'e', 1), IF(${exp} < 0, 'e-', 'e+'), IF(ABS(${exp}) < 10, '0', ''), ABS(${exp}))`;
  const bigDigits = `TRIM(TRAILING '0' FROM REPLACE(${a}, '.', ''))`;
  const fromBig = `CONCAT(${sign}, ${mantissa(bigDigits)}, 'e+', CHAR_LENGTH(SUBSTRING_INDEX(${a}, '.', 1)) - 1)`;
  const smallDigits = `TRIM(LEADING '0' FROM SUBSTRING(${a}, 3))`; // after '0.'
  const fromSmall = `CONCAT(${sign}, ${mantissa(smallDigits)}, 'e-', LPAD(CHAR_LENGTH(${a}) - 1 - CHAR_LENGTH(${smallDigits}), 2, '0'))`;
  const abs = `ABS(${v})`;
  const A = `FLOOR(${abs} / ${P90}e0)`;
  const R = `(${abs} - ${A} * ${P90}e0)`;
  const B = `FLOOR(${R} / ${P45}e0)`;
  const C = `(${R} - ${B} * ${P45}e0)`;
  const dec = (x: string) => `CAST(${x} AS DECIMAL(65,0))`;
  const exact = `CONCAT(${sign}, CAST(${dec(A)} * ${P90} + ${dec(B)} * ${P45} + ${dec(C)} AS CHAR))`;
  return (
    `CASE WHEN ${v} IS NULL THEN NULL WHEN ${v} = 0 THEN '0'` +
    ` WHEN ${abs} >= 1e-4 AND ${abs} < 1e15 THEN CAST(${v} AS CHAR)` +
    ` WHEN ${abs} >= ${P53}e0 AND ${abs} < ${P136}e0 THEN ${exact}` +
    ` WHEN LOCATE('e', ${a}) > 0 THEN ${fromExponent}` +
    ` WHEN ${abs} >= 1 THEN ${fromBig} ELSE ${fromSmall} END`
  );
}
