/**
 * What the PostgreSQL and PGlite dialects share: the state tables' DDL and statements, the stage
 * table and COPY text encoding, and the one set-based statement that applies a staged batch.
 *
 * Apply = load the batch into a temporary stage table (COPY; the stage has the target's own
 * column types, so a bad value fails there with the target's error), then one statement:
 *
 *   WITH won AS (INSERT INTO sluice_v_<table> … SELECT … FROM stage   -- its version table
 *                ON CONFLICT (key_text) DO UPDATE … WHERE stored.version < new.version
 *                RETURNING key_text),                      -- the version guard, set-based
 *        up  AS (INSERT INTO target … SELECT … FROM stage JOIN won … ON CONFLICT (key) DO UPDATE …),
 *        del AS (DELETE FROM target USING stage JOIN won … WHERE deleted AND key matches)
 *   SELECT count(*) FROM won
 *
 * A small batch (postgres.ts SMALL_BATCH) skips the stage: the same statement reads its rows from
 * one JSON parameter (`stage AS (… json_populate_record(NULL::target, …))`), typed by the target's
 * own columns just as the stage is.
 *
 * PostgreSQL first tries a staged batch as new keys (PgTableSql.newKeys, copyVersions/copyTarget;
 * new-keys.ts says when): plain writes that fail, and are undone, as soon as one key exists.
 *
 * A key whose stored version is equal or newer is not in `won`, so its row is not touched; a
 * delete keeps its version row (deleted = true): the tombstone that stops an older replayed
 * update from resurrecting the row (docs/guarantees.md: set-based-version-guard, tombstones).
 * Concurrent writers of one key serialise on
 * the version row's lock, and ON CONFLICT re-checks the guard against the committed version.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { TableRef } from '../../core/change-event.js';
import { qualifiedPg, quotePg } from '../../metadata/sql-names.js';
import { pgTextEncoder, type PgTextEncoder } from '../../metadata/pg-text.js';
import { ValueError } from '../../metadata/portable-values.js';
import { classifyError } from '../errors.js';
import type { Change, DeadLetterInsert, DeadLetterQuery, DeadLetterRow, DeadLetterStatus, DialectTx, TableBinding } from './types.js';

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
export async function pgEnsureTableState(tx: DialectTx, n: StateNames, tableName: string): Promise<void> {
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

// --- stage and apply statement ------------------------------------------------------------------

const META = ['__sluice_key', '__sluice_version', '__sluice_deleted'] as const;

export interface PgTableSql {
  /** Temp table name (unqualified); the hash keeps differently shaped bindings apart on one session. */
  readonly stage: string;
  readonly createStage: string;
  readonly truncateStage: string;
  /** COPY column list: `pg_temp.stage (…)` */
  readonly stageColumns: string;
  /**
   * The one guarded statement (no parameter), in three shapes: a slice with only upserts or
   * only deletes leaves out the other half (one scan and hash join fewer).
   */
  readonly apply: Readonly<Record<ApplyShape, string>>;
  /**
   * The same statement reading its rows from one JSON parameter ($1, see encodeInlineRow) instead
   * of the stage: for small batches, one round trip and no temp table to truncate at commit.
   * Undefined for a table with json columns (their text would have to be spliced into the JSON).
   */
  readonly inline?: Readonly<Record<ApplyShape, string>>;
  /**
   * The staged batch as plain writes, for when none of its keys has a version row or a target row
   * yet (see postgres.ts applyStaged): every change wins, so no guard is evaluated and no row is
   * joined back to it. Plain INSERTs cost about half of INSERT … ON CONFLICT (no speculative
   * insertion, no confirm record in the WAL), and skipping the join saves as much again. A key
   * that does exist fails the attempt with a unique violation, undone by the savepoint the attempt
   * opens. One simple-protocol query (SAVEPOINT; INSERT; INSERT or DELETE; RELEASE), so the
   * attempt is one round trip, which is why the table name is a quoted literal here instead of the
   * guarded statement's $1: a multi-statement query takes no parameters.
   */
  readonly newKeys: Readonly<Record<ApplyShape, string>>;
  /**
   * A large slice of new keys with no delete needs no stage at all: COPY its version rows, then
   * its rows, straight into the two tables (see versionChunks, rowChunks), under the same savepoint.
   */
  readonly copyVersions: string;
  readonly copyTarget: string;
}

export const PG_NEW_KEYS_ROLLBACK = 'ROLLBACK TO SAVEPOINT sluice_new_keys; RELEASE SAVEPOINT sluice_new_keys';

export type ApplyShape = 'both' | 'upserts' | 'deletes';

export function applyShape(changes: readonly Change[]): ApplyShape {
  let dels = 0;
  for (const c of changes) if (c.deleted) dels++;
  return dels === 0 ? 'upserts' : dels === changes.length ? 'deletes' : 'both';
}

const tableSqlCache = new WeakMap<TableBinding, PgTableSql>();

export function pgTableSql(b: TableBinding, n: StateNames): PgTableSql {
  const cached = tableSqlCache.get(b);
  if (cached) return cached;
  const versionsTable = n.versionsOf(b.targetName);
  const hash = createHash('sha1')
    .update(JSON.stringify([b.targetName, b.columns.map((c) => c.name), versionsTable]))
    .digest('hex')
    .slice(0, 16);
  const stage = `sluice_stage_${hash}`;
  const target = qualifiedPg(b.target as TableRef);
  const cols = b.columns.map((c) => quotePg(c.name));
  const keyCols = b.keyColumns.map((c) => quotePg(c.name));
  const nonKey = b.columns.filter((c) => !b.keyColumns.includes(c)).map((c) => quotePg(c.name));
  const [k, v, d] = META.map(quotePg) as [string, string, string];
  const stageRef = `pg_temp.${quotePg(stage)}`;
  const statements = (from: string, prefix: string) => {
    const won = `won AS (
        INSERT INTO ${versionsTable} AS v (key_text, version, deleted)
        SELECT s.${k}, s.${v}, s.${d} FROM ${from} s
        ON CONFLICT (key_text) DO UPDATE SET version = EXCLUDED.version, deleted = EXCLUDED.deleted
        WHERE v.version < EXCLUDED.version
        RETURNING v.key_text)`;
    const up = `up AS (
        INSERT INTO ${target} AS t (${cols.join(', ')})
        SELECT ${cols.map((c) => `s.${c}`).join(', ')} FROM ${from} s JOIN won w ON w.key_text = s.${k}
        WHERE NOT s.${d}
        ON CONFLICT (${keyCols.join(', ')}) DO ${nonKey.length ? `UPDATE SET ${nonKey.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}` : 'NOTHING'})`;
    const del = `del AS (
        DELETE FROM ${target} AS t USING ${from} s JOIN won w ON w.key_text = s.${k}
        WHERE s.${d} AND ${keyCols.map((c) => `t.${c} = s.${c}`).join(' AND ')})`;
    const count = 'SELECT count(*)::int AS applied FROM won';
    return {
      both: `WITH ${prefix}${won}, ${up}, ${del} ${count}`,
      upserts: `WITH ${prefix}${won}, ${up} ${count}`,
      deletes: `WITH ${prefix}${won}, ${del} ${count}`,
    };
  };
  const newKeys = (): Record<ApplyShape, string> => {
    // Separate statements, not CTEs, so the version rows are written before the target's rows, as
    // the guarded statement writes them: two sinks writing the same keys then queue on the
    // version rows instead of deadlocking across the two tables.
    const won = `INSERT INTO ${versionsTable} (key_text, version, deleted)
        SELECT s.${k}, s.${v}, s.${d} FROM ${stageRef} s`;
    const up = `INSERT INTO ${target} (${cols.join(', ')})
        SELECT ${cols.map((c) => `s.${c}`).join(', ')} FROM ${stageRef} s WHERE NOT s.${d}`;
    // A new key's delete still finds a row that predates sluice (its version row is what is new).
    const del = `DELETE FROM ${target} AS t USING ${stageRef} s WHERE s.${d} AND ${keyCols.map((c) => `t.${c} = s.${c}`).join(' AND ')}`;
    const wrap = (...sts: string[]) => ['SAVEPOINT sluice_new_keys', ...sts, 'RELEASE SAVEPOINT sluice_new_keys'].join(';\n');
    return { both: wrap(won, up, del), upserts: wrap(won, up), deletes: wrap(won, del) };
  };

  // json_populate_record converts each text with the column's own input function and typmod,
  // exactly as COPY into the stage (which has the target's column types) does.
  const inlineStage = `stage AS MATERIALIZED (
        SELECT (e.j->>'k') COLLATE "C" AS ${k}, (e.j->>'v')::bigint AS ${v}, (e.j->>'d')::boolean AS ${d}, ${cols.map((c) => `r.${c}`).join(', ')}
        FROM json_array_elements($1::json) AS e(j), LATERAL json_populate_record(NULL::${target}, e.j->'r') AS r), `;
  const sql: PgTableSql = {
    stage,
    createStage: `CREATE TEMP TABLE IF NOT EXISTS ${quotePg(stage)} ON COMMIT DELETE ROWS AS
      SELECT ''::text COLLATE "C" AS ${k}, 0::bigint AS ${v}, false AS ${d}, ${cols.map((c) => `t.${c}`).join(', ')}
      FROM ${target} t WITH NO DATA`,
    truncateStage: `TRUNCATE ${stageRef}`,
    stageColumns: `${stageRef} (${[k, v, d, ...cols].join(', ')})`,
    apply: statements(stageRef, ''),
    newKeys: newKeys(),
    copyVersions: `COPY ${versionsTable} (key_text, version, deleted) FROM STDIN`,
    copyTarget: `COPY ${target} (${cols.join(', ')}) FROM STDIN`,
    ...(b.columns.some((c) => c.type.kind === 'json') ? {} : { inline: statements('stage', inlineStage) }),
  };
  tableSqlCache.set(b, sql);
  return sql;
}

// --- COPY text ------------------------------------------------------------------------------------

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIAL_G = /[\\\n\r\t]/g;
const COPY_ESC: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function copyEscape(s: string): string {
  return COPY_SPECIAL.test(s) ? s.replace(COPY_SPECIAL_G, (c) => COPY_ESC[c]!) : s;
}

interface RowEncoder {
  readonly names: readonly string[];
  readonly encoders: readonly PgTextEncoder[];
  /** Whether a column's text can hold COPY's special characters (strings, JSON, bytea's \x). */
  readonly escape: readonly boolean[];
  readonly isKey: readonly boolean[];
  /** `"name":` per column, for the inline JSON rows. */
  readonly jsonKeys: readonly string[];
}

const rowEncoders = new WeakMap<TableBinding, RowEncoder>();

function rowEncoder(b: TableBinding): RowEncoder {
  let e = rowEncoders.get(b);
  if (!e) {
    e = {
      names: b.columns.map((c) => c.name),
      encoders: b.columns.map((c) => pgTextEncoder(c.type)),
      escape: b.columns.map((c) => c.type.kind === 'string' || c.type.kind === 'json' || c.type.kind === 'bytes'),
      isKey: b.columns.map((c) => b.keyColumns.includes(c)),
      jsonKeys: b.columns.map((c) => `${JSON.stringify(c.name)}:`),
    };
    rowEncoders.set(b, e);
  }
  return e;
}

/**
 * The change's row as one line of COPY text, its columns only (sets change.encoded); throws
 * ValueError. The version fields go in front where the line goes to the stage (copyChunks), and
 * to a line of their own where it goes straight into the tables (versionChunks).
 */
export function encodeCopyLine(change: Change): void {
  const e = rowEncoder(change.binding);
  // Joined, not concatenated: one flat string, where += leaves a rope that every later reader
  // (the chunk join) has to flatten first.
  const parts: string[] = new Array<string>(e.names.length);
  for (let i = 0; i < e.names.length; i++) {
    const text = columnText(change, e, i);
    parts[i] = text === null ? '\\N' : e.escape[i] ? copyEscape(text) : text;
  }
  parts[parts.length - 1] += '\n';
  change.encoded = parts.join('\t');
}

/** The change's version fields as COPY text: key text, version, deleted. */
function versionFields(change: Change): string {
  return `${copyEscape(change.keyText)}\t${change.version}\t${change.deleted ? 't' : 'f'}`;
}

/**
 * Column i of the change as PostgreSQL text (null: NULL; a delete carries its key columns only),
 * the same text for every way a batch is loaded; a value that does not fit names its column.
 */
function columnText(change: Change, e: RowEncoder, i: number): string | null {
  const row = change.deleted ? change.event.key : change.event.after!;
  const v = change.deleted && !e.isKey[i] ? null : row[e.names[i]!];
  if (v === null || v === undefined) return null;
  try {
    return e.encoders[i]!(v);
  } catch (err) {
    if (err instanceof ValueError) throw new ValueError(`column "${e.names[i]}": ${err.message}`);
    throw err;
  }
}

/** A change encoded for PgTableSql.inline: one element of the JSON array bound as $1. */
export interface InlineRow {
  readonly inline: string;
}

/**
 * The change as `{"k": key text, "v": "version", "d": deleted, "r": {column: text | null}}`
 * (sets change.encoded); each text is what COPY would carry, converted by json_populate_record.
 */
export function encodeInlineRow(change: Change): void {
  const e = rowEncoder(change.binding);
  const parts = new Array<string>(e.names.length);
  for (let i = 0; i < e.names.length; i++) {
    const text = columnText(change, e, i);
    // The text of a number, date, time, boolean or uuid holds no character JSON would escape, so
    // only strings, JSON and bytes pay for JSON.stringify (test/apply/inline-row.test.ts).
    parts[i] = e.jsonKeys[i] + (text === null ? 'null' : e.escape[i] ? JSON.stringify(text) : `"${text}"`);
  }
  change.encoded = {
    inline: `{"k":${JSON.stringify(change.keyText)},"v":"${change.version}","d":${change.deleted},"r":{${parts.join(',')}}}`,
  } satisfies InlineRow;
}

export function isInline(change: Change | undefined): boolean {
  return typeof change?.encoded === 'object' && change.encoded !== null && 'inline' in change.encoded;
}

/**
 * COPY text in chunks of about CHUNK bytes, made as the stream pulls them: the database parses one
 * chunk while the next is joined, where a whole slice joined first would leave it waiting.
 */
const CHUNK = 1 << 16;

/** `line` pushes one change's text onto `parts` and returns its length. */
function* chunked(changes: readonly Change[], line: (c: Change, parts: string[]) => number): Generator<string> {
  let parts: string[] = [];
  let size = 0;
  for (const c of changes) {
    size += line(c, parts);
    if (size >= CHUNK) {
      yield parts.join('');
      parts = [];
      size = 0;
    }
  }
  if (parts.length) yield parts.join('');
}

/** The stage's COPY text (PgTableSql.stageColumns): each change's version fields, then its row. */
export function copyChunks(changes: readonly Change[]): Iterable<string> {
  return chunked(changes, (c, parts) => {
    const fields = versionFields(c);
    const row = c.encoded as string;
    parts.push(fields, '\t', row);
    return fields.length + 1 + row.length;
  });
}

/** The COPY text of PgTableSql.copyVersions, for a slice written straight into the tables: its version rows. */
export function versionChunks(changes: readonly Change[]): Iterable<string> {
  return chunked(changes, (c, parts) => {
    const fields = versionFields(c);
    parts.push(fields, '\n');
    return fields.length + 1;
  });
}

/** The COPY text of PgTableSql.copyTarget, for a slice written straight into the tables: its rows. */
export function rowChunks(changes: readonly Change[]): Iterable<string> {
  return chunked(changes, (c, parts) => {
    const row = c.encoded as string;
    parts.push(row);
    return row.length;
  });
}

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

type Q = <T>(sql: string, params?: readonly unknown[]) => Promise<T[]>;

/** The state statements over a query function (a transaction's, or the pool's for reads). */
export function pgStateOps(n: StateNames) {
  return {
    async blockedKeys(tx: DialectTx, keys: ReadonlyMap<string, readonly string[]>) {
      // Almost always there is no dead letter at all, and this parameterless check says so in the
      // round trip of the transaction's BEGIN (postgres.ts PgTx). Only when there is one are the
      // batch's own keys looked up (through the partial index), however many others are blocked.
      const any = await tx.query<{ any: boolean }>(
        `SELECT EXISTS (SELECT FROM ${n.deadLetters} WHERE status IN ('open', 'parked')) AS any`,
      );
      if (!any[0]?.any) return [];
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
    async insertDeadLetters(tx: DialectTx, rows: readonly DeadLetterInsert[]) {
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
    async lockVersions(tx: DialectTx, tableName: string, keyTexts: readonly string[]) {
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
    async setVersions(tx: DialectTx, tableName: string, keyTexts: readonly string[], version: bigint) {
      await tx.query(`UPDATE ${n.versionsOf(tableName)} SET version = $2::bigint WHERE key_text = ANY($1::text[])`, [
        keyTexts,
        version.toString(),
      ]);
    },
    async truncateTable(tx: DialectTx, binding: TableBinding, version: bigint) {
      await tx.query(`UPDATE ${n.versionsOf(binding.targetName)} SET version = GREATEST(version, $1::bigint), deleted = true`, [
        version.toString(),
      ]);
      await tx.query(`DELETE FROM ${qualifiedPg(binding.target as TableRef)}`);
    },
    async writeCheckpoint(tx: DialectTx, name: string, position: string) {
      await tx.query(
        `INSERT INTO ${n.checkpoints} (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
        [name, position],
        true,
      );
    },
    async readCheckpoint(q: Q, name: string) {
      const rows = await q<{ position: string }>(`SELECT position FROM ${n.checkpoints} WHERE name = $1`, [name]);
      return rows[0]?.position;
    },
    async listDeadLetters(q: Q, query: DeadLetterQuery) {
      const rows = await q<DlRaw>(
        `SELECT ${DL_COLUMNS(n)} FROM ${n.deadLetters} d
         WHERE ($1::text IS NULL OR d.status = $1::text) AND ($2::text IS NULL OR d.table_name = $2::text) AND d.id > $3::bigint
         ORDER BY d.id LIMIT $4::int`,
        [query.status ?? null, query.tableName ?? null, String(query.afterId ?? 0), String(query.limit)],
      );
      return rows.map(toRow);
    },
    async getDeadLetter(q: Q, id: number, forUpdate: boolean) {
      const rows = await q<DlRaw>(
        `SELECT ${DL_COLUMNS(n)} FROM ${n.deadLetters} d WHERE d.id = $1::bigint${forUpdate ? ' FOR UPDATE OF d' : ''}`,
        [String(id)],
      );
      return rows[0] ? toRow(rows[0]) : undefined;
    },
    async parkedBehind(tx: DialectTx, tableName: string, keyText: string) {
      const rows = await tx.query<DlRaw>(
        `SELECT ${DL_COLUMNS(n)} FROM ${n.deadLetters} d WHERE d.table_name = $1 AND d.key_text = $2 AND d.status = 'parked' ORDER BY d.id FOR UPDATE OF d`,
        [tableName, keyText],
      );
      return rows.map(toRow);
    },
    async setDeadLetterStatus(tx: DialectTx, id: number, status: DeadLetterStatus, error?: { code: string; message: string }) {
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

/**
 * The SinkDialect members PostgreSQL and PGlite share: applying a staged batch and every state
 * statement. `readQuery` runs reads outside a transaction (the pool, or the PGlite instance).
 */
export function pgSharedParts(n: StateNames, readQuery: Q) {
  const ops = pgStateOps(n);
  return {
    async applyStaged(tx: DialectTx, binding: TableBinding, changes: readonly Change[]) {
      const sql = pgTableSql(binding, n);
      const shape = applyShape(changes);
      // Over a stage: planned on every run, never prepared. Its best plan depends on how many
      // rows the stage holds, a temp table never has statistics, and a generic plan cached for a
      // 20-row batch would be reused for a 5,000-row backlog. Inline (at most SMALL_BATCH rows):
      // prepared, as the planner sees a JSON array's rows as a constant estimate either way, so
      // the generic plan is the custom one, minus the planning (about 0.4 ms of a 20-row batch's
      // 1 ms of database work).
      const rows =
        isInline(changes[0]) && sql.inline
          ? await tx.query<{ applied: number }>(
              sql.inline[shape],
              [`[${changes.map((c) => (c.encoded as InlineRow).inline).join(',')}]`],
              true,
            )
          : await tx.query<{ applied: number }>(sql.apply[shape]);
      return Number(rows[0]?.applied ?? 0);
    },
    blockedKeys: ops.blockedKeys,
    lockVersions: ops.lockVersions,
    setVersions: ops.setVersions,
    truncateTable: ops.truncateTable,
    insertDeadLetters: ops.insertDeadLetters,
    writeCheckpoint: ops.writeCheckpoint,
    readCheckpoint: (name: string) => ops.readCheckpoint(readQuery, name),
    listDeadLetters: (q: DeadLetterQuery) => ops.listDeadLetters(readQuery, q),
    getDeadLetter: (id: number, tx?: DialectTx) => ops.getDeadLetter(tx ? tx.query.bind(tx) : readQuery, id, tx !== undefined),
    parkedBehind: ops.parkedBehind,
    setDeadLetterStatus: ops.setDeadLetterStatus,
    classify: classifyError,
  };
}

export const PG_SAVEPOINT = 'SAVEPOINT sluice_isolate';
export const PG_ROLLBACK_TO = 'ROLLBACK TO SAVEPOINT sluice_isolate';
export const PG_RELEASE = 'RELEASE SAVEPOINT sluice_isolate';

/** The change's values as PostgreSQL text parameters in stage column order (sets change.encoded). */
export function encodeStageParams(change: Change): void {
  const e = rowEncoder(change.binding);
  const out: (string | null)[] = [change.keyText, change.version.toString(), change.deleted ? 't' : 'f'];
  for (let i = 0; i < e.names.length; i++) out.push(columnText(change, e, i));
  change.encoded = out;
}

/** Multi-row `INSERT INTO stage VALUES …` statements (text parameters typed by the stage's columns). */
export function stageInsertStatements(sql: PgTableSql, changes: readonly Change[]): Array<{ text: string; values: (string | null)[] }> {
  const width = (changes[0]?.encoded as unknown[] | undefined)?.length ?? 1;
  const perStatement = Math.max(1, Math.min(1000, Math.floor(60000 / width)));
  const out: Array<{ text: string; values: (string | null)[] }> = [];
  for (let i = 0; i < changes.length; i += perStatement) {
    const chunk = changes.slice(i, i + perStatement);
    const values: (string | null)[] = [];
    const tuples = chunk.map((c) => {
      const base = values.length;
      const enc = c.encoded as (string | null)[];
      values.push(...enc);
      return `(${enc.map((_, j) => `$${base + j + 1}`).join(',')})`;
    });
    out.push({ text: `INSERT INTO ${sql.stageColumns} VALUES ${tuples.join(',')}`, values });
  }
  return out;
}
