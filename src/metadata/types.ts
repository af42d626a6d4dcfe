/**
 * The connections metadata and apply work through, tagged by dialect. Each is the caller's: sluice
 * never changes a pool's configuration or global driver state (pg.types); it passes its own type
 * parsers per query and sets only session variables it needs (see each dialect module).
 */
import type { Pool as PgPool, ClientBase as PgClientBase } from 'pg';
import type { Pool as MysqlPool, PoolConnection as MysqlPoolConnection, Connection as MysqlConnection } from 'mysql2/promise';
import type { PGliteInterface, Transaction as PgliteTransaction } from '@electric-sql/pglite';
import type { TableRef } from '../core/change-event.js';

export type Dialect = 'postgres' | 'mysql' | 'pglite';
export const DIALECTS: readonly Dialect[] = ['postgres', 'mysql', 'pglite'];

export type PgQueryable = PgPool | PgClientBase;
export type MysqlQueryable = MysqlPool | MysqlPoolConnection | MysqlConnection;
export type PgliteQueryable = PGliteInterface | PgliteTransaction;

export type DbConnection =
  | { readonly dialect: 'postgres'; readonly connection: PgQueryable }
  | { readonly dialect: 'mysql'; readonly connection: MysqlQueryable }
  | { readonly dialect: 'pglite'; readonly connection: PgliteQueryable };

export interface IntrospectOptions {
  /**
   * Key columns for a table without a primary key (or to override it), in key order. Rows are
   * applied and compared by these; they must identify a row.
   */
  readonly keyColumns?: readonly string[];
}

export type { TableRef };
