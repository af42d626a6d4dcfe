/**
 * Prometheus metrics of a running pipeline (GET /metrics on the observe server, and on the capture API's when it runs), read from
 * what the pipeline already keeps (PipelineStats, the relay's backlog, the consumer's positions)
 * at scrape time: nothing is counted twice and nothing runs between scrapes.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** What the pipeline keeps about itself and the metrics read at scrape time. */
export interface StatsView {
  readonly captured: number;
  readonly published: number;
  readonly applied: number;
  readonly skipped: number;
  readonly deadLettered: number;
  readonly backlog: number;
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
}

/** A counter whose value is read from `value()` when scraped (it only ever grows). */
function totalCounter(registry: Registry, name: string, help: string, value: () => number): void {
  new Counter({
    name, help, labelNames: ['pipeline'], registers: [registry],
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
  /** The Prometheus text of the process's and the pipeline's metrics. */
  metrics(): Promise<string>;
}

export function pipelineMetrics(src: MetricsSources): PipelineMetrics {
  const proc = processMetrics();
  const own = pipelineRegistry(src);
  return { contentType: own.contentType, metrics: async () => `${await proc.metrics()}\n${await own.metrics()}` };
}

function pipelineRegistry(src: MetricsSources): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ pipeline: src.pipeline });
  const s = src.stats;
  totalCounter(registry, 'sluice_changes_captured_total', 'Changes read from the source.', () => s.captured);
  totalCounter(registry, 'sluice_changes_published_total', 'Changes published to Kafka (acknowledged).', () => s.published);
  totalCounter(registry, 'sluice_changes_applied_total', 'Changes applied to the target.', () => s.applied);
  totalCounter(registry, 'sluice_changes_skipped_total', 'Changes skipped by the version guard (duplicates, stale versions).', () => s.skipped);
  totalCounter(registry, 'sluice_changes_dead_lettered_total', 'Changes stored in the dead-letter table (failed, or parked behind a failed one).', () => s.deadLettered);
  new Gauge({
    name: 'sluice_replication_lag_seconds', help: 'Source commit to target apply of the newest applied change.', registers: [registry],
    collect() { this.set(s.lagMs() / 1000); },
  });
  new Gauge({
    name: 'sluice_source_backlog', help: 'Changes waiting at the source (outbox rows not yet relayed) at the last poll.', registers: [registry],
    collect() { this.set(s.backlog); },
  });
  if (src.positions) {
    const positions = src.positions;
    new Gauge({
      name: 'sluice_consumer_lag', help: 'Records of an assigned partition not yet applied (high watermark minus the committable offset).',
      labelNames: ['topic', 'partition'], registers: [registry],
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
