/**
 * Table introspection from PostgreSQL's catalogs, shared by node-postgres and PGlite (same
 * catalogs, different clients: each passes its `query`).
 *
 * Generated columns are left out: the log does not carry them, and a target computes its own
 * (declare the column generated there too), so they are never written, never overwritten with null.
 *
 * Type mapping (domains resolve to their base type):
 *   smallint→int16, integer→int32, bigint→int64, real→float32, double precision→float64,
 *   numeric(p,s)→decimal(p,s), boolean→boolean, text/varchar(n)/char(n)/citext/enums→string,
 *   json/jsonb→json, bytea→bytes, uuid, date, time→time, timestamp→timestamp,
 *   timestamptz→timestamptz.
 *   numeric without a precision → string: it holds any number of digits on either side of the
 *   point (and NaN, ±Infinity), so no decimal(p,s) is safe; carried as its exact text.
 *   numeric with a negative scale or a scale above the precision (PostgreSQL 15) → refused.
 *   arrays, interval, timetz, inet/cidr/macaddr, bit strings, xml, tsvector, ranges → string
 *   (PostgreSQL's text form, which reads back exactly); anything else (geometric types, composite
 *   types…) → refused with SLUICE_ERR_SCHEMA_INVALID naming table and column.
 */
import { SluiceError } from '../core/errors.js';
import type { Column, ColumnType, Row, TableSchema } from '../core/table-schema.js';
import type { IntrospectOptions, TableRef } from './types.js';
import { applyKeyColumns, describe } from './table-errors.js';
import { qualifiedPg, quotePg } from './sql-names.js';
import { toPgText } from './pg-text.js';

export type PgQuery = <T>(sql: string, params: unknown[]) => Promise<T[]>;

interface RelRow {
  oid: string;
  schema: string;
  name: string;
}
interface ColRow {
  name: string;
  notnull: boolean;
  type_name: string;
  typtype: string;
  category: string;
  typmod: number;
  declared: string;
}

const FIND_TABLE = `
  SELECT c.oid::text AS oid, n.nspname AS schema, c.relname AS name
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
    AND CASE WHEN $2::text IS NULL THEN pg_catalog.pg_table_is_visible(c.oid) ELSE n.nspname = $2::text END`;

const COLUMNS = `
  SELECT a.attname AS name,
         a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) AS notnull,
         COALESCE(bt.typname, t.typname) AS type_name,
         COALESCE(bt.typtype, t.typtype)::text AS typtype,
         COALESCE(bt.typcategory, t.typcategory)::text AS category,
         CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS typmod,
         pg_catalog.format_type(a.atttypid, a.atttypmod) AS declared
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_catalog.pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
  WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
  ORDER BY a.attnum`;

const PRIMARY_KEY = `
  SELECT a.attname AS name
  FROM pg_catalog.pg_index i
  CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
  WHERE i.indrelid = $1::oid AND i.indisprimary
  ORDER BY k.ord`;

export async function introspectPgFamily(query: PgQuery, table: TableRef, opts: IntrospectOptions = {}): Promise<TableSchema> {
  const rels = await query<RelRow>(FIND_TABLE, [table.name, table.schema ?? null]);
  const rel = rels[0];
  if (!rel) {
    throw new SluiceError(
      'SLUICE_ERR_SCHEMA_INVALID',
      `Table ${describe(table)} does not exist${table.schema ? '' : ' (or is not on the search_path)'}`,
      { context: { table: describe(table) } },
    );
  }
  const ref = { schema: rel.schema, name: rel.name };
  const cols = await query<ColRow>(COLUMNS, [rel.oid]);
  const columns: Column[] = cols.map((c) => ({ name: c.name, type: pgColumnType(ref, c), nullable: !c.notnull }));
  const pk = (await query<{ name: string }>(PRIMARY_KEY, [rel.oid])).map((r) => r.name);
  return applyKeyColumns({ ...ref, columns, primaryKey: pk }, opts);
}

const TEXT_CARRIED = new Set([
  'interval',
  'timetz',
  'inet',
  'cidr',
  'macaddr',
  'macaddr8',
  'bit',
  'varbit',
  'xml',
  'tsvector',
  'int4range',
  'int8range',
  'numrange',
  'tsrange',
  'tstzrange',
  'daterange',
]);

/**
 * A built-in type's portable type from its name and modifier (also used for columns first seen in
 * a replication Relation message); undefined for anything else, and for a numeric whose modifier
 * has no portable form.
 */
export function pgBuiltinType(typeName: string, typmod: number): ColumnType | undefined {
  switch (typeName) {
    case 'bool':
      return { kind: 'boolean' };
    case 'int2':
      return { kind: 'int16' };
    case 'int4':
      return { kind: 'int32' };
    case 'int8':
      return { kind: 'int64' };
    case 'float4':
      return { kind: 'float32' };
    case 'float8':
      return { kind: 'float64' };
    case 'numeric': {
      if (typmod < 0) return { kind: 'string' };
      const precision = ((typmod - 4) >> 16) & 0xffff;
      const scale = (((typmod - 4) & 0x7ff) ^ 1024) - 1024;
      return scale < 0 || scale > precision ? undefined : { kind: 'decimal', precision, scale };
    }
    case 'text':
      return { kind: 'string' };
    case 'varchar':
    case 'bpchar':
      return typmod > 4 ? { kind: 'string', maxLength: typmod - 4 } : { kind: 'string' };
    case 'json':
    case 'jsonb':
      return { kind: 'json' };
    case 'bytea':
      return { kind: 'bytes' };
    case 'uuid':
      return { kind: 'uuid' };
    case 'date':
      return { kind: 'date' };
    case 'time':
      return { kind: 'time' };
    case 'timestamp':
      return { kind: 'timestamp' };
    case 'timestamptz':
      return { kind: 'timestamptz' };
    default:
      return undefined;
  }
}

function pgColumnType(table: TableRef, c: ColRow): ColumnType {
  const builtin = pgBuiltinType(c.type_name, Number(c.typmod));
  if (builtin) return builtin;
  if (c.type_name !== 'numeric') {
    // Enums and string-category extension types (citext) read and write as text.
    if (c.typtype === 'e' || (c.category === 'S' && c.typtype === 'b' && c.type_name !== 'name' && c.type_name !== 'char'))
      return { kind: 'string' };
    // Types with no portable counterpart whose text form reads back exactly (arrays, intervals,
    // network addresses, bit strings, …) travel as PostgreSQL's text: equal on a PostgreSQL
    // target, readable text on another engine.
    if (c.category === 'A' || TEXT_CARRIED.has(c.type_name)) return { kind: 'string' };
  }
  throw new SluiceError(
    'SLUICE_ERR_SCHEMA_INVALID',
    `Column "${c.name}" of table ${describe(table)} has type ${c.declared}, which sluice does not replicate`,
    { context: { table: describe(table), field: c.name, type: c.declared } },
  );
}

// --- reading rows back -------------------------------------------------------------------------

/** Keys per SELECT when reading by key: well under PostgreSQL's 65535 parameters. */
export const READ_KEYS_PER_QUERY = 1000;

/**
 * `SELECT <columns> FROM <table> [WHERE (<pk>) IN ((…), …)] ORDER BY <pk>` for `keyCount` keys
 * (0: the whole table), with the key values as parameters $1… in key order.
 */
/** Reads a table (or the given keys, in chunks) through a query function: the pg family's one read loop. */
export async function pgReadRows(q: PgQuery, table: TableSchema, keys?: readonly Row[]): Promise<Row[]> {
  if (keys === undefined) return q<Row>(pgReadSql(table, 0), []);
  const out: Row[] = [];
  for (let i = 0; i < keys.length; i += READ_KEYS_PER_QUERY) {
    const chunk = keys.slice(i, i + READ_KEYS_PER_QUERY);
    out.push(...(await q<Row>(pgReadSql(table, chunk.length), pgKeyParams(table, chunk))));
  }
  return out;
}

export function pgReadSql(table: TableSchema, keyCount: number): string {
  const cols = table.columns.map((c) => quotePg(c.name)).join(', ');
  const pk = table.primaryKey.map(quotePg);
  let where = '';
  if (keyCount > 0) {
    const tuples: string[] = [];
    let p = 1;
    for (let i = 0; i < keyCount; i++) tuples.push(`(${pk.map(() => `$${p++}`).join(', ')})`);
    where = ` WHERE (${pk.join(', ')}) IN (${tuples.join(', ')})`;
  }
  return `SELECT ${cols} FROM ${qualifiedPg(table)}${where} ORDER BY ${pk.join(', ')}`;
}

/** The key values of `keys` as PostgreSQL text parameters, flattened in key order. */
export function pgKeyParams(table: TableSchema, keys: readonly Row[]): (string | null)[] {
  const cols = table.primaryKey.map((k) => table.columns.find((c) => c.name === k)!);
  const params: (string | null)[] = [];
  for (const key of keys) for (const c of cols) params.push(toPgText(c.type, key[c.name] ?? null));
  return params;
}

/** Session settings under which the text output parses back exactly (set per read transaction). */
export const PG_READ_SETTINGS = [
  'SET LOCAL extra_float_digits = 1', // shortest text that reads back to the same float (PG ≥ 12)
  "SET LOCAL DateStyle = 'ISO, YMD'",
  "SET LOCAL TimeZone = 'UTC'",
  "SET LOCAL bytea_output = 'hex'",
];
