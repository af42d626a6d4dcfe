/**
 * Canonical row text and its 64-bit hash, computed inside each database so that a source and a
 * target compare by count + sum of row hashes per key range without moving rows. Equal values
 * give equal text on PostgreSQL, PGlite and MariaDB, each side reading its own column types;
 * any difference in a value changes the text. The text of a value, per kind:
 *
 *   integers: decimal. boolean: 1 / 0. decimal: no trailing fractional zeros, no trailing '.'.
 *   float32/float64 (float32 widened exactly to double): PostgreSQL's float8 text (shortest
 *     digits, plain from 1e-4 to below 1e15, else 1.5e-10, 1e-05, 1e+15, 1e+50), -0 as 0; except
 *     that integers from 2^53 to below 2^136 are written exactly ('87101021409035008', 1e23 as
 *     '99999999999999991611392'): see pgFloat below.
 *   string: the text. json: the stored text. bytes: lowercase hex. uuid: lowercase 8-4-4-4-12.
 *   date: YYYY-MM-DD. time: HH:MM:SS[.f] and timestamp: YYYY-MM-DD HH:MM:SS[.f], the fraction
 *     without trailing zeros (PostgreSQL's own output, so its side is a plain cast; timestamp(3)
 *     '…05.12' equals DATETIME(6) '…05.120000'); this text still sorts like the value.
 *   timestamptz: as timestamp, in UTC (MariaDB TIMESTAMP under the session's '+00:00'; DATETIME
 *     holding UTC compares as it is).
 *
 * Known limits. json is compared as text: a PostgreSQL jsonb target fed from MariaDB holds the
 * normalised form ('{"a": 1}' for '{"a":1}'), so such rows show as different; json targets and
 * PostgreSQL jsonb → MariaDB (sluice writes jsonb::text) compare exactly. A PostgreSQL numeric
 * without precision is a string column (metadata/pg-catalog.ts) and compares as text ('1.50').
 * MariaDB CHAR keeps no trailing spaces (like bpchar::text) unless PAD_CHAR_TO_FULL_LENGTH is set.
 * The MariaDB float rewrite was verified on MariaDB 10.11 only; MySQL 8's float text was not checked.
 */
import { createHash } from 'node:crypto';
import type { Column } from '../core/table-schema.js';
import { quoteMysql, quotePg } from '../metadata/sql-names.js';

export type SqlFamily = 'pg' | 'mysql'; // 'pg' serves both PostgreSQL and PGlite

/** Statements to run once per session before any canonical expression is used. */
export function canonicalSessionSql(family: SqlFamily): readonly string[] {
  return family === 'pg'
    // timestamp::text and date::text are ISO only under this DateStyle; float8 text is shortest
    // round-trip only with extra_float_digits > 0 (the default, but a session may lower it).
    ? ["SET DateStyle = 'ISO, YMD'", 'SET extra_float_digits = 1']
    // TIMESTAMP columns convert to text in the session's zone.
    : ["SET time_zone = '+00:00'"];
}

/** SQL expression for one column's canonical text, NULL when the value is NULL. */
export function canonicalColumnSql(family: SqlFamily, column: Column, ref: string): string {
  return family === 'pg' ? pgColumn(column, ref) : mysqlColumn(column, ref);
}

/**
 * SQL expression for the canonical text of a whole row over `columns`, never NULL: each field `\N`
 * when NULL, string and json fields as `<char_length>:<text>` so that NULL, '' and separators
 * inside values are unambiguous, fields joined by '|'.
 */
export function canonicalRowSql(family: SqlFamily, columns: readonly Column[], alias?: string): string {
  if (columns.length === 0) return "''";
  const quote = family === 'pg' ? quotePg : quoteMysql;
  const fields = columns.map((c) => {
    const e = canonicalColumnSql(family, c, alias ? `${alias}.${quote(c.name)}` : quote(c.name));
    const prefixed = c.type.kind === 'string' || c.type.kind === 'json';
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

function pgColumn(column: Column, ref: string): string {
  const t = column.type;
  switch (t.kind) {
    case 'boolean': return `CASE WHEN ${ref} THEN '1' WHEN NOT ${ref} THEN '0' END`;
    case 'int16':
    case 'int32':
    case 'int64':
      return `(${ref})::text`;
    // numeric keeps its scale in text ('1.50'); trim_scale makes numeric(10,2) equal numeric(12,4).
    case 'decimal': return t.scale === 0 ? `(${ref})::text` : `trim_scale(${ref})::text`;
    case 'float32': return pgFloat(`(${ref})::float8`);
    case 'float64': return pgFloat(`(${ref})`);
    case 'bytes': return `encode(${ref}, 'hex')`;
    case 'timestamptz': return `((${ref}) AT TIME ZONE 'UTC')::text`;
    default: return `(${ref})::text`; // string, json, uuid, date, time, timestamp
  }
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
  return `CASE WHEN ${abs} >= '${P53}'::float8 AND ${abs} < '${P136}'::float8 `
    + `THEN CASE WHEN ${v} < 0 THEN '-' ELSE '' END || ${exact} ELSE (${v} + 0::float8)::text END`;
}

// --- MariaDB ------------------------------------------------------------------------------------

function mysqlColumn(column: Column, ref: string): string {
  const t = column.type;
  switch (t.kind) {
    // tinyint(1) may hold any small integer (true when not 0), bit(1) a bit.
    case 'boolean': return `CASE WHEN ${ref} <> 0 THEN '1' WHEN ${ref} = 0 THEN '0' END`;
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uuid': // MariaDB prints UUID lowercase
    case 'date':
      return `CAST(${ref} AS CHAR)`;
    // With a scale the text always has a '.', so trimming zeros stops there.
    case 'decimal': return t.scale === 0 ? `CAST(${ref} AS CHAR)` : trimFraction(`CAST(${ref} AS CHAR)`);
    case 'float32': return mysqlFloat(`CAST(${ref} AS DOUBLE)`);
    case 'float64': return mysqlFloat(ref);
    case 'string':
    case 'json':
      return `CONVERT(${ref} USING utf8mb4)`;
    case 'bytes': return `LOWER(HEX(${ref}))`;
    // CAST to (DATE)TIME(6) gives all six fraction digits whatever the column's precision.
    case 'time': return trimFraction(`CAST(CAST(${ref} AS TIME(6)) AS CHAR)`);
    case 'timestamp':
    case 'timestamptz':
      return trimFraction(`CAST(CAST(${ref} AS DATETIME(6)) AS CHAR)`);
  }
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
  return `CASE WHEN ${v} IS NULL THEN NULL WHEN ${v} = 0 THEN '0'`
    + ` WHEN ${abs} >= 1e-4 AND ${abs} < 1e15 THEN CAST(${v} AS CHAR)`
    + ` WHEN ${abs} >= ${P53}e0 AND ${abs} < ${P136}e0 THEN ${exact}`
    + ` WHEN LOCATE('e', ${a}) > 0 THEN ${fromExponent}`
    + ` WHEN ${abs} >= 1 THEN ${fromBig} ELSE ${fromSmall} END`;
}
