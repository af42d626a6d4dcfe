/**
 * The state store's tables, as an ordered list of migrations applied at open. Each migration runs
 * once (recorded in `sluice_state_migrations`) inside one transaction holding an advisory lock, so
 * several processes opening the same PostgreSQL database at once apply it exactly once; every
 * statement is also written `IF NOT EXISTS` so a half-known database is still safe.
 *
 * Append new migrations (checkpoints, dead letters, reconcile reports) at the end; never edit one
 * that has shipped.
 */
import type { SqlExecutor, SqlStore } from './sql-store.js';

export interface Migration {
  id: string;
  statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: '0001_registry',
    statements: [
      // Schema ids: never reused, so a sequence; IMPORT mode moves it past imported ids.
      `CREATE SEQUENCE IF NOT EXISTS sluice_registry_schema_ids AS integer START WITH 1`,
      // One row per distinct schema: its text (canonical, or normalized when registered with
      // normalize=true) together with its references. content_hash covers type, text and references.
      `CREATE TABLE IF NOT EXISTS sluice_registry_schemas (
        id integer PRIMARY KEY,
        schema_type text NOT NULL,
        schema_text text NOT NULL,
        normalized_text text NOT NULL,
        references_json text NOT NULL,
        content_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT sluice_registry_schemas_content_key UNIQUE (content_hash)
      )`,
      // The references of each schema, for "which schemas reference subject S version V".
      `CREATE TABLE IF NOT EXISTS sluice_registry_schema_references (
        schema_id integer NOT NULL REFERENCES sluice_registry_schemas (id),
        position integer NOT NULL,
        name text NOT NULL,
        subject text NOT NULL,
        version integer NOT NULL,
        PRIMARY KEY (schema_id, position)
      )`,
      `CREATE INDEX IF NOT EXISTS sluice_registry_schema_references_target
        ON sluice_registry_schema_references (subject, version)`,
      // The highest version a subject ever used: versions are never reused, even after a
      // permanent delete.
      `CREATE TABLE IF NOT EXISTS sluice_registry_subjects (
        subject text PRIMARY KEY,
        last_version integer NOT NULL
      )`,
      `CREATE TABLE IF NOT EXISTS sluice_registry_subject_versions (
        subject text NOT NULL REFERENCES sluice_registry_subjects (subject),
        version integer NOT NULL,
        schema_id integer NOT NULL REFERENCES sluice_registry_schemas (id),
        deleted boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (subject, version)
      )`,
      `CREATE INDEX IF NOT EXISTS sluice_registry_subject_versions_schema
        ON sluice_registry_subject_versions (schema_id)`,
      // scope is 'global' or 'subject:<name>'.
      `CREATE TABLE IF NOT EXISTS sluice_registry_config (
        scope text PRIMARY KEY,
        compatibility text NOT NULL
      )`,
      `CREATE TABLE IF NOT EXISTS sluice_registry_mode (
        scope text PRIMARY KEY,
        mode text NOT NULL
      )`,
    ],
  },
  {
    id: '0002_reconcile_reports',
    statements: [
      // One row per reconcile run. The report itself is JSON text (its shape is ReconcileReport,
      // minus id); name, times and drift are columns so history can be listed without parsing it.
      `CREATE TABLE IF NOT EXISTS sluice_reconcile_reports (
        id bigserial PRIMARY KEY,
        name text NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL,
        drift boolean NOT NULL,
        report_json text NOT NULL
      )`,
      // "The latest runs of reconcile <name>", newest first.
      `CREATE INDEX IF NOT EXISTS sluice_reconcile_reports_name_id
        ON sluice_reconcile_reports (name, id)`,
    ],
  },
  {
    id: '0003_source_progress',
    statements: [
      // What a source connector must remember beyond its own log position, per pipeline: e.g. how
      // far each table's initial snapshot got. Written only once the rows it covers are durable.
      `CREATE TABLE IF NOT EXISTS sluice_source_progress (
        pipeline text NOT NULL,
        item text NOT NULL,
        value_json text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (pipeline, item)
      )`,
    ],
  },
  {
    id: '0004_schema_history',
    statements: [
      // Each change of a source table's shape as the pipeline applied it: when, at which source
      // position, the columns added and dropped (JSON text, portable across the store engines).
      `CREATE TABLE IF NOT EXISTS sluice_schema_history (
        id bigserial PRIMARY KEY,
        pipeline text NOT NULL,
        table_name text NOT NULL,
        position text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        change_json text NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS sluice_schema_history_table ON sluice_schema_history (pipeline, table_name, id)`,
    ],
  },
];

/** Any constant: it only has to differ from the registry's per-subject lock keys. */
const MIGRATION_LOCK_KEY = 'sluice_state:migrations';

export async function runMigrations(store: SqlStore, migrations: readonly Migration[] = MIGRATIONS): Promise<string[]> {
  return store.transaction(async (tx: SqlExecutor) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [MIGRATION_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS sluice_state_migrations (
      id text PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Set((await tx.query<{ id: string }>('SELECT id FROM sluice_state_migrations')).map((r) => r.id));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      for (const sql of m.statements) await tx.query(sql);
      await tx.query('INSERT INTO sluice_state_migrations (id) VALUES ($1)', [m.id]);
      applied.push(m.id);
    }
    return applied;
  });
}
