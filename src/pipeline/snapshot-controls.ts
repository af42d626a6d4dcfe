/**
 * The dashboard's snapshots: the initial snapshot of each table and the incremental re-reads
 * requested since, all read from the state store (so `sluice dashboard` shows the same as the
 * running pipeline's own server), with the source's row estimate for the progress bars. Requests
 * and their pause, resume and cancel go through SnapshotRequests, as `sluice snapshot` does.
 */
import type pg from 'pg';
import type { SluiceConfig } from '../config/schema.js';
import { qualifiedName, type TableSchema } from '../core/table-schema.js';
import type { SqlStore } from '../state/index.js';
import { ProgressStore } from '../capture/snapshot/progress.js';
import { SnapshotRequests, type SnapshotRequestView } from '../capture/snapshot/requests.js';
import { SnapshotStateError, type Controls, type SnapshotItem } from '../observe/controls.js';
import type { OpenConnection } from './connections.js';
import { tableRef } from './endpoints.js';

/** The item the PostgreSQL source keeps its initial snapshot's progress under (capture/postgres/source.ts). */
const INITIAL = 'snapshot:';

const named = (name: string) => {
  const ref = tableRef(name);
  return `${ref.schema ?? 'public'}.${ref.name}`;
};

export function snapshotControls(
  cfg: SluiceConfig,
  tables: readonly TableSchema[],
  source: OpenConnection | undefined,
  state: () => Promise<SqlStore>,
): Controls['snapshots'] {
  if (cfg.source.connector !== 'postgres') return undefined;
  const configured = cfg.source.tables.map((t) => named(typeof t === 'string' ? t : t.name));
  const byName = new Map(tables.map((t) => [named(qualifiedName(t)), t]));
  let store: Promise<ProgressStore> | undefined;
  const progress = () => (store ??= state().then((s) => new ProgressStore(s, cfg.name)));
  const requests = async () => new SnapshotRequests(await progress());

  const estimates = async (names: readonly string[]): Promise<Map<string, number>> => {
    const pool = source?.dialect === 'postgres' ? (source.connection as pg.Pool) : undefined;
    const regs = names.map((n) => byName.get(n)).filter((t): t is TableSchema => t !== undefined);
    if (!pool || regs.length === 0) return new Map();
    // reltuples is -1 on a table never analyzed: no estimate rather than a bar that claims 0 rows.
    const r = await pool.query<{ name: string; n: string }>(
      `SELECT t.name, c.reltuples::bigint::text AS n
         FROM unnest($1::text[], $2::text[]) AS t(name, reg) JOIN pg_class c ON c.oid = to_regclass(t.reg)
        WHERE c.reltuples >= 0`,
      [
        regs.map((t) => named(qualifiedName(t))),
        regs.map((t) => `"${(t.schema ?? 'public').replace(/"/g, '""')}"."${t.name.replace(/"/g, '""')}"`),
      ],
    );
    return new Map(r.rows.map((x) => [x.name, Number(x.n)]));
  };

  const incremental = (v: SnapshotRequestView, estimate: Map<string, number>): SnapshotItem => {
    const e = v.where ? undefined : estimate.get(v.table);
    return {
      table: v.table,
      kind: 'incremental',
      state: v.state,
      rows: v.rows,
      estimate: v.state === 'done' ? v.rows : e === undefined ? null : Math.max(e, v.rows),
      ...(v.where ? { where: v.where } : {}),
    };
  };

  const list = async (): Promise<SnapshotItem[]> => {
    const p = await progress();
    // A table added to a streaming pipeline is marked `where: 'incremental'` with no rows: it had no initial snapshot.
    const initial = (await p.list(INITIAL)).filter((i) => !(i.value.where === 'incremental' && i.value.rows === 0));
    const asked = await (await requests()).list();
    const estimate = await estimates([...initial.map((i) => i.item.slice(INITIAL.length)), ...asked.map((v) => v.table)]);
    return [
      ...initial.map((i): SnapshotItem => {
        const table = i.item.slice(INITIAL.length);
        const e = estimate.get(table);
        return {
          table,
          kind: 'initial',
          state: i.value.done ? 'done' : i.value.rows ? 'running' : 'waiting',
          rows: i.value.rows,
          estimate: i.value.done ? i.value.rows : e === undefined ? null : Math.max(e, i.value.rows),
        };
      }),
      ...asked.map((v) => incremental(v, estimate)),
    ];
  };

  const one = async (table: string, v: SnapshotRequestView): Promise<SnapshotItem> => incremental(v, await estimates([table]));
  const act = (action: 'pause' | 'resume' | 'cancel') => async (table: string) => {
    const r = await requests();
    try {
      await r[action](table);
    } catch (err) {
      throw new SnapshotStateError((err as Error).message);
    }
    const now = (await r.list()).find((v) => v.table === table)!;
    return one(table, now);
  };

  return {
    tables: configured,
    tableNamed: (name) => {
      const n = named(name);
      return configured.includes(n) ? n : undefined;
    },
    list,
    start: async (table, where) => {
      const r = await requests();
      const before = (await r.list()).find((v) => v.table === table);
      if (before && (before.state === 'waiting' || before.state === 'running' || before.state === 'paused'))
        throw new SnapshotStateError(`an incremental snapshot of ${table} is ${before.state}: cancel it first`);
      await r.request(table, where);
      return one(
        table,
        (await r.list()).find((v) => v.table === table)!,
      );
    },
    pause: act('pause'),
    resume: act('resume'),
    cancel: act('cancel'),
  };
}
