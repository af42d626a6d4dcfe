/**
 * Whether a target table can take a source table's changes. The sink runs it when it binds a table
 * and `sluice check` runs it before anything starts, so the two refuse the same tables with the
 * same words.
 */
import type { TableRef } from '../core/change-event.js';
import { SluiceError } from '../core/errors.js';
import { qualifiedName, type TableSchema } from '../core/table-schema.js';
import { introspect, isNoPrimaryKeyError, type DbConnection } from '../metadata/index.js';

/** Throws SLUICE_ERR_SCHEMA_INVALID when the target lacks a source column or is keyed differently. */
export function checkTargetTable(source: TableSchema, target: TableSchema): void {
  const sourceName = qualifiedName(source);
  const targetName = qualifiedName(target);
  const missing = source.columns.filter((c) => !target.columns.some((t) => t.name === c.name)).map((c) => c.name);
  if (missing.length > 0) {
    throw new SluiceError(
      'SLUICE_ERR_SCHEMA_INVALID',
      `Target table ${targetName} lacks column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} of source table ${sourceName}`,
      { context: { table: targetName, field: missing[0] } },
    );
  }
  const sameKey = target.primaryKey.length === source.primaryKey.length && source.primaryKey.every((k) => target.primaryKey.includes(k));
  if (!sameKey) {
    throw new SluiceError(
      'SLUICE_ERR_SCHEMA_INVALID',
      `Target table ${targetName} is keyed by (${target.primaryKey.join(', ')}) but source table ${sourceName} by (${source.primaryKey.join(', ')}): rows are applied by the source's key`,
      { context: { table: targetName } },
    );
  }
}

/**
 * The target table as the sink sees it: keyed by its own primary key, or, when it has none, by the
 * source's key columns (a keyless target is accepted; a differently keyed one is not).
 */
export async function introspectTarget(conn: DbConnection, ref: TableRef, keyColumns: readonly string[]): Promise<TableSchema> {
  try {
    return await introspect(conn, ref);
  } catch (err) {
    if (isNoPrimaryKeyError(err)) return introspect(conn, ref, { keyColumns: [...keyColumns] });
    throw err;
  }
}
