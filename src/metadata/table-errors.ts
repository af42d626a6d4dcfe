/**
 * What every dialect's introspection decides the same way: naming a table in messages, and the
 * key a table is replicated by (its primary key, or the caller's key columns; none → refused).
 */
import { SluiceError } from '../core/errors.js';
import type { TableSchema } from '../core/table-schema.js';
import type { IntrospectOptions, TableRef } from './types.js';

/** `context.reason` of the error refusing a table without a primary key. */
export const NO_PRIMARY_KEY = 'no-primary-key';

export function isNoPrimaryKeyError(err: unknown): boolean {
  return err instanceof SluiceError && err.context.reason === NO_PRIMARY_KEY;
}

export function describe(table: TableRef): string {
  return table.schema ? `${table.schema}.${table.name}` : table.name;
}

export function applyKeyColumns(schema: TableSchema, opts: IntrospectOptions): TableSchema {
  const name = describe(schema);
  if (opts.keyColumns !== undefined) {
    if (opts.keyColumns.length === 0) {
      throw new SluiceError('SLUICE_ERR_SCHEMA_INVALID', `Key columns for table ${name} must name at least one column`, {
        context: { table: name },
      });
    }
    const missing = opts.keyColumns.filter((k) => !schema.columns.some((c) => c.name === k));
    if (missing.length > 0) {
      throw new SluiceError(
        'SLUICE_ERR_SCHEMA_INVALID',
        `Key column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} of table ${name} do${missing.length > 1 ? '' : 'es'} not exist`,
        { context: { table: name, field: missing[0] } },
      );
    }
    if (new Set(opts.keyColumns).size !== opts.keyColumns.length) {
      throw new SluiceError('SLUICE_ERR_SCHEMA_INVALID', `Key columns for table ${name} repeat a column`, { context: { table: name } });
    }
    return { ...schema, primaryKey: [...opts.keyColumns] };
  }
  if (schema.primaryKey.length === 0) {
    throw new SluiceError(
      'SLUICE_ERR_SCHEMA_INVALID',
      `Table ${name} has no primary key: sluice applies changes by key, so name the columns that identify a row (keyColumns) or add a primary key`,
      { context: { table: name, reason: NO_PRIMARY_KEY } },
    );
  }
  return schema;
}
