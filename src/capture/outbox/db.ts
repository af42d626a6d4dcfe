/**
 * Adapters from the three clients sluice talks to (pg Pool, mysql2 promise Pool, PGlite) to the
 * relay's tiny query interface. Values are always bound parameters.
 */
import type { Pool as PgPool } from 'pg';
import type { Pool as MysqlPool } from 'mysql2/promise';
import type { PGlite } from '@electric-sql/pglite';
import type { OutboxDb } from './relay.js';
import type { DbConnection } from '../../metadata/index.js';

export function pgOutboxDb(pool: PgPool): OutboxDb {
  return { dialect: 'postgres', query: async (sql, params) => (await pool.query(sql, params)).rows };
}

export function mysqlOutboxDb(pool: MysqlPool): OutboxDb {
  return {
    dialect: 'mysql',
    query: async (sql, params) => {
      // query(), not execute(): LIMIT ? and long IN lists are not worth a prepared statement each.
      const [rows] = await pool.query(sql, params);
      return Array.isArray(rows) ? (rows as Array<Record<string, unknown>>) : [];
    },
  };
}

export function pgliteOutboxDb(db: PGlite): OutboxDb {
  return { dialect: 'pglite', query: async (sql, params) => (await db.query<Record<string, unknown>>(sql, params)).rows };
}

/** The relay's query interface over whichever client the connection holds. */
export function outboxDbOf(conn: DbConnection): OutboxDb {
  switch (conn.dialect) {
    case 'postgres':
      return pgOutboxDb(conn.connection as PgPool);
    case 'mysql':
      return mysqlOutboxDb(conn.connection as MysqlPool);
    case 'pglite':
      return pgliteOutboxDb(conn.connection as PGlite);
  }
}
