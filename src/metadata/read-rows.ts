/**
 * Dialect dispatch for the two questions every other part asks of a database table: what is its
 * portable schema (introspect) and what rows does it hold, as portable values (readRows). Tests
 * compare targets with readRows; reconciliation will too.
 */
import type { Row, TableSchema } from '../core/table-schema.js';
import { introspectMysql, readRowsMysql } from './mysql.js';
import { introspectPglite, readRowsPglite } from './pglite.js';
import { introspectPostgres, readRowsPostgres } from './postgres.js';
import type { DbConnection, IntrospectOptions, TableRef } from './types.js';

export function introspect(conn: DbConnection, table: TableRef, opts: IntrospectOptions = {}): Promise<TableSchema> {
  switch (conn.dialect) {
    case 'postgres':
      return introspectPostgres(conn.connection, table, opts);
    case 'mysql':
      return introspectMysql(conn.connection, table, opts);
    case 'pglite':
      return introspectPglite(conn.connection, table, opts);
  }
}

/**
 * Every row of `table` ordered by its key, or only the rows with the given keys (each key a Row of
 * the key columns; keys not found are simply absent; read 1,000 keys per query, each query's rows
 * in key order).
 */
export function readRows(conn: DbConnection, table: TableSchema, keys?: readonly Row[]): Promise<Row[]> {
  switch (conn.dialect) {
    case 'postgres':
      return readRowsPostgres(conn.connection, table, keys);
    case 'mysql':
      return readRowsMysql(conn.connection, table, keys);
    case 'pglite':
      return readRowsPglite(conn.connection, table, keys);
  }
}
