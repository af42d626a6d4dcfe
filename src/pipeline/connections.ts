/**
 * Opens the databases a config names. Each connection is checked at once, so a wrong URL fails at
 * start-up with the config key and a redacted URL in the message, not later in the middle of a batch.
 */
import pg from 'pg';
import mysql from 'mysql2/promise';
import { PGlite } from '@electric-sql/pglite';
import type { ConnectionConfig } from '../config/schema.js';
import type { DbConnection } from '../metadata/index.js';
import { MYSQL_SESSION_SQL, pgTypes } from '../metadata/index.js';
import { SluiceError } from '../core/errors.js';
import { redactUrl } from '../observe/logger.js';
export { outboxDbOf } from '../capture/outbox/db.js';

export type OpenConnection = DbConnection & { close(): Promise<void>; describe: string };

export async function openConnection(cfg: ConnectionConfig, configPath: string): Promise<OpenConnection> {
  const describe = cfg.dialect === 'pglite' ? `pglite:${cfg.dataDir ?? 'memory'}` : redactUrl(cfg.url!);
  try {
    switch (cfg.dialect) {
      case 'postgres': {
        const pool = new pg.Pool({ connectionString: cfg.url, max: cfg.poolSize, types: pgTypes });
        pool.on('error', () => {}); // an idle client's error surfaces on its next query instead
        await pool.query('SELECT 1');
        return { dialect: 'postgres', connection: pool, describe, close: () => pool.end() };
      }
      case 'mysql': {
        const pool = mysql.createPool({
          uri: cfg.url!,
          connectionLimit: cfg.poolSize,
          supportBigNumbers: true,
          bigNumberStrings: true,
          dateStrings: true,
          decimalNumbers: false,
          timezone: 'Z',
        });
        // Every connection gets the session settings sluice relies on (UTC, strict mode).
        (pool.pool as unknown as { on(e: 'connection', f: (c: { query(sql: string): void }) => void): void }).on('connection', (c) =>
          c.query(MYSQL_SESSION_SQL),
        );
        await pool.query('SELECT 1');
        return { dialect: 'mysql', connection: pool, describe, close: () => pool.end() };
      }
      case 'pglite': {
        const db = new PGlite(cfg.dataDir);
        await db.waitReady;
        return { dialect: 'pglite', connection: db, describe, close: () => db.close() };
      }
    }
  } catch (err) {
    throw new SluiceError('SLUICE_ERR_CONFIG', `${configPath}: cannot connect to ${describe}: ${(err as Error).message}`, {
      cause: err,
      context: { configPath },
    });
  }
}
