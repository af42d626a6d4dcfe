/**
 * Prometheus metrics of a running pipeline (GET /metrics on the observe server, and on the capture API's when it runs), read from
 * what the pipeline already keeps (PipelineStats, the relay's backlog, the consumer's positions)
 * at scrape time: nothing is counted twice and nothing runs between scrapes.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Histogram, PipelineTracker } from './tracker.js';

/** What the pipeline keeps about itself and the metrics read at scrape time. */
export interface StatsView {
  readonly captured: number;
  readonly published: number;
  readonly applied: number;
  readonly skipped: number;
  readonly deadLettered: number;
  readonly backlog: number;
  readonly startedAt?: number;
  lagMs(): number;
}

/** A partition the consumer holds: its end offset and how far it is applied. */
export interface PartitionView {
  readonly topic: string;
  readonly partition: number;
  readonly highWatermark: bigint | undefined;
  readonly committable: bigint | undefined;
  readonly committed: bigint | undefined;
}

export interface MetricsSources {
  readonly pipeline: string;
  readonly stats: StatsView;
  /** Partitions the Kafka consumer holds (absent with the direct transport). */
  readonly positions?: () => readonly PartitionView[];
  /** The source's own gauges (log capture: retained WAL, snapshot progress). */
  readonly sourceGauges?: () =>
    { retainedBytes?: number; snapshots: ReadonlyArray<{ table: string; rows: number; estimate: number; done: boolean }> } | undefined;
  /** Per-table counters, honest lag and the apply histograms (absent: totals only). */
  readonly tracker?: PipelineTracker;
}

/** A counter whose value is read from `value()` when scraped (it only ever grows). */
function totalCounter(registry: Registry, name: string, help: string, value: () => number): void {
  new Counter({
    name,
    help,
    labelNames: ['pipeline'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc(value());
    },
  });
}

let processRegistry: Registry | undefined;

/** The process's own metrics (memory, CPU, event loop), registered once per process: prom-client's collectors cannot be removed. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'sluice_' });
  }
  return processRegistry;
}

export interface PipelineMetrics {
  readonly contentType: string;
  /** What the metrics read (the observe server's JSON API reads the same). */
  readonly sources: MetricsSources;
  /** The Prometheus text of the process's and the pipeline's metrics. */
  metrics(): Promise<string>;
}

export function pipelineMetrics(src: MetricsSources): PipelineMetrics {
  const proc = processMetrics();
  const own = pipelineRegistry(src);
  const t = src.tracker;
  const histograms = () =>
    t
      ? [
          histogramText(
            'sluice_end_to_end_latency_seconds',
            'Source commit to target commit of each applied change.',
            t.latency,
            src.pipeline,
          ),
          histogramText('sluice_apply_batch_size', 'Changes per committed apply batch.', t.batchSize, src.pipeline),
          histogramText(
            'sluice_apply_batch_duration_seconds',
            'Duration of each committed apply batch (one target transaction, with its retries inside the sink).',
            t.batchSeconds,
            src.pipeline,
          ),
        ].join('')
      : '';
  return {
    contentType: own.contentType,
    sources: src,
    metrics: async () => `${await proc.metrics()}\n${await own.metrics()}\n${histograms()}`,
  };
}

/**
 * Prometheus text of a weighted histogram (prom-client's takes one observation per call; a batch's
 * events share their apply time, so they are observed together).
 */
function histogramText(name: string, help: string, h: Histogram, pipeline: string): string {
  const p = `pipeline="${escapeLabel(pipeline)}"`;
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
  for (const b of h.cumulative()) lines.push(`${name}_bucket{le="${b.le}",${p}} ${b.count}`);
  lines.push(`${name}_sum{${p}} ${h.sum}`, `${name}_count{${p}} ${h.count}`);
  return `${lines.join('\n')}\n`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function pipelineRegistry(src: MetricsSources): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ pipeline: src.pipeline });
  const s = src.stats;
  if (src.sourceGauges) {
    const g = src.sourceGauges;
    new Gauge({
      name: 'sluice_source_retained_bytes',
      help: 'WAL (or binlog) the source server keeps for this pipeline, behind its confirmed position.',
      registers: [registry],
      collect() {
        const v = g()?.retainedBytes;
        if (v !== undefined) this.set(v);
      },
    });
    new Gauge({
      name: 'sluice_snapshot_rows',
      help: 'Rows of a table copied by its snapshot and durable downstream.',
      labelNames: ['table'],
      registers: [registry],
      collect() {
        this.reset();
        for (const t of g()?.snapshots ?? []) this.set({ table: t.table }, t.rows);
      },
    });
    new Gauge({
      name: 'sluice_snapshot_rows_estimate',
      help: 'Estimated rows of a table being snapshotted (planner statistics).',
      labelNames: ['table'],
      registers: [registry],
      collect() {
        this.reset();
        for (const t of g()?.snapshots ?? []) this.set({ table: t.table }, t.estimate);
      },
    });
    new Gauge({
      name: 'sluice_snapshot_done',
      help: "1 once a table's snapshot has finished.",
      labelNames: ['table'],
      registers: [registry],
      collect() {
        this.reset();
        for (const t of g()?.snapshots ?? []) this.set({ table: t.table }, t.done ? 1 : 0);
      },
    });
  }
  totalCounter(registry, 'sluice_changes_captured_total', 'Changes read from the source.', () => s.captured);
  totalCounter(registry, 'sluice_changes_published_total', 'Changes published to Kafka (acknowledged).', () => s.published);
  totalCounter(registry, 'sluice_changes_applied_total', 'Changes applied to the target.', () => s.applied);
  totalCounter(
    registry,
    'sluice_changes_skipped_total',
    'Changes skipped by the version guard (duplicates, stale versions).',
    () => s.skipped,
  );
  totalCounter(
    registry,
    'sluice_changes_dead_lettered_total',
    'Changes stored in the dead-letter table (failed, or parked behind a failed one).',
    () => s.deadLettered,
  );
  const t = src.tracker;
  new Gauge({
    name: 'sluice_replication_lag_seconds',
    help: t
      ? 'How far the target is behind the source: 0 when nothing waits; while changes wait, now minus the commit time of the newest applied change (or of the oldest waiting one, if later).'
      : 'Source commit to target apply of the newest applied change.',
    registers: [registry],
    collect() {
      this.set((t ? t.lagMs() : s.lagMs()) / 1000);
    },
  });
  if (t) {
    new Counter({
      name: 'sluice_table_changes_total',
      help: 'Changes per source table and stage: captured (read from the source), published (acknowledged by Kafka), applied (through a committed target transaction, including those the version guard skipped).',
      labelNames: ['table', 'stage'],
      registers: [registry],
      collect() {
        this.reset();
        for (const c of t.tables.values()) {
          this.inc({ table: c.table, stage: 'captured' }, c.captured);
          this.inc({ table: c.table, stage: 'published' }, c.published);
          this.inc({ table: c.table, stage: 'applied' }, c.applied);
        }
      },
    });
    new Counter({
      name: 'sluice_table_dead_letters_total',
      help: 'Open dead letters created per source table (changes that failed for a non-transient reason).',
      labelNames: ['table'],
      registers: [registry],
      collect() {
        this.reset();
        for (const c of t.tables.values()) this.inc({ table: c.table }, c.deadLettered);
      },
    });
    new Gauge({
      name: 'sluice_table_replication_lag_seconds',
      help: 'Replication lag per source table (see sluice_replication_lag_seconds).',
      labelNames: ['table'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of t.tableStatus()) this.set({ table: r.table }, r.lagSeconds);
      },
    });
    new Gauge({
      name: 'sluice_table_stage_lag_seconds',
      help: 'Per source table and stage, now minus the source commit time of the oldest change waiting there: published (captured, not yet acknowledged by Kafka), applied (not yet through a committed target transaction); captured is how late the source read the oldest change still waiting (capture time minus commit time). 0 when nothing of the table waits.',
      labelNames: ['table', 'stage'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of t.tableStatus()) {
          const l = r.stageLagSeconds;
          this.set({ table: r.table, stage: 'captured' }, l.captured);
          if (l.published !== null) this.set({ table: r.table, stage: 'published' }, l.published);
          this.set({ table: r.table, stage: 'applied' }, l.applied);
        }
      },
    });
    new Counter({
      name: 'sluice_apply_errors_total',
      help: 'Failed apply attempts by error code (a retriable one is retried; any other ends the pipeline).',
      labelNames: ['code'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [code, n] of t.applyErrors) this.inc({ code }, n);
      },
    });
    new Counter({
      name: 'sluice_apply_retries_total',
      help: 'Apply transactions the target made retry, by cause (deadlock, lock_wait_timeout, connection, other).',
      labelNames: ['cause'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [cause, n] of t.applyRetries) this.inc({ cause }, n);
      },
    });
  }
  new Gauge({
    name: 'sluice_source_backlog',
    help: 'Changes waiting at the source (outbox rows not yet relayed) at the last poll.',
    registers: [registry],
    collect() {
      this.set(s.backlog);
    },
  });
  if (src.positions) {
    const positions = src.positions;
    new Gauge({
      name: 'sluice_consumer_lag',
      help: 'Records of an assigned partition not yet applied (high watermark minus the committable offset).',
      labelNames: ['topic', 'partition'],
      registers: [registry],
      collect() {
        this.reset();
        for (const p of positions()) {
          if (p.highWatermark === undefined) continue;
          const from = p.committable ?? p.committed ?? p.highWatermark;
          this.set({ topic: p.topic, partition: String(p.partition) }, Number(p.highWatermark > from ? p.highWatermark - from : 0n));
        }
      },
    });
  }
  return registry;
}
