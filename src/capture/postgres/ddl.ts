/**
 * DDL in the log (opt-in, `source.ddlMessages`). pgoutput sends no DDL; a table's new shape shows
 * only in the Relation message before its next change, where a rename looks like a drop plus an
 * add. An event trigger on `ddl_command_end`, installed once by a superuser (`sluice slot ddl
 * install`), writes each DDL command into the WAL with `pg_logical_emit_message` (transactional:
 * it is decoded in its transaction, at its exact position, and vanishes with a rollback); the
 * source reads those messages (`messages 'true'`, PostgreSQL 14+) and hands the ones about its
 * tables to the pipeline, which records them in the schema history.
 */
import type pg from 'pg';
import type { TableSchema } from '../../core/table-schema.js';
import type { Problem } from './setup.js';

export const DDL_PREFIX = 'sluice.ddl';
const FUNCTION = 'sluice_ddl_to_log';
const TRIGGER = 'sluice_ddl_to_log';

/** One DDL command as the trigger wrote it. */
export interface DdlMessage {
  readonly tag: string;
  readonly objectType: string;
  readonly identity: string;
  readonly statement: string;
}

export const installDdlTriggerSql = [
  `CREATE OR REPLACE FUNCTION public.${FUNCTION}() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE object_type IN ('table', 'table column') LOOP
    PERFORM pg_logical_emit_message(true, '${DDL_PREFIX}', json_build_object(
      'tag', r.command_tag, 'objectType', r.object_type, 'identity', r.object_identity, 'statement', current_query())::text);
  END LOOP;
END $$`,
  `DROP EVENT TRIGGER IF EXISTS ${TRIGGER}`,
  `CREATE EVENT TRIGGER ${TRIGGER} ON ddl_command_end EXECUTE FUNCTION public.${FUNCTION}()`,
];

export const removeDdlTriggerSql = [`DROP EVENT TRIGGER IF EXISTS ${TRIGGER}`, `DROP FUNCTION IF EXISTS public.${FUNCTION}()`];

export async function ddlTriggerInstalled(pool: pg.Pool): Promise<boolean> {
  const r = await pool.query(`SELECT evtenabled <> 'D' AS on FROM pg_event_trigger WHERE evtname = $1`, [TRIGGER]);
  return r.rows[0]?.on === true;
}

export function parseDdlMessage(content: Buffer): DdlMessage | undefined {
  try {
    const m = JSON.parse(content.toString('utf8')) as Partial<DdlMessage>;
    return typeof m.tag === 'string' && typeof m.identity === 'string' && typeof m.statement === 'string'
      ? { tag: m.tag, objectType: String(m.objectType), identity: m.identity, statement: m.statement }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The replicated table a command is about (its identity is `schema.table`, or `schema.table.column` for a column), if any. */
export function ddlTable(m: DdlMessage, tables: Iterable<TableSchema>): TableSchema | undefined {
  for (const t of tables) {
    // object_identity quotes a part only where quote_ident would (upper case, keywords): try both.
    const schemas = forms(t.schema ?? 'public');
    const names = schemas.flatMap((s) => forms(t.name).map((n) => `${s}.${n}`));
    if (names.some((n) => m.identity === n || (m.objectType === 'table column' && m.identity.startsWith(`${n}.`)))) return t;
  }
  return undefined;
}

function forms(name: string): string[] {
  return [name, `"${name.replace(/"/g, '""')}"`];
}

/** What `source.ddlMessages: true` needs that the server lacks. */
export async function ddlProblems(pool: pg.Pool, enabled: boolean): Promise<Problem[]> {
  if (!enabled || (await ddlTriggerInstalled(pool))) return [];
  return [
    {
      configPath: 'source.ddlMessages',
      message: `source.ddlMessages is true but the event trigger ${TRIGGER} that writes DDL into the log is not installed in this database`,
      fix: 'as a superuser, once: sluice slot ddl install -c <config> (or set source.ddlMessages: false)',
    },
  ];
}
