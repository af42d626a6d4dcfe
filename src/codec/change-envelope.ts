/**
 * The Kafka record value for a change: an Avro envelope named after the table (so several tables
 * share a domain topic and TopicRecordNameStrategy tells them apart), holding the operation, the
 * per-key version, the primary key, the row after the change (null for deletes) and the source.
 *
 *   record <ns>.<table> {
 *     op: enum Op { c, u, d, r }
 *     version: long
 *     key: record <table>_key { primary-key columns }
 *     after: null | record <table>_row { every column }
 *     source: record Source { connector, position, tx_id?, commit_ts? (timestamp-micros), context? }
 *   }
 *
 * Deletes carry no row image beyond the key: generic apply by primary key needs nothing more.
 */
import type { ChangeEvent, Op } from '../core/change-event.js';
import type { Row, TableSchema } from '../core/table-schema.js';
import { SluiceError } from '../core/errors.js';
import { avroName, tableAvroSchema, type AvroSchemaJson, type AvroSchemaOptions } from './table-avro-schema.js';

export function envelopeSchema(table: TableSchema, opts: AvroSchemaOptions = {}): AvroSchemaJson {
  const row = tableAvroSchema(table, opts);
  const name = String(row.name);
  const rowFields = row.fields as AvroSchemaJson[];
  const keyFields = table.primaryKey.map((k) => {
    const i = table.columns.findIndex((c) => c.name === k);
    if (i < 0)
      throw new SluiceError('SLUICE_ERR_SCHEMA_INVALID', `Primary-key column "${k}" is not a column of table ${table.name}`, {
        context: { table: table.name, field: k },
      });
    const f = { ...rowFields[i]! };
    // A key column is never null, whatever the column's declared nullability.
    if (Array.isArray(f.type)) f.type = (f.type as unknown[])[1];
    delete f.default;
    return f;
  });
  const out: AvroSchemaJson = { type: 'record', name };
  if (row.namespace) out.namespace = row.namespace;
  out.fields = [
    { name: 'op', type: { type: 'enum', name: 'Op', symbols: ['c', 'u', 'd', 'r'] } },
    { name: 'version', type: 'long' },
    { name: 'key', type: { type: 'record', name: `${name}_key`, fields: keyFields } },
    { name: 'after', type: ['null', { ...row, name: `${name}_row`, namespace: undefined }], default: null },
    {
      name: 'source',
      type: {
        type: 'record',
        name: 'Source',
        fields: [
          { name: 'connector', type: 'string' },
          { name: 'position', type: 'string' },
          { name: 'tx_id', type: ['null', 'string'], default: null },
          { name: 'commit_ts', type: ['null', { type: 'long', logicalType: 'timestamp-micros' }], default: null },
          { name: 'context', type: ['null', 'string'], default: null },
        ],
      },
    },
  ];
  if (row['sluice.table'] !== undefined) out['sluice.table'] = row['sluice.table'];
  return JSON.parse(JSON.stringify(out)) as AvroSchemaJson; // drops the undefined namespace
}

const fieldNameCache = new WeakMap<TableSchema, Array<[string, string]>>();

/** Maps column names to Avro field names (identical unless a name had to be rewritten); once per table. */
function fieldNames(table: TableSchema): Array<[string, string]> {
  let names = fieldNameCache.get(table);
  if (!names) fieldNameCache.set(table, (names = table.columns.map((c) => [c.name, avroName(c.name)])));
  return names;
}

function toAvroRow(row: Row, names: Array<[string, string]>, only?: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [col, field] of names) if (!only || only.includes(col)) out[field] = row[col] ?? null;
  return out;
}

function fromAvroRow(rec: Record<string, unknown>, names: Array<[string, string]>, only?: readonly string[]): Row {
  const out: Row = {};
  for (const [col, field] of names) if (!only || only.includes(col)) out[col] = (rec[field] ?? null) as Row[string];
  return out;
}

/** Envelope value for avsc from a ChangeEvent of `table`. */
export function toEnvelope(table: TableSchema, e: ChangeEvent): Record<string, unknown> {
  const names = fieldNames(table);
  return {
    op: e.op,
    version: e.version,
    key: toAvroRow(e.key, names, table.primaryKey),
    after: e.op === 'd' || !e.after ? null : toAvroRow(e.after, names),
    source: {
      connector: e.source.connector,
      position: e.source.position,
      tx_id: e.source.txId ?? null,
      commit_ts: e.source.commitTs ?? null,
      context: e.source.context ?? null,
    },
  };
}

interface EnvelopeValue {
  op: Op;
  version: bigint;
  key: Record<string, unknown>;
  after: Record<string, unknown> | null;
  source: { connector: string; position: string; tx_id: string | null; commit_ts: string | null; context: string | null };
}

export function fromEnvelope(table: TableSchema, value: unknown): ChangeEvent {
  const v = value as EnvelopeValue;
  const names = fieldNames(table);
  const s = v.source;
  return {
    table: table.schema ? { schema: table.schema, name: table.name } : { name: table.name },
    op: v.op,
    version: v.version,
    key: fromAvroRow(v.key, names, table.primaryKey),
    ...(v.after ? { after: fromAvroRow(v.after, names) } : {}),
    source: {
      connector: s.connector,
      position: s.position,
      ...(s.tx_id !== null ? { txId: s.tx_id } : {}),
      ...(s.commit_ts !== null ? { commitTs: s.commit_ts } : {}),
      ...(s.context !== null ? { context: s.context } : {}),
    },
  };
}
