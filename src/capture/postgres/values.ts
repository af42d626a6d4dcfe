/**
 * pgoutput sends every value as the server's text (under the session settings of REPLICATION_GUCS);
 * each column's text becomes its portable value by the column's portable type, not by the type
 * OID, so domains and enums read like their base type.
 */
import type { ColumnType, ColumnValue } from '../../core/table-schema.js';
import { PG_OID, PG_TEXT_PARSERS } from '../../metadata/index.js';
import { pgBuiltinType } from '../../metadata/pg-catalog.js';

/** Settings of the replication connection that fix the text form of values (as the table reads use). */
export const REPLICATION_GUCS =
  '-c extra_float_digits=1 -c DateStyle=ISO,YMD -c TimeZone=UTC -c bytea_output=hex -c IntervalStyle=postgres';

const OID_OF_KIND: Record<ColumnType['kind'], number | undefined> = {
  boolean: PG_OID.bool,
  int16: PG_OID.int2,
  int32: PG_OID.int4,
  int64: PG_OID.int8,
  float32: PG_OID.float4,
  float64: PG_OID.float8,
  decimal: PG_OID.numeric,
  string: undefined,
  json: undefined,
  bytes: PG_OID.bytea,
  uuid: undefined,
  date: PG_OID.date,
  time: PG_OID.time,
  timestamp: PG_OID.timestamp,
  timestamptz: PG_OID.timestamptz,
};

export type TextParser = (text: string) => ColumnValue;

const asText: TextParser = (t) => t;

export function textParser(type: ColumnType): TextParser {
  const oid = OID_OF_KIND[type.kind];
  return (oid !== undefined && PG_TEXT_PARSERS[oid]) || asText;
}

/** Built-in type names by OID, for columns first seen in a Relation message. */
const NAME_OF_OID = new Map<number, string>(Object.entries(PG_OID).map(([name, oid]) => [oid, name]));

/**
 * The portable type of a column first seen in a Relation message (added while the pipeline runs),
 * from its type OID and modifier: built-in types map as introspection maps them; anything else
 * (enums, domains, arrays) travels as its text.
 */
export function relationColumnType(c: { typeOid: number; typmod: number }): ColumnType {
  return builtinRelationType(c) ?? { kind: 'string' };
}

/** The portable type of a Relation message's column when its type is a built-in one (not a domain, enum or array). */
export function builtinRelationType(c: { typeOid: number; typmod: number }): ColumnType | undefined {
  const name = NAME_OF_OID.get(c.typeOid);
  return name ? pgBuiltinType(name, c.typmod) : undefined;
}
