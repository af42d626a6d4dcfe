/**
 * Derives the Avro record schema of a table's row image. Deterministic: the same TableSchema always
 * gives byte-identical schema JSON (columns in table order, attributes in a fixed order), so a
 * restart never registers a "new" version of an unchanged table.
 *
 * Names: Avro names allow [A-Za-z_][A-Za-z0-9_]*; a table or column name outside that is rewritten
 * (other characters → "_", a leading digit gets "_") and the original kept in "sluice.column" /
 * "sluice.table", so the codec maps fields back to columns exactly.
 */
import type { Column, ColumnType, TableSchema } from '../core/table-schema.js';
import { qualifiedName } from '../core/table-schema.js';
import { SluiceError } from '../core/errors.js';

export interface AvroSchemaOptions {
  /** Namespace prefix; the table's database schema is appended (`sluice.public`). Default "sluice". */
  namespace?: string;
}

export type AvroSchemaJson = Record<string, unknown>;

export function avroName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

export function columnAvroType(type: ColumnType): unknown {
  switch (type.kind) {
    case 'boolean':
      return 'boolean';
    case 'int16':
    case 'int32':
      return 'int';
    case 'int64':
      return 'long';
    case 'float32':
      return 'float';
    case 'float64':
      return 'double';
    case 'decimal':
      return { type: 'bytes', logicalType: 'decimal', precision: type.precision, scale: type.scale };
    case 'string':
      return 'string';
    case 'json':
      return { type: 'string', 'sluice.type': 'json' };
    case 'bytes':
      return 'bytes';
    case 'uuid':
      return { type: 'string', logicalType: 'uuid' };
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'time':
      return { type: 'long', logicalType: 'time-micros' };
    // A zone-less timestamp is a local date-time, not an instant: Avro 1.10's local-timestamp-micros.
    case 'timestamp':
      return { type: 'long', logicalType: 'local-timestamp-micros' };
    case 'timestamptz':
      return { type: 'long', logicalType: 'timestamp-micros' };
  }
}

function field(col: Column): AvroSchemaJson {
  const name = avroName(col.name);
  const type = columnAvroType(col.type);
  const out: AvroSchemaJson = col.nullable ? { name, type: ['null', type], default: null } : { name, type };
  if (name !== col.name) out['sluice.column'] = col.name;
  return out;
}

/** The Avro record for one row image of `table`. */
export function tableAvroSchema(table: TableSchema, opts: AvroSchemaOptions = {}): AvroSchemaJson {
  const prefix = opts.namespace ?? 'sluice';
  const namespace = [prefix, ...(table.schema ? [avroName(table.schema)] : [])].filter(Boolean).join('.');
  const fields = table.columns.map(field);
  const seen = new Map<string, string>();
  for (const [i, f] of fields.entries()) {
    const other = seen.get(f.name as string);
    if (other !== undefined) {
      throw new SluiceError(
        'SLUICE_ERR_SCHEMA_INVALID',
        `Columns "${other}" and "${table.columns[i]!.name}" of table ${qualifiedName(table)} map to the same Avro field name "${String(f.name)}"`,
        { context: { table: qualifiedName(table), field: table.columns[i]!.name } },
      );
    }
    seen.set(f.name as string, table.columns[i]!.name);
  }
  const name = avroName(table.name);
  const schema: AvroSchemaJson = { type: 'record', name };
  if (namespace) schema.namespace = namespace;
  schema.fields = fields;
  if (name !== table.name) schema['sluice.table'] = table.name;
  return schema;
}

/** Full name of the table's record (what RecordNameStrategy subjects are named after). */
export function tableRecordName(table: TableSchema, opts: AvroSchemaOptions = {}): string {
  const s = tableAvroSchema(table, opts);
  return s.namespace ? `${String(s.namespace)}.${String(s.name)}` : String(s.name);
}
