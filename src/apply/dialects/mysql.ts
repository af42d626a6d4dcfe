/**
 * MariaDB / MySQL through a mysql2 promise Pool. No data-modifying CTEs and no RETURNING on
 * upserts, so the guard is two set-based statements per chunk of keys, both under the row locks
 * the first one takes:
 *
 *   1. INSERT INTO sluice_row_versions … VALUES (…), …
 *        ON DUPLICATE KEY UPDATE prev_version = version,               -- the stored version
 *          deleted = IF(VALUES(version) > version, VALUES(deleted), deleted),
 *          version = GREATEST(version, VALUES(version))                -- assignments run left to right
 *   2. SELECT key_text … WHERE table_name = ? AND key_text IN (…)
 *        AND (prev_version IS NULL OR prev_version < version)          -- the keys this batch won
 *
 * Apply transactions run in READ COMMITTED (see `transaction` for why): statement 2 then reads the
 * latest committed state, and statement 1 holds every row it reads, so it is exact without a lock
 * of its own; a locking read would also lock (and wait for) rows it merely scans past, which are
 * other batches' keys. Where the server logs statements and READ COMMITTED cannot be used, it reads
 * FOR UPDATE: when statement 1 changes nothing in a row (its stored version already equals
 * prev_version), InnoDB makes no new row version, and a plain read in REPEATABLE READ would see the
 * row as of the transaction's snapshot, from before a concurrent writer committed (found by the
 * contract's two-sinks test).
 *
 * then multi-row `INSERT … ON DUPLICATE KEY UPDATE` for the won upserts and
 * `DELETE … WHERE (key) IN (…)` for the won deletes (their version rows stay: tombstones).
 * Values are bound parameters: server-side prepared statements by default (`statements: 'text'`:
 * mysql2 binds them client-side), measured faster in bench/apply-mysql.ts. Statement sizes follow
 * a fixed ladder (chunkLadder) so the prepared-statement caches stay small. Sessions get
 * MYSQL_SESSION_SQL (UTC, strict).
 *
 * Caveat: ON DUPLICATE KEY UPDATE fires on any unique key; a target with a unique key besides the
 * primary key can have a row updated through that other key. Keep the target's unique keys to
 * the replicated key.
 */
import { channel } from 'node:diagnostics_channel';
import type { Pool, PoolConnection } from 'mysql2/promise';
import type { TableRef } from '../../core/change-event.js';
import { MYSQL_SESSION_SQL, introspectMysql, toMysqlParam } from '../../metadata/mysql.js';
import { qualifiedMysql, quoteMysql } from '../../metadata/sql-names.js';
import { isNoPrimaryKeyError } from '../../metadata/table-errors.js';
import { ValueError } from '../../metadata/portable-values.js';
import { classifyError } from '../errors.js';
import type { Change, DeadLetterQuery, DeadLetterRow, DeadLetterStatus, DialectTx, SinkDialect, TableBinding } from './types.js';

/**
 * Published on this channel each time an apply transaction fails on a transient error (the caller
 * applies the batch again): { dialect, cause, errno }. Metrics and tests count retries by cause.
 */
export const APPLY_RETRY_CHANNEL = 'sluice:apply:retry';
export type RetryCause = 'deadlock' | 'lock_wait_timeout' | 'connection' | 'other';
export interface ApplyRetryMessage {
  readonly dialect: 'mysql';
  readonly cause: RetryCause;
  readonly errno?: number;
}

const retryChannel = channel(APPLY_RETRY_CHANNEL);
const CONNECTION_ERRNOS = new Set([
  1040, 1053, 1152, 1153, 1154, 1155, 1156, 1157, 1158, 1159, 1160, 1161, 1927, 2002, 2003, 2006, 2013, 2055,
]);

function noteRetry(err: unknown): void {
  if (!retryChannel.hasSubscribers) return;
  const errno = (err as { errno?: unknown }).errno;
  const n = typeof errno === 'number' ? errno : undefined;
  const cause: RetryCause =
    n === 1213 ? 'deadlock' : n === 1205 ? 'lock_wait_timeout' : n !== undefined && CONNECTION_ERRNOS.has(n) ? 'connection' : 'other';
  retryChannel.publish({ dialect: 'mysql', cause, ...(n !== undefined ? { errno: n } : {}) } satisfies ApplyRetryMessage);
}

export interface MysqlDialectOptions {
  /** Database for sluice's own tables (default: the connection's current database). */
  readonly stateDatabase?: string;
  /** 'prepared' (default): server-side prepared statements (execute); 'text': mysql2 binds client-side (query). */
  readonly statements?: 'prepared' | 'text';
  /** Rows per multi-row statement. */
  readonly rowsPerStatement?: number;
  readonly ownsPool?: boolean;
}

type Params = Array<string | number | bigint | Buffer | null>;

class MysqlTx implements DialectTx {
  constructor(
    readonly conn: PoolConnection,
    private readonly prepared: boolean,
    readonly readCommitted: boolean,
  ) {}
  /** State statements: text protocol (few, varied). */
  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const [rows] = await this.conn.query(sql, params as Params);
    return (Array.isArray(rows) ? rows : []) as T[];
  }
  /** The apply statements: server-side prepared when configured (their texts come from a small ladder of sizes). */
  async exec<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    const [rows] = this.prepared ? await this.conn.execute(sql, params as Params) : await this.conn.query(sql, params as Params);
    return (Array.isArray(rows) ? rows : []) as T[];
  }
}

/**
 * Chunk sizes for n rows: full chunks of `per`, the rest in powers of two (37 → 32, 4, 1), so a
 * table's statements have at most log2(per) + 2 distinct texts. Prepared statements are cached
 * per connection and the server caps them all (max_prepared_stmt_count): sizes must not vary freely.
 */
export function chunkLadder(n: number, per: number): number[] {
  const out: number[] = [];
  while (n >= per) {
    out.push(per);
    n -= per;
  }
  for (let p = 1 << 30; p >= 1; p >>= 1)
    if (n >= p) {
      out.push(p);
      n -= p;
    }
  return out;
}

interface TableSql {
  readonly upsertPrefix: string;
  readonly upsertSuffix: string;
  readonly deleteSingle: boolean;
  readonly deletePrefix: string;
  readonly rowPlaceholder: string;
  readonly keyPlaceholder: string;
}

export function mysqlDialect(pool: Pool, opts: MysqlDialectOptions = {}): SinkDialect {
  const q = (name: string) => qualifiedMysql(opts.stateDatabase ? { schema: opts.stateDatabase, name } : { name });
  const T = { versions: q('sluice_row_versions'), checkpoints: q('sluice_checkpoints'), deadLetters: q('sluice_dead_letters') };
  // Measured (bench/apply-mysql.ts, 50k rows × 10 columns): prepared ≈67k inserts/s, text ≈47–53k.
  const prepared = (opts.statements ?? 'prepared') === 'prepared';
  const perStatement = opts.rowsPerStatement ?? 1000;
  /** Connections whose session already has MYSQL_SESSION_SQL (the underlying connection object). */
  const sessions = new WeakSet<object>();
  const tableSql = new WeakMap<TableBinding, TableSql>();

  const withConnection = async <R>(fn: (conn: PoolConnection) => Promise<R>): Promise<R> => {
    const conn = await pool.getConnection();
    let broken = false;
    try {
      const raw = (conn as unknown as { connection: object }).connection ?? conn;
      if (!sessions.has(raw)) {
        await conn.query(MYSQL_SESSION_SQL);
        sessions.add(raw);
      }
      return await fn(conn);
    } catch (err) {
      if (classifyError(err) === 'transient') broken = true;
      throw err;
    } finally {
      if (broken) conn.destroy();
      else conn.release();
    }
  };

  const read = <R>(sql: string, params: unknown[]): Promise<R[]> =>
    withConnection(async (conn) => {
      const [rows] = await conn.query(sql, params as Params);
      return rows as R[];
    });

  /**
   * READ COMMITTED unless the server logs statements (binlog_format=STATEMENT refuses row changes
   * under it); asked once per pool.
   */
  let isolation: Promise<string | undefined> | undefined;
  // Asked on the connection the transaction already holds: taking a second one from the pool here
  // deadlocks once every pooled connection is held by a transaction waiting for this answer.
  const isolationSql = (conn: PoolConnection) => {
    isolation ??= conn
      .query('SELECT @@log_bin AS logBin, @@binlog_format AS format')
      .then(([rows]) => (rows as Array<{ logBin: number | string; format: string | null }>)[0])
      .then((r) =>
        r && Number(r.logBin) === 1 && String(r.format).toUpperCase() === 'STATEMENT'
          ? undefined
          : 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED',
      )
      .catch(() => {
        isolation = undefined;
        return undefined;
      });
    return isolation;
  };

  /**
   * One apply transaction. Under REPEATABLE READ, InnoDB's upserts and locking reads also lock the
   * gaps next to the keys they touch; two batches whose keys interleave then deadlock on each
   * other's gaps, even with disjoint keys, and no single key order avoids that across the version
   * table (ordered by key text) and the target (ordered by its key). READ COMMITTED takes record
   * locks only (a primary-key duplicate included), and every batch locks its version rows in the
   * sink's key order before it touches a target row, so concurrent batches queue on shared keys
   * instead of deadlocking. Nothing here needs a snapshot: the guard reads rows it holds locked.
   */
  const transaction = <R>(fn: (tx: DialectTx) => Promise<R>): Promise<R> =>
    withConnection(async (conn) => {
      const level = await isolationSql(conn);
      if (level) await conn.query(level);
      await conn.beginTransaction();
      try {
        const result = await fn(new MysqlTx(conn, prepared, level !== undefined));
        await conn.commit();
        return result;
      } catch (err) {
        try {
          await conn.rollback();
        } catch {
          // the connection is gone; withConnection destroys it (the error is transient)
        }
        if (classifyError(err) === 'transient') noteRetry(err);
        throw err;
      }
    });

  const sqlFor = (b: TableBinding): TableSql => {
    let s = tableSql.get(b);
    if (s) return s;
    const target = qualifiedMysql(b.target as TableRef);
    const cols = b.columns.map((c) => quoteMysql(c.name));
    const keyCols = b.keyColumns.map((c) => quoteMysql(c.name));
    const nonKey = b.columns.filter((c) => !b.keyColumns.includes(c)).map((c) => quoteMysql(c.name));
    const updates = (nonKey.length ? nonKey : keyCols.slice(0, 1)).map((c) => `${c} = VALUES(${c})`).join(', ');
    s = {
      upsertPrefix: `INSERT INTO ${target} (${cols.join(', ')}) VALUES `,
      upsertSuffix: ` ON DUPLICATE KEY UPDATE ${updates}`,
      deleteSingle: keyCols.length === 1,
      deletePrefix: `DELETE FROM ${target} WHERE ${keyCols.length === 1 ? keyCols[0] : `(${keyCols.join(', ')})`} IN `,
      rowPlaceholder: `(${cols.map(() => '?').join(',')})`,
      keyPlaceholder: keyCols.length === 1 ? '?' : `(${keyCols.map(() => '?').join(',')})`,
    };
    tableSql.set(b, s);
    return s;
  };

  const DL_SELECT = `SELECT d.id, d.table_name, d.key_text, CAST(d.version AS CHAR) AS version, d.event_json, d.error_code, d.error_message,
      d.status, d.attempts, DATE_FORMAT(d.created_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS created_at, DATE_FORMAT(d.updated_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS updated_at,
      (SELECT COUNT(*) FROM ${T.deadLetters} p WHERE p.table_name = d.table_name AND p.key_text = d.key_text AND p.status = 'parked') AS parked
    FROM ${T.deadLetters} d`;
  const toRow = (r: Record<string, unknown>): DeadLetterRow => ({
    id: Number(r.id),
    tableName: String(r.table_name),
    keyText: String(r.key_text),
    version: BigInt(String(r.version)),
    eventJson: String(r.event_json),
    errorCode: (r.error_code as string | null) ?? null,
    errorMessage: (r.error_message as string | null) ?? null,
    status: r.status as DeadLetterStatus,
    attempts: Number(r.attempts),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
    parked: Number(r.parked),
  });

  return {
    dialect: 'mysql',
    // (table_name, key_text) is the primary key: 4 × (128 + 640) bytes = InnoDB's 3072-byte limit.
    maxKeyTextLength: 640,

    async ensureState() {
      const text = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';
      await withConnection(async (conn) => {
        if (opts.stateDatabase) await conn.query(`CREATE DATABASE IF NOT EXISTS ${quoteMysql(opts.stateDatabase)}`);
        await conn.query(`CREATE TABLE IF NOT EXISTS ${T.versions} (
          table_name VARCHAR(128) ${text} NOT NULL,
          key_text VARCHAR(640) ${text} NOT NULL,
          version BIGINT NOT NULL,
          deleted TINYINT(1) NOT NULL,
          prev_version BIGINT NULL,
          PRIMARY KEY (table_name, key_text)) ENGINE=InnoDB`);
        await conn.query(`CREATE TABLE IF NOT EXISTS ${T.checkpoints} (
          name VARCHAR(191) ${text} NOT NULL PRIMARY KEY,
          position TEXT NOT NULL,
          updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB`);
        await conn.query(`CREATE TABLE IF NOT EXISTS ${T.deadLetters} (
          id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
          table_name VARCHAR(128) ${text} NOT NULL,
          key_text VARCHAR(640) ${text} NOT NULL,
          version BIGINT NOT NULL,
          event_json LONGTEXT NOT NULL,
          error_code VARCHAR(128) NULL,
          error_message TEXT NULL,
          status VARCHAR(16) NOT NULL,
          attempts INT NOT NULL DEFAULT 1,
          created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
          updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
          KEY sluice_dead_letters_blocking (table_name, key_text)) ENGINE=InnoDB`);
      });
    },

    async introspectTarget(ref: TableRef, keyColumns: readonly string[]) {
      try {
        return await introspectMysql(pool, ref);
      } catch (err) {
        if (isNoPrimaryKeyError(err)) return introspectMysql(pool, ref, { keyColumns });
        throw err;
      }
    },

    transaction,
    savepoint: async (tx) => void (await (tx as MysqlTx).conn.query('SAVEPOINT sluice_isolate')),
    rollbackToSavepoint: async (tx) => {
      await (tx as MysqlTx).conn.query('ROLLBACK TO SAVEPOINT sluice_isolate');
      await (tx as MysqlTx).conn.query('RELEASE SAVEPOINT sluice_isolate');
    },
    releaseSavepoint: async (tx) => void (await (tx as MysqlTx).conn.query('RELEASE SAVEPOINT sluice_isolate')),

    encode(change: Change) {
      const b = change.binding;
      const row = change.deleted ? change.event.key : change.event.after!;
      change.encoded = (change.deleted ? b.keyColumns : b.columns).map((c) => {
        try {
          return toMysqlParam(c.type, row[c.name] ?? null);
        } catch (err) {
          if (err instanceof ValueError) throw new ValueError(`column "${c.name}": ${err.message}`);
          throw err;
        }
      });
    },

    async applyChanges(tx, binding, changes) {
      if (changes.length === 0) return 0;
      const t = tx as MysqlTx;
      const s = sqlFor(binding);
      const won = new Set<string>();
      let at = 0;
      for (const size of chunkLadder(changes.length, perStatement)) {
        const chunk = changes.slice(at, (at += size));
        const guard: Params = [];
        for (const c of chunk) guard.push(binding.targetName, c.keyText, c.version, c.deleted ? 1 : 0);
        await t.exec(
          `INSERT INTO ${T.versions} (table_name, key_text, version, deleted) VALUES ${chunk.map(() => '(?,?,?,?)').join(',')}
           ON DUPLICATE KEY UPDATE prev_version = version, deleted = IF(VALUES(version) > version, VALUES(deleted), deleted),
             version = GREATEST(version, VALUES(version))`,
          guard,
        );
        const rows = await t.exec<{ key_text: string }>(
          `SELECT key_text FROM ${T.versions} WHERE table_name = ? AND key_text IN (${chunk.map(() => '?').join(',')})
             AND (prev_version IS NULL OR prev_version < version)${t.readCommitted ? '' : ' FOR UPDATE'}`,
          [binding.targetName, ...chunk.map((c) => c.keyText)],
        );
        for (const r of rows) won.add(String(r.key_text));
      }
      const upserts: Change[] = [];
      const deletes: Change[] = [];
      for (const c of changes) if (won.has(c.keyText)) (c.deleted ? deletes : upserts).push(c);
      const rowsPer = Math.max(1, Math.min(perStatement, Math.floor(60000 / binding.columns.length)));
      at = 0;
      for (const size of chunkLadder(upserts.length, rowsPer)) {
        const chunk = upserts.slice(at, (at += size));
        const params: Params = [];
        for (const c of chunk) params.push(...(c.encoded as Params));
        await t.exec(`${s.upsertPrefix}${chunk.map(() => s.rowPlaceholder).join(',')}${s.upsertSuffix}`, params);
      }
      at = 0;
      for (const size of chunkLadder(deletes.length, rowsPer)) {
        const chunk = deletes.slice(at, (at += size));
        const params: Params = [];
        for (const c of chunk) params.push(...(c.encoded as Params));
        await t.exec(`${s.deletePrefix}(${chunk.map(() => s.keyPlaceholder).join(',')})`, params);
      }
      return upserts.length + deletes.length;
    },

    async blockedKeys(tx, keys) {
      const tableNames = [...keys.keys()];
      const rows = await tx.query<{ tableName: string; keyText: string; maxVersion: string }>(
        `SELECT table_name AS tableName, key_text AS keyText, CAST(MAX(version) AS CHAR) AS maxVersion FROM ${T.deadLetters}
         WHERE status IN ('open', 'parked') AND table_name IN (${tableNames.map(() => '?').join(',')}) GROUP BY table_name, key_text`,
        tableNames,
      );
      return rows.map((r) => ({ tableName: String(r.tableName), keyText: String(r.keyText), maxVersion: BigInt(String(r.maxVersion)) }));
    },

    async insertDeadLetters(tx, rows) {
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        const params: Params = [];
        for (const r of chunk)
          params.push(r.tableName, r.keyText, r.version, r.eventJson, r.errorCode, r.errorMessage, r.status, r.status === 'open' ? 1 : 0);
        await tx.query(
          `INSERT INTO ${T.deadLetters} (table_name, key_text, version, event_json, error_code, error_message, status, attempts) VALUES ${chunk.map(() => '(?,?,?,?,?,?,?,?)').join(',')}`,
          params,
        );
      }
    },

    async lockVersions(tx, tableName, keyTexts) {
      const out = new Map<string, bigint>();
      for (let i = 0; i < keyTexts.length; i += perStatement) {
        const chunk = keyTexts.slice(i, i + perStatement);
        await tx.query(
          `INSERT IGNORE INTO ${T.versions} (table_name, key_text, version, deleted) VALUES ${chunk.map(() => '(?,?,-1,1)').join(',')}`,
          chunk.flatMap((k) => [tableName, k]),
        );
        const rows = await tx.query<{ key_text: string; version: string }>(
          `SELECT key_text, CAST(version AS CHAR) AS version FROM ${T.versions} WHERE table_name = ? AND key_text IN (${chunk.map(() => '?').join(',')}) ORDER BY key_text FOR UPDATE`,
          [tableName, ...chunk],
        );
        for (const r of rows) out.set(String(r.key_text), BigInt(String(r.version)));
      }
      return out;
    },

    async truncateTable(tx, binding, version) {
      await tx.query(`UPDATE ${T.versions} SET version = GREATEST(version, ?), prev_version = NULL, deleted = 1 WHERE table_name = ?`, [
        version.toString(),
        binding.targetName,
      ]);
      await tx.query(`DELETE FROM ${qualifiedMysql(binding.target as TableRef)}`);
    },
    async setVersions(tx, tableName, keyTexts, version) {
      for (let i = 0; i < keyTexts.length; i += perStatement) {
        const chunk = keyTexts.slice(i, i + perStatement);
        await tx.query(
          `UPDATE ${T.versions} SET version = ?, prev_version = NULL WHERE table_name = ? AND key_text IN (${chunk.map(() => '?').join(',')})`,
          [version.toString(), tableName, ...chunk],
        );
      }
    },

    async writeCheckpoint(tx, name, position) {
      await tx.query(
        `INSERT INTO ${T.checkpoints} (name, position) VALUES (?, ?) ON DUPLICATE KEY UPDATE position = VALUES(position), updated_at = CURRENT_TIMESTAMP(6)`,
        [name, position],
      );
    },

    async readCheckpoint(name) {
      const rows = await read<{ position: string }>(`SELECT position FROM ${T.checkpoints} WHERE name = ?`, [name]);
      return rows[0] ? String(rows[0].position) : undefined;
    },

    async listDeadLetters(query: DeadLetterQuery) {
      const where: string[] = ['d.id > ?'];
      const params: unknown[] = [query.afterId ?? 0];
      if (query.status) {
        where.push('d.status = ?');
        params.push(query.status);
      }
      if (query.tableName) {
        where.push('d.table_name = ?');
        params.push(query.tableName);
      }
      params.push(query.limit);
      const rows = await read<Record<string, unknown>>(`${DL_SELECT} WHERE ${where.join(' AND ')} ORDER BY d.id LIMIT ?`, params);
      return rows.map(toRow);
    },

    async getDeadLetter(id, tx) {
      const sql = `${DL_SELECT} WHERE d.id = ?${tx ? ' FOR UPDATE' : ''}`;
      const rows = tx ? await tx.query<Record<string, unknown>>(sql, [id]) : await read<Record<string, unknown>>(sql, [id]);
      return rows[0] ? toRow(rows[0]) : undefined;
    },

    async parkedBehind(tx, tableName, keyText) {
      const rows = await tx.query<Record<string, unknown>>(
        `${DL_SELECT} WHERE d.table_name = ? AND d.key_text = ? AND d.status = 'parked' ORDER BY d.id FOR UPDATE`,
        [tableName, keyText],
      );
      return rows.map(toRow);
    },

    async setDeadLetterStatus(tx, id, status, error) {
      if (error) {
        await tx.query(
          `UPDATE ${T.deadLetters} SET status = ?, error_code = ?, error_message = ?, attempts = attempts + 1, updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?`,
          [status, error.code, error.message, id],
        );
      } else {
        await tx.query(`UPDATE ${T.deadLetters} SET status = ?, updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?`, [status, id]);
      }
    },

    classify: classifyError,
    async close() {
      if (opts.ownsPool) await pool.end();
    },
  };
}
