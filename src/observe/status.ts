/**
 * The pipeline's status as one JSON document: what GET /api/status answers, what the dashboard
 * draws its topology from and what `sluice status` prints. Built from what /metrics reads, so the
 * page, the terminal and Prometheus never disagree.
 */
import type { MetricsSources } from './metrics.js';
import type { Controls } from './controls.js';
import type { Readiness } from './server.js';
import type { TableStatus } from './tracker.js';

export type PipelineState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface PartitionStatus {
  readonly topic: string;
  readonly partition: number;
  readonly highWatermark: string | null;
  readonly committed: string | null;
  readonly lag: number | null;
}

export interface TableRow extends TableStatus {
  readonly topic: string | null;
  readonly target: string | null;
}

export interface StatusDocument {
  readonly pipeline: string;
  readonly state: PipelineState;
  readonly transport: 'direct' | 'kafka' | null;
  readonly readiness: Readiness;
  readonly uptimeSeconds: number | null;
  readonly totals: { captured: number; published: number; applied: number; skipped: number; deadLettered: number; backlog: number };
  readonly lagSeconds: number;
  readonly consumerLag: number | null;
  readonly tables: readonly TableRow[];
  readonly partitions: readonly PartitionStatus[];
  readonly latency: { count: number; sum: number; buckets: ReadonlyArray<{ le: string; count: number }> } | null;
  readonly applyErrors: Record<string, number>;
  /** State-changing requests need observe.token; false: it is not configured, so they are refused. */
  readonly tokenConfigured: boolean;
  readonly features: {
    deadLetters: boolean;
    reconcile: boolean;
    registry: boolean;
    snapshots: boolean;
    schemaHistory: boolean;
    messages: boolean;
  };
}

export function pipelineStatus(
  src: MetricsSources,
  o: { state: PipelineState; readiness: Readiness; controls?: Controls; tokenRequired: boolean; tokenConfigured: boolean },
): StatusDocument {
  const s = src.stats;
  const t = src.tracker;
  const edges = new Map((o.controls?.topology ?? []).map((e) => [e.table, e]));
  const tables: TableRow[] = (t?.tableStatus() ?? []).map((r) => ({
    ...r,
    topic: edges.get(r.table)?.topic ?? null,
    target: edges.get(r.table)?.target ?? null,
  }));
  const partitions: PartitionStatus[] = (src.positions?.() ?? []).map((p) => {
    const from = p.committable ?? p.committed ?? p.highWatermark;
    return {
      topic: p.topic,
      partition: p.partition,
      highWatermark: p.highWatermark === undefined ? null : p.highWatermark.toString(),
      committed: (p.committable ?? p.committed)?.toString() ?? null,
      lag: p.highWatermark === undefined || from === undefined ? null : Number(p.highWatermark > from ? p.highWatermark - from : 0n),
    };
  });
  return {
    pipeline: src.pipeline,
    state: o.state,
    transport: o.controls?.transport ?? null,
    readiness: o.readiness,
    uptimeSeconds: s.startedAt === undefined ? null : Math.round((Date.now() - s.startedAt) / 1000),
    totals: {
      captured: s.captured,
      published: s.published,
      applied: s.applied,
      skipped: s.skipped,
      deadLettered: s.deadLettered,
      backlog: s.backlog,
    },
    lagSeconds: (t ? t.lagMs() : s.lagMs()) / 1000,
    consumerLag: src.positions ? partitions.reduce((n, p) => n + (p.lag ?? 0), 0) : null,
    tables,
    partitions,
    latency: t ? { count: t.latency.count, sum: t.latency.sum, buckets: t.latency.cumulative() } : null,
    applyErrors: Object.fromEntries(t?.applyErrors ?? []),
    tokenConfigured: o.tokenConfigured,
    features: featuresOf(o.controls),
  };
}

export function featuresOf(c: Controls | undefined): StatusDocument['features'] {
  return {
    deadLetters: !!c?.deadLetters,
    reconcile: !!c?.reconcile,
    registry: !!c?.registry,
    snapshots: !!c?.snapshots,
    schemaHistory: !!c?.schemaHistory,
    messages: !!c?.messages,
  };
}
