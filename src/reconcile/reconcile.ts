/**
 * One reconcile run over a set of tables: diff (diff.ts) → re-check (recheck.ts) → repair through
 * the apply sink (optional) → report. A table that fails is reported with its error and the run
 * goes on; the caller stores the report and sends alerts.
 */
import type { TableRef } from '../core/change-event.js';
import { qualifiedName, type Row, type TableSchema } from '../core/table-schema.js';
import { keyTexter, type SqlSink } from '../apply/index.js';
import { readRows } from '../metadata/index.js';
import type { DbConnection } from '../metadata/types.js';
import { DIFF_DEFAULTS, diffTable, type DiffOptions, type ReplicationProbe } from './diff.js';
import { keyRow, type KeyTexts } from './keys.js';
import { estimateRows } from './queries.js';
import { recheck, type RecheckOptions } from './recheck.js';
import type { DriftKind, ReconcileReport, ReconcileStats, RepairOutcome, TableReport } from './report.js';
import { checkCanonicalSupport, openSide, type Side } from './side.js';

export interface ReconcileTable {
  /** The source table as introspected (its columns are the ones compared). */
  readonly source: TableSchema;
  /** The target table as introspected. */
  readonly target: TableSchema;
}

export interface RepairOptions {
  /** The pipeline's sink for the target: repairs go through its version guard. */
  readonly sink: SqlSink;
  /** Above this share of the source's rows drifted, repair is refused (re-snapshot instead). */
  readonly maxShare: number;
  /** Where maxShare is set, named in the refusal (default the config key reconcile.maxRepairShare). */
  readonly maxShareSetting?: string;
  readonly rowsPerSecond: number;
  readonly batch: number;
}

export interface ReconcileProgressState {
  table: string;
  phase: 'checksum' | 'compare' | 'recheck' | 'repair';
  rangesDone: number;
  rowsDone: number;
  rowsEstimate?: number;
}

export interface ReconcileOptions {
  readonly name: string;
  readonly source: DbConnection;
  readonly target: DbConnection;
  readonly tables: readonly ReconcileTable[];
  readonly probe?: ReplicationProbe;
  readonly repair?: RepairOptions;
  readonly diff?: Partial<DiffOptions>;
  readonly recheck?: Partial<RecheckOptions>;
  /** Keys listed per table and kind in the report. */
  readonly keyLimit?: number;
  readonly onProgress?: (p: ReconcileProgressState) => void;
  /** Stops the run between queries; the table in progress fails with the abort's reason. */
  readonly signal?: AbortSignal;
}

const DEFAULT_KEY_LIMIT = 20;

export const RECHECK_DEFAULTS: RecheckOptions = { rounds: 5, stable: 2, waitTimeoutMs: 60_000, batch: 500 };

export async function reconcile(o: ReconcileOptions): Promise<ReconcileReport> {
  const started = new Date();
  const stats: ReconcileStats = { queries: 0, bytes: 0, rechecks: 0, waitMs: 0 };
  const tables: TableReport[] = [];
  for (const t of o.tables) {
    o.signal?.throwIfAborted();
    tables.push(await reconcileTable(o, t, stats));
  }
  o.signal?.throwIfAborted();
  const finished = new Date();
  return {
    name: o.name,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    repairRequested: o.repair !== undefined,
    keyLimit: o.keyLimit ?? DEFAULT_KEY_LIMIT,
    tables,
    stats,
  };
}

async function reconcileTable(o: ReconcileOptions, t: ReconcileTable, stats: ReconcileStats): Promise<TableReport> {
  const t0 = performance.now();
  const name = qualifiedName(t.source);
  const base = { table: name, target: qualifiedName(t.target) };
  const cols = t.source.columns.map((c) => c.name);
  let source: Side | undefined;
  let target: Side | undefined;
  try {
    // Both sides read every value as the source's type (the one the pipeline carries), so their
    // canonical texts agree whatever target column types apply wrote into.
    const logical = t.source.columns;
    source = openSide({
      role: 'source',
      conn: o.source,
      table: t.source,
      columns: cols,
      keyColumns: t.source.primaryKey,
      logical,
      stats,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    target = openSide({
      role: 'target',
      conn: o.target,
      table: t.target,
      columns: cols,
      keyColumns: t.source.primaryKey,
      logical,
      stats,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    await checkCanonicalSupport(source);
    await checkCanonicalSupport(target);
    const diffOpts: DiffOptions = { ...DIFF_DEFAULTS, ...o.diff };
    const progress: ReconcileProgressState = { table: name, phase: 'checksum', rangesDone: 0, rowsDone: 0 };
    const estimate = await estimateRows(source);
    if (estimate !== undefined) progress.rowsEstimate = estimate;
    o.onProgress?.(progress);
    const diff = await diffTable(source, target, o.probe, diffOpts, (p) => {
      progress.phase = p.phase;
      progress.rangesDone = p.ranges;
      progress.rowsDone = p.sourceRows;
      o.onProgress?.(progress);
    });
    stats.waitMs += diff.waitMs;

    progress.phase = 'recheck';
    o.onProgress?.(progress);
    const rc = await recheck(source, target, o.probe, diff.candidates, { ...RECHECK_DEFAULTS, ...o.recheck });
    stats.rechecks += rc.rounds;
    stats.waitMs += rc.waitMs;

    const texter = keyTexter(t.source);
    const label = (k: KeyTexts) => texter(keyRow(source!.keyColumns, k));
    const limit = o.keyLimit ?? DEFAULT_KEY_LIMIT;
    const byKind: Record<DriftKind, KeyTexts[]> = { missing: [], extra: [], different: [] };
    for (const c of rc.confirmed) byKind[c.kind].push(c.key);
    const counts = {
      missing: byKind.missing.length + diff.overflowCounts.missing,
      extra: byKind.extra.length + diff.overflowCounts.extra,
      different: byKind.different.length + diff.overflowCounts.different,
    };
    const drifted = counts.missing + counts.extra + counts.different;

    let repair: RepairOutcome = { status: 'not-requested' };
    if (o.repair) {
      progress.phase = 'repair';
      o.onProgress?.(progress);
      const share = drifted / Math.max(1, diff.sourceRows);
      if (drifted === 0) repair = { status: 'nothing-to-do' };
      else if (diff.overflow)
        repair = { status: 'refused', reason: `more than ${diffOpts.maxCandidates} rows differ: re-snapshot the table instead` };
      else if (share > o.repair.maxShare) {
        repair = {
          status: 'refused',
          reason: `${drifted} rows (${pct(share)}) drifted, above ${o.repair.maxShareSetting ?? 'reconcile.maxRepairShare'} (${pct(o.repair.maxShare)}): re-snapshot the table instead`,
        };
      } else repair = await repairRows(o.repair, o.source, t.source, source.keyColumns, rc.confirmed);
    }

    const keys = {
      missing: byKind.missing.slice(0, limit).map(label),
      extra: byKind.extra.slice(0, limit).map(label),
      different: byKind.different.slice(0, limit).map(label),
      inFlight: rc.inFlight.slice(0, limit).map(label),
    };
    return {
      ...base,
      sourceRows: diff.sourceRows,
      targetRows: diff.targetRows,
      ranges: diff.ranges,
      rangesDiffering: diff.rangesDiffering,
      rowsCompared: diff.rowsCompared,
      ...counts,
      inFlight: rc.inFlight.length,
      keys,
      keysLeftOut: {
        missing: counts.missing - keys.missing.length,
        extra: counts.extra - keys.extra.length,
        different: counts.different - keys.different.length,
        inFlight: rc.inFlight.length - keys.inFlight.length,
      },
      repair,
      durationMs: Math.round(performance.now() - t0),
    };
  } catch (err) {
    return {
      ...base,
      sourceRows: 0,
      targetRows: 0,
      ranges: 0,
      rangesDiffering: 0,
      rowsCompared: 0,
      missing: 0,
      extra: 0,
      different: 0,
      inFlight: 0,
      keys: { missing: [], extra: [], different: [], inFlight: [] },
      keysLeftOut: { missing: 0, extra: 0, different: 0, inFlight: 0 },
      repair: { status: 'not-requested' },
      error: (err as Error).message,
      durationMs: Math.round(performance.now() - t0),
    };
  } finally {
    await source?.close();
    await target?.close();
  }
}

async function repairRows(
  r: RepairOptions,
  sourceConn: DbConnection,
  table: TableSchema,
  keyCols: Side['keyColumns'],
  confirmed: ReadonlyArray<{ key: KeyTexts; kind: DriftKind }>,
): Promise<RepairOutcome> {
  const out = { inserted: 0, updated: 0, deleted: 0, skipped: 0 };
  const ref: TableRef = { ...(table.schema ? { schema: table.schema } : {}), name: table.name };
  const texter = keyTexter(table);
  const kindOf = new Map<string, DriftKind>();
  const keys: Row[] = confirmed.map((c) => {
    const row = keyRow(keyCols, c.key);
    kindOf.set(texter(row), c.kind);
    return row;
  });
  const started = performance.now();
  let done = 0;
  for (let i = 0; i < keys.length; i += r.batch) {
    const batch = keys.slice(i, i + r.batch);
    const res = await r.sink.repair(ref, batch, (k) => readRows(sourceConn, table, k));
    for (const k of res.upserted) {
      if (kindOf.get(k) === 'missing') out.inserted++;
      else out.updated++;
    }
    out.deleted += res.deleted.length;
    done += batch.length;
    // Rate cap: never faster than rowsPerSecond on average since the repair began.
    const ahead = (done / r.rowsPerSecond) * 1000 - (performance.now() - started);
    if (ahead > 0 && i + r.batch < keys.length) await new Promise((res2) => setTimeout(res2, ahead));
  }
  return { status: 'done', ...out };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`;
}
