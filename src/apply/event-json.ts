/**
 * A ChangeEvent as JSON text for the dead-letter table, and back. Exact for every portable value:
 * int64 and the version as decimal strings, bytes as base64, NaN/±Infinity as strings. Decoding
 * takes the table's schema to know which strings were bigint or bytes (the text stays readable
 * for `sluice dlq show`).
 */
import type { ChangeEvent } from '../core/change-event.js';
import type { ColumnValue, Row, TableSchema } from '../core/table-schema.js';

type JsonValue = null | boolean | number | string;

function valueToJson(v: ColumnValue | undefined): JsonValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v) || (v as unknown) instanceof Uint8Array) return Buffer.from(v as Uint8Array).toString('base64');
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  return v as JsonValue;
}

export function rowToJson(row: Row | undefined): Record<string, JsonValue> | undefined {
  if (row === undefined || row === null || typeof row !== 'object') return undefined;
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(row)) out[k] = valueToJson(v);
  return out;
}

/** The event as a JSON-safe object (what eventToJson writes). */
export function eventJson(e: ChangeEvent) {
  return {
    table: e.table,
    op: e.op,
    key: rowToJson(e.key),
    after: rowToJson(e.after),
    source: e.source,
    version: typeof e.version === 'bigint' ? e.version.toString() : String(e.version),
  };
}

export function eventToJson(e: ChangeEvent): string {
  return JSON.stringify(eventJson(e));
}

function valueFromJson(kind: string | undefined, v: JsonValue): ColumnValue {
  if (v === null) return null;
  switch (kind) {
    case 'int64':
      return typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : (v as ColumnValue);
    case 'bytes':
      return typeof v === 'string' ? Buffer.from(v, 'base64') : (v as ColumnValue);
    case 'float32':
    case 'float64':
      return typeof v === 'string' ? Number(v) : v;
    default:
      return v;
  }
}

function rowFromJson(schema: TableSchema | undefined, row: Record<string, JsonValue> | undefined): Row | undefined {
  if (!row) return undefined;
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = valueFromJson(schema?.columns.find((c) => c.name === k)?.type.kind, v);
  return out;
}

/** Decodes eventToJson's text; `schemaFor` gives the event table's schema (undefined: values stay JSON). */
export function eventFromJson(text: string, schemaFor: (table: ChangeEvent['table']) => TableSchema | undefined): ChangeEvent {
  const raw = JSON.parse(text) as {
    table: ChangeEvent['table'];
    op: ChangeEvent['op'];
    key: Record<string, JsonValue>;
    after?: Record<string, JsonValue>;
    source: ChangeEvent['source'];
    version: string;
  };
  const schema = schemaFor(raw.table);
  const after = rowFromJson(schema, raw.after);
  return {
    table: raw.table,
    op: raw.op,
    key: rowFromJson(schema, raw.key) ?? {},
    ...(after ? { after } : {}),
    source: raw.source,
    version: BigInt(raw.version),
  };
}
