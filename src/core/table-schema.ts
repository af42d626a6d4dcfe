/**
 * The portable description of a table that every capture produces and every sink and codec reads.
 * Column types are engine-neutral; each value has one JavaScript representation, chosen so nothing
 * loses precision on the way (docs/guarantees.md: lossless-values):
 *   int16/int32 → number, int64 → bigint, float32/float64 → number, decimal → string ("-12.3400"),
 *   string/json → string, bytes → Buffer, uuid → string, date → "YYYY-MM-DD",
 *   time → "HH:MM:SS[.ffffff]", timestamp → "YYYY-MM-DDTHH:MM:SS[.ffffff]" (no zone),
 *   timestamptz → "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (UTC), boolean → boolean, NULL → null.
 */
export type ColumnType =
  | { kind: 'boolean' }
  | { kind: 'int16' }
  | { kind: 'int32' }
  | { kind: 'int64' }
  | { kind: 'float32' }
  | { kind: 'float64' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'string'; maxLength?: number }
  | { kind: 'json' }
  | { kind: 'bytes' }
  | { kind: 'uuid' }
  | { kind: 'date' }
  | { kind: 'time' }
  | { kind: 'timestamp' }
  | { kind: 'timestamptz' };

export type ColumnKind = ColumnType['kind'];

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
}

export interface TableSchema {
  /** Database schema (PostgreSQL) or database (MariaDB) the table lives in; absent for the default. */
  readonly schema?: string;
  readonly name: string;
  readonly columns: readonly Column[];
  /** Primary-key column names in key order; never empty for a table sluice replicates. */
  readonly primaryKey: readonly string[];
}

export type ColumnValue = null | boolean | number | bigint | string | Buffer;
export type Row = Record<string, ColumnValue>;

export function qualifiedName(table: Pick<TableSchema, 'schema' | 'name'>): string {
  return table.schema ? `${table.schema}.${table.name}` : table.name;
}
