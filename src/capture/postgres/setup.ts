/**
 * What log capture needs from the source server, checked before anything is created, each problem
 * with the statement that fixes it; then the publication and the replication slot, created when
 * missing. `sluice check` runs the same checks (problems), `sluice run` refuses to start on any.
 */
import type pg from 'pg';
import { SluiceError } from '../../core/errors.js';
import type { TableSchema } from '../../core/table-schema.js';
import { qualifiedName } from '../../core/table-schema.js';
import { qualifiedPg, quotePg } from '../../metadata/index.js';
import { parseLsn, type Lsn } from './lsn.js';

export interface SetupNames {
  slot: string;
  publication: string;
}

export interface Problem {
  /** The config key the problem is about, when there is one. */
  readonly configPath?: string;
  readonly message: string;
  /** What to run or change to fix it. */
  readonly fix: string;
}

type Q = Pick<pg.Pool, 'query'>;

async function one<T>(db: Q, sql: string, params: unknown[] = []): Promise<T | undefined> {
  return (await db.query(sql, params)).rows[0] as T | undefined;
}

/** Every unmet prerequisite of log capture for these tables; empty when all is in place. */
export async function prerequisiteProblems(
  db: Q,
  tables: readonly TableSchema[],
  names: SetupNames,
  createPublication: boolean,
): Promise<Problem[]> {
  const problems: Problem[] = [];
  const s = (await one<{
    wal_level: string;
    slots: number;
    senders: number;
    used_slots: number;
    role: string;
    replication: boolean;
    superuser: boolean;
    slot_exists: boolean;
    pub_exists: boolean;
  }>(
    db,
    `
    SELECT current_setting('wal_level') AS wal_level,
           current_setting('max_replication_slots')::int AS slots,
           current_setting('max_wal_senders')::int AS senders,
           (SELECT count(*)::int FROM pg_replication_slots) AS used_slots,
           current_user AS role,
           r.rolreplication AS replication, r.rolsuper AS superuser,
           EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1) AS slot_exists,
           EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $2) AS pub_exists
    FROM pg_roles r WHERE r.rolname = current_user`,
    [names.slot, names.publication],
  ))!;
  if (s.wal_level !== 'logical') {
    problems.push({
      message: `wal_level is ${s.wal_level}; log capture needs logical`,
      fix: 'ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL',
    });
  }
  if (!s.slot_exists && s.used_slots >= s.slots) {
    problems.push({
      message: `all ${s.slots} replication slots are in use (max_replication_slots)`,
      fix: `ALTER SYSTEM SET max_replication_slots = ${s.slots + 4}; then restart PostgreSQL (or drop an unused slot)`,
    });
  }
  if (s.senders < 1) {
    problems.push({ message: 'max_wal_senders is 0', fix: 'ALTER SYSTEM SET max_wal_senders = 10; then restart PostgreSQL' });
  }
  if (!s.replication && !s.superuser) {
    problems.push({
      configPath: 'source.connection.url',
      message: `role ${s.role} lacks the REPLICATION attribute`,
      fix: `ALTER ROLE ${quotePg(s.role)} WITH REPLICATION;`,
    });
  }
  for (const [i, t] of tables.entries()) {
    const name = qualifiedPg(t);
    const p = await one<{ sel: boolean }>(db, `SELECT has_table_privilege($1, 'SELECT') AS sel`, [name]);
    if (!p?.sel)
      problems.push({
        configPath: `source.tables[${i}]`,
        message: `role ${s.role} may not SELECT from ${qualifiedName(t)}`,
        fix: `GRANT SELECT ON ${name} TO ${quotePg(s.role)};`,
      });
  }
  const missing = s.pub_exists ? await tablesMissingFromPublication(db, tables, names.publication) : [...tables];
  if (missing.length > 0) {
    const list = missing.map((t) => qualifiedPg(t)).join(', ');
    const statement = s.pub_exists
      ? `ALTER PUBLICATION ${quotePg(names.publication)} ADD TABLE ${list};`
      : `CREATE PUBLICATION ${quotePg(names.publication)} FOR TABLE ${list} WITH (publish_via_partition_root = true);`;
    if (!createPublication) {
      problems.push({
        configPath: 'source.publication',
        message: s.pub_exists
          ? `publication ${names.publication} does not include ${missing.map(qualifiedName).join(', ')}`
          : `publication ${names.publication} does not exist (source.createPublication is false)`,
        fix: `${statement} (as the tables' owner)`,
      });
    } else {
      const owner = await notOwned(db, missing);
      if (owner.length > 0) {
        problems.push({
          configPath: 'source.publication',
          message: `creating publication ${names.publication} needs ownership of ${owner.map(qualifiedName).join(', ')}`,
          fix: `run as the tables' owner: ${statement} then set source.createPublication: false, or grant this role ownership`,
        });
      }
    }
  }
  return problems;
}

async function tablesMissingFromPublication(db: Q, tables: readonly TableSchema[], publication: string): Promise<TableSchema[]> {
  const rows = (await db.query(`SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1`, [publication])).rows as Array<{
    schemaname: string;
    tablename: string;
  }>;
  const have = new Set(rows.map((r) => `${r.schemaname}.${r.tablename}`));
  return tables.filter((t) => !have.has(`${t.schema ?? 'public'}.${t.name}`));
}

async function notOwned(db: Q, tables: readonly TableSchema[]): Promise<TableSchema[]> {
  const out: TableSchema[] = [];
  for (const t of tables) {
    const r = await one<{ own: boolean }>(db, `SELECT pg_has_role(c.relowner, 'USAGE') AS own FROM pg_class c WHERE c.oid = $1::regclass`, [
      qualifiedPg(t),
    ]);
    if (!r?.own) out.push(t);
  }
  return out;
}

export function failOnProblems(problems: readonly Problem[]): void {
  if (problems.length === 0) return;
  const text = problems.map((p) => `  - ${p.configPath ? `${p.configPath}: ` : ''}${p.message}. Fix: ${p.fix}`).join('\n');
  throw new SluiceError('SLUICE_ERR_SOURCE', `The source database is not ready for log capture:\n${text}`, {
    context: { configPath: problems[0]!.configPath ?? 'source.connection' },
  });
}

/** Creates the publication or adds the configured tables missing from it (prerequisites checked first). */
export async function ensurePublication(db: Q, tables: readonly TableSchema[], publication: string): Promise<void> {
  const exists = await one(db, `SELECT 1 FROM pg_publication WHERE pubname = $1`, [publication]);
  const missing = exists ? await tablesMissingFromPublication(db, tables, publication) : [...tables];
  if (missing.length === 0) return;
  const list = missing.map((t) => qualifiedPg(t)).join(', ');
  // Partitions publish as their root table, which is what the config names.
  await db.query(
    exists
      ? `ALTER PUBLICATION ${quotePg(publication)} ADD TABLE ${list}`
      : `CREATE PUBLICATION ${quotePg(publication)} FOR TABLE ${list} WITH (publish_via_partition_root = true)`,
  );
}

export interface SlotState {
  /** True when this call created the slot. */
  created: boolean;
  /** The slot's confirmed position: where streaming resumes. */
  confirmedLsn: Lsn;
}

/** Creates the logical slot (pgoutput) when missing; returns where it stands. */
export async function ensureSlot(db: Q, slot: string): Promise<SlotState> {
  const have = await one<{ plugin: string; lsn: string | null; database: string; current: string }>(
    db,
    `SELECT plugin, confirmed_flush_lsn::text AS lsn, database, current_database() AS current FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  if (have) {
    if (have.plugin !== 'pgoutput' || have.database !== have.current) {
      throw new SluiceError(
        'SLUICE_ERR_SOURCE',
        `source.slot: replication slot ${slot} exists but belongs to ${have.plugin} on database ${have.database}; choose another source.slot or drop it with sluice slot drop`,
        { context: { configPath: 'source.slot' } },
      );
    }
    return { created: false, confirmedLsn: parseLsn(have.lsn ?? '0/0') };
  }
  const made = await one<{ lsn: string }>(db, `SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
  return { created: true, confirmedLsn: parseLsn(made!.lsn) };
}

/** Drops the slot and the publication (`sluice slot drop`): WAL is no longer kept for this pipeline. */
export async function dropSlotAndPublication(db: Q, names: SetupNames): Promise<{ slot: boolean; publication: boolean }> {
  const slot = await one(db, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [names.slot]);
  const pub = await one(db, `SELECT 1 FROM pg_publication WHERE pubname = $1`, [names.publication]);
  if (pub) await db.query(`DROP PUBLICATION ${quotePg(names.publication)}`);
  return { slot: slot !== undefined, publication: pub !== undefined };
}

/** WAL the server keeps for the slot (bytes between its restart position and the current end of WAL). */
export async function retainedWalBytes(db: Q, slot: string): Promise<number | undefined> {
  const r = await one<{ bytes: string | null }>(
    db,
    `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::text AS bytes FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  return r?.bytes == null ? undefined : Number(r.bytes);
}

/** The default slot name for a pipeline: PostgreSQL allows lower-case letters, digits and _ only. */
export function defaultSlotName(pipeline: string): string {
  return `sluice_${pipeline.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
}
