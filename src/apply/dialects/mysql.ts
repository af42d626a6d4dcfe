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
 * Apply transactions run in READ COMMITTED (drivers/mysql.ts says why): statement 2 then reads the
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
 * Values are bound parameters, the statements prepared by the driver (drivers/mysql.ts). Statement
 * sizes follow a fixed ladder (chunkLadder) so the prepared-statement caches stay small.
 *
 * Caveat: ON DUPLICATE KEY UPDATE fires on any unique key; a target with a unique key besides the
 * primary key can have a row updated through that other key. Keep the target's unique keys to
 * the replicated key.
 */
import type { TableRef } from '../../core/change-event.js';
import { toMysqlParam } from '../../metadata/mysql.js';
import { qualifiedMysql, quoteMysql } from '../../metadata/sql-names.js';
import { ValueError } from '../../core/portable-values.js';
import { classifyError } from '../errors.js';
import type { Change, DeadLetterQuery, DeadLetterRow, DeadLetterStatus, SinkDialect, StateStatements, TableBinding } from './types.js';

export interface MysqlDialectOptions {
  /** Database for sluice's own tables (default: the connection's current database). */
  readonly stateDatabase?: string;
  /** Rows per multi-row statement. */
  readonly rowsPerStatement?: number;
}

type Params = Array<string | number | bigint | Buffer | null>;

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

/** A table's statements for n rows (placeholders in the order their params are listed). */
export interface MysqlTableSql {
  /** Statement 1 for n keys; per key: table name, key text, version, deleted (0 or 1). */
  guard(n: number): string;
  /** Statement 2 for n keys; the table name, then the key texts. `forUpdate`: the transaction is not READ COMMITTED. */
  won(n: number, forUpdate: boolean): string;
  /** Multi-row upsert of n rows, each MysqlLoadSql.params of an upsert. */
  upsert(n: number): string;
  /** Delete of n keys, each MysqlLoadSql.params of a delete. */
  delete(n: number): string;
}

export function mysqlDialect(opts: MysqlDialectOptions = {}): SinkDialect {
  const q = (name: string) => qualifiedMysql(opts.stateDatabase ? { schema: opts.stateDatabase, name } : { name });
  const T = { versions: q('sluice_row_versions'), checkpoints: q('sluice_checkpoints'), deadLetters: q('sluice_dead_letters') };
  const perStatement = opts.rowsPerStatement ?? 1000;
  const tableSql = new WeakMap<TableBinding, MysqlTableSql>();

  const sqlFor = (b: TableBinding): MysqlTableSql => {
    let s = tableSql.get(b);
    if (s) return s;
    const target = qualifiedMysql(b.target as TableRef);
    const cols = b.columns.map((c) => quoteMysql(c.name));
    const keyCols = b.keyColumns.map((c) => quoteMysql(c.name));
    const nonKey = b.columns.filter((c) => !b.keyColumns.includes(c)).map((c) => quoteMysql(c.name));
    const updates = (nonKey.length ? nonKey : keyCols.slice(0, 1)).map((c) => `${c} = VALUES(${c})`).join(', ');
    const rowPlaceholder = `(${cols.map(() => '?').join(',')})`;
    const keyPlaceholder = keyCols.length === 1 ? '?' : `(${keyCols.map(() => '?').join(',')})`;
    const keyList = keyCols.length === 1 ? keyCols[0] : `(${keyCols.join(', ')})`;
    const times = (n: number, p: string) => Array<string>(n).fill(p).join(',');
    s = {
      guard: (n) => `INSERT INTO ${T.versions} (table_name, key_text, version, deleted) VALUES ${times(n, '(?,?,?,?)')}
           ON DUPLICATE KEY UPDATE prev_version = version, deleted = IF(VALUES(version) > version, VALUES(deleted), deleted),
             version = GREATEST(version, VALUES(version))`,
      won: (n, forUpdate) => `SELECT key_text FROM ${T.versions} WHERE table_name = ? AND key_text IN (${times(n, '?')})
             AND (prev_version IS NULL OR prev_version < version)${forUpdate ? ' FOR UPDATE' : ''}`,
      upsert: (n) => `INSERT INTO ${target} (${cols.join(', ')}) VALUES ${times(n, rowPlaceholder)} ON DUPLICATE KEY UPDATE ${updates}`,
      delete: (n) => `DELETE FROM ${target} WHERE ${keyList} IN (${times(n, keyPlaceholder)})`,
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

  const state: StateStatements = {
    async ensure(tx) {
      const text = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';
      if (opts.stateDatabase) await tx.query(`CREATE DATABASE IF NOT EXISTS ${quoteMysql(opts.stateDatabase)}`);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${T.versions} (
        table_name VARCHAR(128) ${text} NOT NULL,
        key_text VARCHAR(640) ${text} NOT NULL,
        version BIGINT NOT NULL,
        deleted TINYINT(1) NOT NULL,
        prev_version BIGINT NULL,
        PRIMARY KEY (table_name, key_text)) ENGINE=InnoDB`);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${T.checkpoints} (
        name VARCHAR(191) ${text} NOT NULL PRIMARY KEY,
        position TEXT NOT NULL,
        updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB`);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${T.deadLetters} (
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
    },

    anyBlocked: `SELECT EXISTS (SELECT 1 FROM ${T.deadLetters} WHERE status IN ('open', 'parked')) AS \`any\``,

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

    async readCheckpoint(tx, name) {
      const rows = await tx.query<{ position: string }>(`SELECT position FROM ${T.checkpoints} WHERE name = ?`, [name]);
      return rows[0] ? String(rows[0].position) : undefined;
    },

    async listDeadLetters(tx, query: DeadLetterQuery) {
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
      const rows = await tx.query<Record<string, unknown>>(`${DL_SELECT} WHERE ${where.join(' AND ')} ORDER BY d.id LIMIT ?`, params);
      return rows.map(toRow);
    },

    async getDeadLetter(tx, id, forUpdate) {
      const rows = await tx.query<Record<string, unknown>>(`${DL_SELECT} WHERE d.id = ?${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
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
  };

  return {
    dialect: 'mysql',
    // (table_name, key_text) is the primary key: 4 × (128 + 640) bytes = InnoDB's 3072-byte limit.
    maxKeyTextLength: 640,
    loads: { stage: false, inlineMax: 0, newKeysMin: Infinity },
    load: {
      family: 'mysql',
      rowsPerStatement: perStatement,
      table: sqlFor,
      params(change: Change): Params {
        const b = change.binding;
        const row = change.deleted ? change.event.key : change.event.after!;
        return (change.deleted ? b.keyColumns : b.columns).map((c) => {
          try {
            return toMysqlParam(c.type, row[c.name] ?? null);
          } catch (err) {
            if (err instanceof ValueError) throw new ValueError(`column "${c.name}": ${err.message}`);
            throw err;
          }
        });
      },
    },
    state,
    classify: classifyError,
  };
}
