/**
 * What the PostgreSQL and PGlite dialects share: the state tables (one version table per target
 * table, checkpoints, dead letters), their DDL and statements. How a batch is loaded is
 * pg-load.ts.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { TableRef } from '../../core/change-event.js';
import { qualifiedPg, quotePg } from '../../metadata/sql-names.js';
import type { DeadLetterInsert, DeadLetterQuery, DeadLetterRow, DeadLetterStatus, Query, StateStatements, TableBinding } from './types.js';

export interface StateNames {
  /** The version table of one target table ("schema.name"), qualified and quoted. */
  versionsOf(tableName: string): string;
  readonly checkpoints: string;
  readonly deadLetters: string;
}

/**
 * One version table per target table, keyed by key_text alone. Against one shared table keyed by
 * (table_name, key_text), its index entries are half as wide and compare on one column: COPYing
 * 200k version rows took 265 ms against 400 ms (psql; 2 cores, PostgreSQL 15, 2026-11), and a new
 * key's version row is as much of an insert's cost as its target row.
 * The name is readable and bounded (PostgreSQL cuts identifiers at 63 bytes); the hash keeps
 * "a.b_c" and "a_b.c" apart.
 */
export function versionTableName(tableName: string): string {
  const slug = tableName
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .slice(0, 36);
  return `sluice_v_${slug}_${createHash('sha1').update(tableName).digest('hex').slice(0, 12)}`;
}

export function pgStateNames(stateSchema?: string): StateNames {
  const q = (name: string) => qualifiedPg(stateSchema ? { schema: stateSchema, name } : { name });
  return {
    versionsOf: (tableName) => q(versionTableName(tableName)),
    checkpoints: q('sluice_checkpoints'),
    deadLetters: q('sluice_dead_letters'),
  };
}

export function pgStateDdl(n: StateNames, stateSchema?: string): string[] {
  return [
    ...(stateSchema ? [`CREATE SCHEMA IF NOT EXISTS ${quotePg(stateSchema)}`] : []),
    `CREATE TABLE IF NOT EXISTS ${n.checkpoints} (
      name text PRIMARY KEY,
      position text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS ${n.deadLetters} (
      id bigserial PRIMARY KEY,
      table_name text COLLATE "C" NOT NULL,
      key_text text COLLATE "C" NOT NULL,
      version bigint NOT NULL,
      event_json text NOT NULL,
      error_code text,
      error_message text,
      status text NOT NULL,
      attempts integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE INDEX IF NOT EXISTS sluice_dead_letters_blocking ON ${n.deadLetters} (table_name, key_text, id) WHERE status IN ('open', 'parked')`,
  ];
}

/** A target table's version table, created when a sink binds the table if it does not exist. */
async function pgEnsureTableState(tx: Query, n: StateNames, tableName: string): Promise<void> {
  const versions = n.versionsOf(tableName);
  const [has] = await tx.query<{ versions: boolean }>('SELECT to_regclass($1) IS NOT NULL AS versions', [versions]);
  if (!has?.versions) {
    // COLLATE "C": keys compare bytewise (fast, and the same everywhere).
    await tx.query(`CREATE TABLE ${versions} (
      key_text text COLLATE "C" PRIMARY KEY,
      version bigint NOT NULL,
      deleted boolean NOT NULL) WITH (fillfactor = 80)`); // room for HOT updates of version
    await tx.query(`COMMENT ON TABLE ${versions} IS ${pg.escapeLiteral(`sluice: the last applied version of each key of ${tableName}`)}`);
  }
}

/** Serialises state-table creation across processes sharing a database. */
export const PG_STATE_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('sluice_apply_state'))";

// --- state statements -----------------------------------------------------------------------------

const DL_COLUMNS = (n: StateNames) => `d.id::text AS id, d.table_name, d.key_text, d.version::text AS version, d.event_json,
  d.error_code, d.error_message, d.status, d.attempts,
  to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at,
  to_char(d.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS updated_at,
  (SELECT count(*) FROM ${n.deadLetters} p WHERE p.table_name = d.table_name AND p.key_text = d.key_text AND p.status = 'parked')::int AS parked`;

interface DlRaw {
  id: string;
  table_name: string;
  key_text: string;
  version: string;
  event_json: string;
  error_code: string | null;
  error_message: string | null;
  status: DeadLetterStatus;
  attempts: number;
  created_at: string;
  updated_at: string;
  parked: number;
}

function toRow(r: DlRaw): DeadLetterRow {
  return {
    id: Number(r.id),
    tableName: r.table_name,
    keyText: r.key_text,
    version: BigInt(r.version),
    eventJson: r.event_json,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    status: r.status,
    attempts: Number(r.attempts),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    parked: Number(r.parked),
  };
}

/** The state statements; `lock`: DDL first takes PG_STATE_LOCK_SQL (processes sharing a server). */
export function pgStateStatements(n: StateNames, stateSchema: string | undefined, lock: boolean): StateStatements {
  return {
    async ensure(tx: Query) {
      if (lock) await tx.query(PG_STATE_LOCK_SQL);
      for (const ddl of pgStateDdl(n, stateSchema)) await tx.query(ddl);
    },
    async ensureTable(tx: Query, tableName: string) {
      if (lock) await tx.query(PG_STATE_LOCK_SQL);
      await pgEnsureTableState(tx, n, tableName);
    },
    // Almost always there is no dead letter at all, and this says so in the round trip of the
    // transaction's BEGIN. Only when there is one are the batch's own keys looked up (through the
    // partial index), however many others are blocked.
    anyBlocked: `SELECT EXISTS (SELECT FROM ${n.deadLetters} WHERE status IN ('open', 'parked')) AS any`,
    async blockedKeys(tx: Query, keys: ReadonlyMap<string, readonly string[]>) {
      const tables: string[] = [];
      const texts: string[] = [];
      for (const [table, ks] of keys)
        for (const k of ks) {
          tables.push(table);
          texts.push(k);
        }
      const rows = await tx.query<{ tableName: string; keyText: string; maxVersion: string }>(
        `SELECT d.table_name AS "tableName", d.key_text AS "keyText", max(d.version)::text AS "maxVersion"
         FROM ${n.deadLetters} d JOIN unnest($1::text[], $2::text[]) AS b(t, k) ON d.table_name = b.t AND d.key_text = b.k
         WHERE d.status IN ('open', 'parked') GROUP BY d.table_name, d.key_text`,
        [tables, texts],
        true,
      );
      return rows.map((r) => ({ tableName: r.tableName, keyText: r.keyText, maxVersion: BigInt(r.maxVersion) }));
    },
    async insertDeadLetters(tx: Query, rows: readonly DeadLetterInsert[]) {
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        const params: unknown[] = [];
        const tuples = chunk.map((r) => {
          const b = params.length;
          // attempts: 1 for a failed event, 0 for one parked behind it (never tried yet).
          params.push(
            r.tableName,
            r.keyText,
            r.version.toString(),
            r.eventJson,
            r.errorCode,
            r.errorMessage,
            r.status,
            r.status === 'open' ? '1' : '0',
          );
          return `(${[1, 2, 3, 4, 5, 6, 7, 8].map((j) => `$${b + j}`).join(', ')})`;
        });
        await tx.query(
          `INSERT INTO ${n.deadLetters} (table_name, key_text, version, event_json, error_code, error_message, status, attempts) VALUES ${tuples.join(', ')}`,
          params,
        );
      }
    },
    async lockVersions(tx: Query, tableName: string, keyTexts: readonly string[]) {
      const versions = n.versionsOf(tableName);
      await tx.query(
        `INSERT INTO ${versions} (key_text, version, deleted)
         SELECT k, -1, true FROM unnest($1::text[]) AS k ORDER BY k COLLATE "C" ON CONFLICT (key_text) DO NOTHING`,
        [keyTexts],
      );
      const rows = await tx.query<{ key_text: string; version: string }>(
        `SELECT key_text, version::text AS version FROM ${versions} WHERE key_text = ANY($1::text[]) ORDER BY key_text FOR UPDATE`,
        [keyTexts],
      );
      return new Map(rows.map((r) => [r.key_text, BigInt(r.version)]));
    },
    async setVersions(tx: Query, tableName: string, keyTexts: readonly string[], version: bigint) {
      await tx.query(`UPDATE ${n.versionsOf(tableName)} SET version = $2::bigint WHERE key_text = ANY($1::text[])`, [
        keyTexts,
        version.toString(),
      ]);
    },
    async truncateTable(tx: Query, binding: TableBinding, version: bigint) {
      await tx.query(`UPDATE ${n.versionsOf(binding.targetName)} SET version = GREATEST(version, $1::bigint), deleted = true`, [
        version.toString(),
      ]);
      await tx.query(`DELETE FROM ${qualifiedPg(binding.target as TableRef)}`);
    },
    async writeCheckpoint(tx: Query, name: string, position: string) {
      await tx.query(
        `INSERT INTO ${n.checkpoints} (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
        [name, position],
        true,
      );
    },
    async readCheckpoint(tx: Query, name: string) {
      const rows = await tx.query<{ position: string }>(`SELECT position FROM ${n.checkpoints} WHERE name = $1`, [name]);
      return rows[0]?.position;
    },
    async listDeadLetters(tx: Query, query: DeadLetterQuery) {
      const rows = await tx.query<DlRaw>(
        `SELECT ${DL_COLUMNS(n)} FROM ${n.deadLetters} d
         WHERE ($1::text IS NULL OR d.status = $1::text) AND ($2::text IS NULL OR d.table_name = $2::text) AND d.id > $3::bigint
         ORDER BY d.id LIMIT $4::int`,
        [query.status ?? null, query.tableName ?? null, String(query.afterId ?? 0), String(query.limit)],
      );
      return rows.map(toRow);
    },
    async getDeadLetter(tx: Query, id: number, forUpdate: boolean) {
      const rows = await tx.query<DlRaw>(
        `SELECT ${DL_COLUMNS(n)} FROM ${n.deadLetters} d WHERE d.id = $1::bigint${forUpdate ? ' FOR UPDATE OF d' : ''}`,
        [String(id)],
      );
      return rows[0] ? toRow(rows[0]) : undefined;
    },
    async parkedBehind(tx: Query, tableName: string, keyText: string) {
      const rows = await tx.query<DlRaw>(
        `SELECT ${DL_COLUMNS(n)} FROM ${n.deadLetters} d WHERE d.table_name = $1 AND d.key_text = $2 AND d.status = 'parked' ORDER BY d.id FOR UPDATE OF d`,
        [tableName, keyText],
      );
      return rows.map(toRow);
    },
    async setDeadLetterStatus(tx: Query, id: number, status: DeadLetterStatus, error?: { code: string; message: string }) {
      if (error) {
        await tx.query(
          `UPDATE ${n.deadLetters} SET status = $2, error_code = $3, error_message = $4, attempts = attempts + 1, updated_at = now() WHERE id = $1::bigint`,
          [String(id), status, error.code, error.message],
        );
      } else {
        await tx.query(`UPDATE ${n.deadLetters} SET status = $2, updated_at = now() WHERE id = $1::bigint`, [String(id), status]);
      }
    },
  };
}
