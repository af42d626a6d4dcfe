/**
 * MariaDB / MySQL through mysql2: introspection from information_schema, reading rows back as
 * portable values, and portable values as bound parameters.
 *
 * Type mapping: tinyint(1) and bit(1)→boolean, tinyint/smallint→int16 (smallint unsigned→int32),
 *   mediumint/int→int32 (int unsigned→int64), bigint→int64, bigint unsigned→decimal(20,0),
 *   float→float32, double→float64, decimal(p,s)→decimal, char/varchar/*text/enum/set→string,
 *   json (MySQL's type, or MariaDB's longtext with a json_valid check)→json, binary/varbinary/
 *   *blob→bytes, uuid (MariaDB 10.7+)→uuid, date, time→time, datetime→timestamp,
 *   timestamp→timestamptz (MariaDB stores TIMESTAMP as UTC), year→int16. Anything else → refused.
 *
 * Sessions: reads and writes run with `time_zone = '+00:00'` (TIMESTAMP in and out as UTC) and a
 * fixed strict sql_mode (an out-of-range or truncated value is an error, never a silent change;
 * NO_AUTO_VALUE_ON_ZERO so a replicated id 0 stays 0). These are set on the session sluice uses.
 * Reads use `typeCast: false` per query and convert raw bytes by the column's portable type, so
 * nothing depends on the pool's supportBigNumbers / dateStrings / decimalNumbers options; FLOAT is
 * read through CAST(… AS DOUBLE) because its text form keeps only 6 digits.
 */
import type { Connection, Pool, PoolConnection } from 'mysql2/promise';
import { SluiceError } from '../core/errors.js';
import type { Column, ColumnType, ColumnValue, Row, TableSchema } from '../core/table-schema.js';
import { canonicalFloat32, canonicalTime, checkValue, fail } from '../core/portable-values.js';
import { TIMESTAMP_RE, canonicalFraction } from '../core/temporal.js';
import { applyKeyColumns, describe } from './table-errors.js';
import { qualifiedMysql, quoteMysql } from './sql-names.js';
import type { IntrospectOptions, MysqlQueryable, TableRef } from './types.js';

/** One statement setting what every sluice session on MariaDB/MySQL relies on. */
export const MYSQL_SESSION_SQL =
  "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO'";

type Q = <T>(sql: string, params: unknown[]) => Promise<T[]>;

function mysqlQuery(conn: MysqlQueryable): Q {
  return async <T>(sql: string, params: unknown[]) => {
    const [rows] = await conn.query(sql, params);
    return rows as T[];
  };
}

interface ColRow {
  name: string;
  nullable: string;
  data_type: string;
  column_type: string;
  max_len: number | string | null;
  num_p: number | string | null;
  num_s: number | string | null;
}

export async function introspectMysql(conn: MysqlQueryable, table: TableRef, opts: IntrospectOptions = {}): Promise<TableSchema> {
  const q = mysqlQuery(conn);
  const found = await q<{ s: string; n: string }>(
    'SELECT TABLE_SCHEMA AS s, TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?',
    [table.schema ?? null, table.name],
  );
  const rel = found[0];
  if (!rel) {
    throw new SluiceError(
      'SLUICE_ERR_SCHEMA_INVALID',
      `Table ${describe(table)} does not exist${table.schema ? '' : ' in the current database'}`,
      { context: { table: describe(table) } },
    );
  }
  const ref = { schema: rel.s, name: rel.n };
  const cols = await q<ColRow>(
    `SELECT COLUMN_NAME AS name, IS_NULLABLE AS nullable, DATA_TYPE AS data_type, COLUMN_TYPE AS column_type,
            CHARACTER_MAXIMUM_LENGTH AS max_len, NUMERIC_PRECISION AS num_p, NUMERIC_SCALE AS num_s
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [ref.schema, ref.name],
  );
  // MariaDB's JSON is longtext with a column check json_valid(`col`); MySQL's has its own type
  // (and its CHECK_CONSTRAINTS view has no TABLE_NAME column, hence the catch).
  const jsonCols = new Set<string>();
  try {
    const checks = await q<{ clause: string }>(
      'SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?',
      [ref.schema, ref.name],
    );
    for (const c of checks) {
      const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(c.clause.trim());
      if (m) jsonCols.add(m[1]!.replace(/``/g, '`'));
    }
  } catch {
    /* MySQL: no TABLE_NAME column; its JSON columns say so in DATA_TYPE */
  }
  const columns: Column[] = cols.map((c) => ({
    name: c.name,
    type: mysqlColumnType(ref, c, jsonCols.has(c.name)),
    nullable: c.nullable === 'YES',
  }));
  const pk = await q<{ name: string }>(
    "SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX",
    [ref.schema, ref.name],
  );
  return applyKeyColumns({ ...ref, columns, primaryKey: pk.map((r) => r.name) }, opts);
}

function mysqlColumnType(table: TableRef, c: ColRow, isJson: boolean): ColumnType {
  const ct = c.column_type.toLowerCase();
  const unsigned = ct.includes('unsigned');
  switch (c.data_type.toLowerCase()) {
    case 'tinyint':
      return /^tinyint\(1\)/.test(ct) && !unsigned ? { kind: 'boolean' } : { kind: 'int16' };
    case 'smallint':
      return unsigned ? { kind: 'int32' } : { kind: 'int16' };
    case 'mediumint':
      return { kind: 'int32' };
    case 'int':
    case 'integer':
      return unsigned ? { kind: 'int64' } : { kind: 'int32' };
    case 'bigint':
      return unsigned ? { kind: 'decimal', precision: 20, scale: 0 } : { kind: 'int64' };
    case 'float':
      return { kind: 'float32' };
    case 'double':
    case 'real':
      return { kind: 'float64' };
    case 'decimal':
    case 'numeric':
      return { kind: 'decimal', precision: Number(c.num_p), scale: Number(c.num_s) };
    case 'bit':
      if (ct === 'bit(1)') return { kind: 'boolean' };
      break;
    case 'char':
    case 'varchar':
      return { kind: 'string', maxLength: Number(c.max_len) };
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
      return isJson ? { kind: 'json' } : { kind: 'string' };
    case 'enum':
    case 'set':
      return { kind: 'string' };
    case 'json':
      return { kind: 'json' };
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return { kind: 'bytes' };
    case 'uuid':
      return { kind: 'uuid' };
    case 'date':
      return { kind: 'date' };
    case 'time':
      return { kind: 'time' };
    case 'datetime':
      return { kind: 'timestamp' };
    case 'timestamp':
      return { kind: 'timestamptz' };
    case 'year':
      return { kind: 'int16' };
    default:
      break;
  }
  throw new SluiceError(
    'SLUICE_ERR_SCHEMA_INVALID',
    `Column "${c.name}" of table ${describe(table)} has type ${c.column_type}, which sluice does not replicate`,
    { context: { table: describe(table), field: c.name, type: c.column_type } },
  );
}

// --- values -----------------------------------------------------------------------------------

/**
 * A portable value as a mysql2 parameter (null → null). Checks the value's shape (ValueError);
 * what MariaDB cannot hold is refused here rather than changed: NaN/±Infinity, years before 0.
 */
export function toMysqlParam(type: ColumnType, value: unknown): string | number | bigint | Buffer | null {
  const v = checkValue(type, value);
  if (v === null) return null;
  switch (type.kind) {
    case 'boolean':
      return v ? 1 : 0;
    case 'float32':
    case 'float64':
      if (!Number.isFinite(v as number)) fail(`MariaDB/MySQL cannot store ${String(v)}`);
      return v as number;
    case 'date':
    case 'timestamp':
      if ((v as string).startsWith('-')) fail(`MariaDB/MySQL cannot store a year before 0: ${String(v)}`);
      return type.kind === 'date' ? (v as string) : (v as string).replace('T', ' ');
    case 'timestamptz':
      // Canonical UTC after checkValue: "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" → the session is UTC.
      if ((v as string).startsWith('-')) fail(`MariaDB/MySQL cannot store a year before 0: ${String(v)}`);
      return (v as string).slice(0, -1).replace('T', ' ');
    default:
      return v as string | number | bigint | Buffer;
  }
}

/** Raw bytes of a column (typeCast: false) → its portable value. */
export function fromMysqlRaw(type: ColumnType, raw: Buffer | null): ColumnValue {
  if (raw === null) return null;
  if (type.kind === 'bytes') return raw;
  const text = raw.toString('utf8');
  switch (type.kind) {
    case 'boolean':
      // tinyint(1) arrives as text ("0"/"1"), bit(1) as one raw byte.
      return raw.length === 1 && raw[0]! <= 1 ? raw[0] === 1 : text !== '0';
    case 'int16':
    case 'int32':
      return Number(text);
    case 'int64':
      return BigInt(text);
    case 'float32':
      return canonicalFloat32(Number(text));
    case 'float64':
      return Number(text);
    case 'time':
      return TIME_LIKE.test(text) ? canonicalTime(text) : text;
    case 'timestamp':
    case 'timestamptz': {
      const m = TIMESTAMP_RE.exec(text);
      if (!m) return text; // a zero date from a non-strict past: no portable form
      return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${canonicalFraction(m[7])}${type.kind === 'timestamptz' ? 'Z' : ''}`;
    }
    default:
      return text;
  }
}

const TIME_LIKE = /^\d\d:\d\d:\d\d(\.\d{1,6})?$/;

/** `SELECT` list reading every column exactly (FLOAT widened to DOUBLE, which is exact). */
export function mysqlSelectList(columns: readonly Column[]): string {
  return columns
    .map((c) => (c.type.kind === 'float32' ? `CAST(${quoteMysql(c.name)} AS DOUBLE) AS ${quoteMysql(c.name)}` : quoteMysql(c.name)))
    .join(', ');
}

const READ_KEYS_PER_QUERY = 1000;

function isPool(conn: MysqlQueryable): conn is Pool {
  return typeof (conn as Pool).getConnection === 'function' && typeof (conn as PoolConnection).release !== 'function';
}

/** The table's rows (or those with the given keys), ordered by primary key, as portable values. */
export async function readRowsMysql(conn: MysqlQueryable, table: TableSchema, keys?: readonly Row[]): Promise<Row[]> {
  if (isPool(conn)) {
    const c = await conn.getConnection();
    try {
      return await readRowsMysql(c, table, keys);
    } finally {
      c.release();
    }
  }
  const session = conn as Connection;
  await session.query(MYSQL_SESSION_SQL);
  const pk = table.primaryKey.map(quoteMysql);
  const pkCols = table.primaryKey.map((k) => table.columns.find((c) => c.name === k)!);
  const base = `SELECT ${mysqlSelectList(table.columns)} FROM ${qualifiedMysql(table)}`;
  const order = ` ORDER BY ${pk.join(', ')}`;
  const convert = (rows: Array<Record<string, Buffer | null>>): Row[] =>
    rows.map((r) => {
      const row: Row = {};
      for (const c of table.columns) row[c.name] = fromMysqlRaw(c.type, r[c.name] ?? null);
      return row;
    });
  const run = async (sql: string, params: unknown[]) => {
    const [rows] = await session.query({ sql, typeCast: false }, params);
    return convert(rows as Array<Record<string, Buffer | null>>);
  };
  if (keys === undefined) return run(base + order, []);
  const out: Row[] = [];
  for (let i = 0; i < keys.length; i += READ_KEYS_PER_QUERY) {
    const chunk = keys.slice(i, i + READ_KEYS_PER_QUERY);
    const tuple = `(${pk.map(() => '?').join(', ')})`;
    const params = chunk.flatMap((k) => pkCols.map((c) => toMysqlParam(c.type, k[c.name] ?? null)));
    out.push(...(await run(`${base} WHERE (${pk.join(', ')}) IN (${chunk.map(() => tuple).join(', ')})${order}`, params)));
  }
  return out;
}
