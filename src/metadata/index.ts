/**
 * Table metadata: what a table looks like (columns in ordinal order with portable types,
 * nullability, key in key order) and its values in the one portable JS representation each.
 * Flow: introspect(conn, table) → TableSchema → capture/codec/apply build on it; readRows(conn,
 * table, keys?) → portable Rows (tests, reconciliation). One module per dialect (postgres, pglite
 * share pg-catalog.ts / pg-text.ts; mysql) owns its type mapping both ways: parsers from the
 * database's text and parameters to it (toPgText, toMysqlParam), without loss
 * (docs/guarantees.md: lossless-values).
 */
export type { DbConnection, Dialect, IntrospectOptions, MysqlQueryable, PgQueryable, PgliteQueryable } from './types.js';
export { DIALECTS } from './types.js';
export { introspect, readRows } from './read-rows.js';
export { introspectPostgres, readRowsPostgres, pgTypes, toPgText, PG_TEXT_PARSERS, PG_OID } from './postgres.js';
export { introspectPglite, readRowsPglite, pgliteQueryOptions } from './pglite.js';
export { introspectMysql, readRowsMysql, toMysqlParam, fromMysqlRaw, MYSQL_SESSION_SQL } from './mysql.js';
export { ValueError, checkValue, canonicalFloat32 } from '../core/portable-values.js';
export { quotePg, quoteMysql, qualifiedPg, qualifiedMysql } from './sql-names.js';
export { isNoPrimaryKeyError } from './table-errors.js';
