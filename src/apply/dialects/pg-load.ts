/**
 * How the PostgreSQL family loads a table's changes (plan.ts): the guarded statement over a stage
 * or over inline rows, the stage itself, the COPY targets of the new-keys load, and each change's
 * text for them. SQL building and encoding only; execute.ts runs it.
 *
 *   WITH won AS (INSERT INTO sluice_v_<table> … SELECT … FROM stage   -- its version table
 *                ON CONFLICT (key_text) DO UPDATE … WHERE stored.version < new.version
 *                RETURNING key_text),                      -- the version guard, set-based
 *        up  AS (INSERT INTO target … SELECT … FROM stage JOIN won … ON CONFLICT (key) DO UPDATE …),
 *        del AS (DELETE FROM target USING stage JOIN won … WHERE deleted AND key matches)
 *   SELECT count(*) FROM won
 *
 * The stage has the target's own column types, so a bad value fails there with the target's
 * error; inline rows are typed by the same columns (json_populate_record). A key whose stored
 * version is equal or newer is not in `won`, so its row is not touched; a delete keeps its version
 * row (deleted = true): the tombstone that stops an older replayed update from resurrecting the
 * row (docs/guarantees.md: set-based-version-guard, tombstones). Concurrent writers of one key
 * serialise on the version row's lock, and ON CONFLICT re-checks the guard against the committed
 * version.
 */
import { createHash } from 'node:crypto';
import type { TableRef } from '../../core/change-event.js';
import { qualifiedPg, quotePg } from '../../metadata/sql-names.js';
import { pgTextEncoder, type PgTextEncoder } from '../../metadata/pg-text.js';
import { ValueError } from '../../core/portable-values.js';
import type { ApplyShape } from '../plan.js';
import type { StateNames } from './pg-family.js';
import type { Change, TableBinding } from './types.js';

const META = ['__sluice_key', '__sluice_version', '__sluice_deleted'] as const;

export interface PgTableSql {
  /** Temp table name (unqualified); the hash keeps differently shaped bindings apart on one connection. */
  readonly stage: string;
  /** Created once per connection, empty at every transaction's start (ON COMMIT DELETE ROWS; a rollback empties it too). */
  readonly createStage: string;
  readonly truncateStage: string;
  /** What COPY loads the stage with: `pg_temp.stage (…)`, each line's version fields then its row. */
  readonly stageColumns: string;
  /**
   * The guarded statement over the stage (no parameter). Planned on every run, never prepared:
   * its best plan depends on how many rows the stage holds, a temp table never has statistics,
   * and a generic plan cached for a 100-row batch would be reused for a 20,000-row backlog.
   */
  readonly apply: Readonly<Record<ApplyShape, string>>;
  /**
   * The same statement reading its rows from one JSON parameter ($1, see inlineRow). Prepared: the
   * planner sees a JSON array's rows as a constant estimate either way, so the generic plan is the
   * custom one, minus the planning (about 0.4 ms of a 20-row batch's 1 ms of database work).
   */
  readonly inline: Readonly<Record<ApplyShape, string>>;
  /**
   * The new-keys load: version rows (versionChunks), then rows (rowChunks) COPYed straight into
   * the two tables, in that order as the guarded statement writes them, so two sinks writing the
   * same keys queue on the version rows instead of deadlocking across the two tables.
   */
  readonly versionColumns: string;
  readonly targetColumns: string;
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
    inline: statements('stage', inlineStage),
    versionColumns: `${versionsTable} (key_text, version, deleted)`,
    targetColumns: `${target} (${cols.join(', ')})`,
  };
  tableSqlCache.set(b, sql);
  return sql;
}

// --- encoding -------------------------------------------------------------------------------------

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

/**
 * The change's row as one line of COPY text, its columns only; throws ValueError. The version
 * fields go in front where the line goes to the stage (stageChunks), and to a line of their own
 * where it goes straight into the tables (versionChunks).
 */
export function copyRow(change: Change): string {
  const e = rowEncoder(change.binding);
  // Joined, not concatenated: one flat string, where += leaves a rope that every later reader
  // (the chunk join) has to flatten first.
  const parts: string[] = new Array<string>(e.names.length);
  for (let i = 0; i < e.names.length; i++) {
    const text = columnText(change, e, i);
    parts[i] = text === null ? '\\N' : e.escape[i] ? copyEscape(text) : text;
  }
  parts[parts.length - 1] += '\n';
  return parts.join('\t');
}

/** The change's version fields as COPY text: key text, version, deleted. */
export function versionFields(change: Change): string {
  return `${copyEscape(change.keyText)}\t${change.version}\t${change.deleted ? 't' : 'f'}`;
}

/**
 * The change as `{"k": key text, "v": "version", "d": deleted, "r": {column: text | null}}`, one
 * element of PgTableSql.inline's JSON array; each text is what COPY would carry, converted by
 * json_populate_record. Throws ValueError.
 */
export function inlineRow(change: Change): string {
  const e = rowEncoder(change.binding);
  const parts = new Array<string>(e.names.length);
  for (let i = 0; i < e.names.length; i++) {
    const text = columnText(change, e, i);
    // The text of a number, date, time, boolean or uuid holds no character JSON would escape, so
    // only strings, JSON and bytes pay for JSON.stringify (test/apply/inline-row.test.ts).
    parts[i] = e.jsonKeys[i] + (text === null ? 'null' : e.escape[i] ? JSON.stringify(text) : `"${text}"`);
  }
  return `{"k":${JSON.stringify(change.keyText)},"v":"${change.version}","d":${change.deleted},"r":{${parts.join(',')}}}`;
}

// --- COPY text ------------------------------------------------------------------------------------

/**
 * COPY text is made in chunks of about CHUNK bytes as the stream pulls them: the server parses one
 * chunk while the next is encoded and joined.
 */
const CHUNK = 1 << 16;

/**
 * A change's row line, encoded when first asked for and kept (the new-keys load asks twice, and
 * once more when it falls back to the stage); null when a value does not fit (reported once).
 */
export type RowLines = (i: number) => string | null;

/** `line` pushes the text of change i onto `parts` and returns its length (0: nothing). */
function* chunked(n: number, line: (i: number, parts: string[]) => number): Generator<string> {
  let parts: string[] = [];
  let size = 0;
  for (let i = 0; i < n; i++) {
    size += line(i, parts);
    if (size >= CHUNK) {
      yield parts.join('');
      parts = [];
      size = 0;
    }
  }
  if (parts.length) yield parts.join('');
}

/** PgTableSql.stageColumns' COPY text: each change's version fields, then its row. */
export function stageChunks(changes: readonly Change[], rows: RowLines): Iterable<string> {
  return chunked(changes.length, (i, parts) => {
    const row = rows(i);
    if (row === null) return 0;
    const fields = versionFields(changes[i]!);
    parts.push(fields, '\t', row);
    return fields.length + 1 + row.length;
  });
}

/** PgTableSql.versionColumns' COPY text. Asks for each row, so a change whose row does not fit gets no version row. */
export function versionChunks(changes: readonly Change[], rows: RowLines): Iterable<string> {
  return chunked(changes.length, (i, parts) => {
    if (rows(i) === null) return 0;
    const fields = versionFields(changes[i]!);
    parts.push(fields, '\n');
    return fields.length + 1;
  });
}

/** PgTableSql.targetColumns' COPY text. */
export function rowChunks(changes: readonly Change[], rows: RowLines): Iterable<string> {
  return chunked(changes.length, (i, parts) => {
    const row = rows(i);
    if (row === null) return 0;
    parts.push(row);
    return row.length;
  });
}
