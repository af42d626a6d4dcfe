/**
 * Reconcile wired from a config: the pipeline's source and target, its sink (repairs go through
 * the version guard), a probe of its replication position, the state store for reports and the
 * alert targets. Used by `sluice reconcile` and by the schedule inside `sluice run`.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SluiceConfig } from '../config/schema.js';
import { SluiceError } from '../core/errors.js';
import { qualifiedName } from '../core/table-schema.js';
import { openStateStore, type SqlStore } from '../state/index.js';
import { reconcile, type ReconcileProgressState, type ReconcileTable } from '../reconcile/reconcile.js';
import type { ReconcileReport } from '../reconcile/report.js';
import { ReportStore } from '../reconcile/report-store.js';
import { sendAlerts } from '../reconcile/alert/index.js';
import { outboxDbOf } from './connections.js';
import { outboxProbe, slotProbe, type ClosableProbe } from './replication-probe.js';
import { setupNames } from '../capture/postgres/connector.js';
import type pg from 'pg';
import type { Endpoints } from './endpoints.js';
import { kafkaConnection } from './kafka-options.js';

export interface ReconcileRunOptions {
  /** Source table names to reconcile (default: reconcile.tables, else every configured table). */
  readonly tables?: readonly string[];
  readonly repair: boolean;
  /** The state store when the caller has it open already (`sluice run`). */
  readonly state?: SqlStore;
  readonly onProgress?: (p: ReconcileProgressState) => void;
  /** Aborts the run between queries (the schedule's stop). */
  readonly signal?: AbortSignal;
}

export async function reconcileFromConfig(cfg: SluiceConfig, log: Logger, ep: Endpoints, o: ReconcileRunOptions): Promise<ReconcileReport> {
  const rc = cfg.reconcile;
  if (!ep.source) {
    throw new SluiceError(
      'SLUICE_ERR_CONFIG',
      'source.connection: reconcile compares the source database with the target, so it needs source.connection',
      { context: { configPath: 'source.connection' } },
    );
  }
  const wanted = o.tables ?? rc.tables;
  const chosen: ReconcileTable[] = [];
  for (const [i, t] of ep.tables.entries()) {
    if (wanted && !wanted.includes(qualifiedName(t)) && !wanted.includes(t.name)) continue;
    const target = ep.sink.targetOf(t);
    if (!target)
      throw new SluiceError('SLUICE_ERR_CONFIG', `source.tables[${i}]: no target table is bound for ${qualifiedName(t)}`, {
        context: { configPath: `source.tables[${i}]` },
      });
    chosen.push({ source: t, target });
  }
  for (const w of wanted ?? []) {
    if (!ep.tables.some((t) => qualifiedName(t) === w || t.name === w)) {
      throw new SluiceError(
        'SLUICE_ERR_CONFIG',
        `reconcile.tables: "${w}" is not one of source.tables (${ep.tables.map(qualifiedName).join(', ')})`,
        { context: { configPath: 'reconcile.tables' } },
      );
    }
  }

  let state = o.state;
  let ownState = false;
  const needState = cfg.source.connector === 'api';
  const openState = async () => {
    if (state) return state;
    state = await openStateFor(cfg);
    ownState = true;
    return state;
  };
  const k = cfg.transport.kind === 'kafka' ? cfg.transport : undefined;
  const kafka = k
    ? {
        kafka: {
          conn: kafkaConnection(k),
          groupId: k.groupId ?? `sluice-${cfg.name}`,
          topics: [...new Set(ep.specs.map((s) => s.topic ?? k.topic))],
        },
      }
    : {};
  const signal = o.signal ? { signal: o.signal } : {};
  const src = cfg.source;
  let probe: ClosableProbe;
  if (src.connector === 'postgres') {
    const pool = ep.source.connection as pg.Pool;
    probe = slotProbe({
      query: async (sql, params) => (await pool.query(sql, params)).rows,
      slot: setupNames(cfg.name, src).slot,
      ...kafka,
      ...signal,
    });
  } else {
    if (!('outboxTable' in src)) {
      throw new SluiceError(
        'SLUICE_ERR_CONFIG',
        `source.connector: reconcile cannot tell where the ${cfg.source.connector} source stands`,
        {
          context: { configPath: 'source.connector' },
        },
      );
    }
    // The capture API's outbox lives in the state store; an application outbox in the source.
    const outbox =
      src.connector === 'outbox'
        ? outboxDbOf(ep.source)
        : await (async () => {
            const s = needState ? await openState() : undefined;
            if (!s) throw new SluiceError('SLUICE_ERR_CONFIG', 'reconcile needs the state store');
            return { dialect: s.dialect, query: (sql: string, params?: unknown[]) => s.query<Record<string, unknown>>(sql, params) };
          })();
    probe = outboxProbe({ outbox, outboxTable: src.outboxTable, ...signal, ...kafka });
  }
  try {
    let report = await reconcile({
      name: cfg.name,
      source: ep.source,
      target: ep.target,
      tables: chosen,
      probe,
      ...(o.repair ? { repair: { sink: ep.sink, maxShare: rc.maxRepairShare, rowsPerSecond: rc.repairRowsPerSecond, batch: 500 } } : {}),
      diff: { rangeMs: rc.rangeMs, waitTimeoutMs: rc.waitTimeoutMs },
      recheck: { rounds: rc.recheckRounds, waitTimeoutMs: rc.waitTimeoutMs },
      keyLimit: rc.keyLimit,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    try {
      const id = await new ReportStore(await openState()).save(report);
      report = { ...report, id };
    } catch (err) {
      // The report is still printed and alerted; only its history entry is lost.
      log.warn({ err: (err as Error).message }, 'reconcile report not stored');
    }
    const alerts = await sendAlerts(
      report,
      { ...(rc.alert.slack ? { slack: rc.alert.slack } : {}), ...(rc.alert.webhook ? { webhook: rc.alert.webhook } : {}) },
      log,
    );
    for (const a of alerts) if (a.ok) log.info({ target: a.target }, 'reconcile alert sent');
    return report;
  } finally {
    await probe.close();
    if (ownState) await state?.close();
  }
}

function openStateFor(cfg: SluiceConfig): Promise<SqlStore> {
  return openStateStore(cfg.state.url ? { url: cfg.state.url } : { dataDir: join(cfg.state.dataDir, 'state') });
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30m" → 1,800,000 (the config schema has checked the shape). */
export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m)
    throw new SluiceError('SLUICE_ERR_CONFIG', `reconcile.every: "${text}" is not a duration such as 30m`, {
      context: { configPath: 'reconcile.every' },
    });
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/**
 * reconcile.every inside `sluice run`: one run at a time, the first after one interval; a failed
 * run is logged and the schedule goes on. stop() aborts a run in progress.
 */
export function scheduleReconcile(cfg: SluiceConfig, log: Logger, ep: Endpoints, state?: SqlStore): { stop(): Promise<void> } {
  const every = durationMs(cfg.reconcile.every!);
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  // Opened once for the schedule's life when the pipeline has none open (an embedded store costs
  // seconds and most of a GB to start; docs/guarantees.md: pglite-one-connection).
  let store: Promise<SqlStore> | undefined;
  const tick = () => {
    if (running || abort.signal.aborted) return;
    running = (async () => {
      const s = state ?? (await (store ??= openStateFor(cfg)));
      return reconcileFromConfig(cfg, log, ep, { repair: cfg.reconcile.repair, signal: abort.signal, state: s });
    })()
      .then((r) =>
        log.info(
          {
            report: r.id,
            tables: r.tables.map((t) => ({
              table: t.table,
              missing: t.missing,
              extra: t.extra,
              different: t.different,
              inFlight: t.inFlight,
              error: t.error,
            })),
          },
          'reconcile finished',
        ),
      )
      .catch((err: unknown) => {
        if (!abort.signal.aborted) log.warn({ err: (err as Error).message }, 'reconcile failed');
      })
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, every);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      abort.abort();
      await running;
      if (store) await (await store.catch(() => undefined))?.close();
    },
  };
}
