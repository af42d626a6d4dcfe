/**
 * What the observe server knows per table, kept by wrapping the pipeline's Source and Sink (the
 * core contracts) instead of reaching into the stages: each batch read from the source is
 * "captured", each batch the source is told to free before apply ran is "published" (the Kafka
 * path acknowledges after the broker did), each batch a sink committed is "applied".
 *
 * Replication lag is kept honest when the source is idle: with nothing waiting anywhere (no
 * outbox backlog, no change captured but not applied, no consumer lag) it is 0; while something
 * waits it is now minus the newest commit time known to be applied, but never more than now minus
 * the commit time of the oldest change that started the wait. A target stalled on a lock therefore
 * shows a lag that grows second by second, and a change after an hour of silence does not show an
 * hour of lag.
 *
 * Per table and stage the tracker also keeps the changes still in flight, in capture order, as
 * runs of one commit time, so each stage's lag is read from the source commit time of the oldest
 * change waiting there: `published` (captured, not yet acknowledged by Kafka), `applied` (not yet
 * through a committed target transaction; with Kafka, among those already published), and
 * `captured`, how late the source read the oldest change still waiting downstream (its capture time
 * minus its commit time). Every stage is 0 when nothing of the table waits, so an idle source shows
 * 0 everywhere. Changes are matched to stages by count: a Kafka consumer applies partitions side by
 * side, so "oldest" means oldest in capture order.
 */
import { channel, type Channel } from 'node:diagnostics_channel';
import type { ChangeBatch, ApplyResult, Sink, Source } from '../core/contracts.js';
import type { ChangeEvent } from '../core/change-event.js';
import { qualifiedName } from '../core/table-schema.js';

/** Seconds. End-to-end latency spans milliseconds (direct) to minutes (a backlog drained). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];
export const BATCH_SIZE_BUCKETS = [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 50_000];
export const BATCH_SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * A histogram that takes a weight: a batch's events share one apply time, so one observation per
 * distinct commit time (not per event) keeps the hot path cheap.
 */
export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly buckets: readonly number[]) {
    this.counts = new Array<number>(buckets.length).fill(0);
  }
  observe(v: number, n = 1): void {
    this.sum += v * n;
    this.count += n;
    // Bucket counts are not cumulative here; rendering makes them so.
    let i = 0;
    while (i < this.buckets.length && v > this.buckets[i]!) i++;
    if (i < this.buckets.length) this.counts[i]! += n;
  }
  /** Cumulative `le` counts, the last being +Inf. */
  cumulative(): Array<{ le: string; count: number }> {
    let acc = 0;
    const out = this.buckets.map((b, i) => ({ le: String(b), count: (acc += this.counts[i]!) }));
    out.push({ le: '+Inf', count: this.count });
    return out;
  }
}

export interface TableCounters {
  /** Source name, "schema.name" or "name". */
  readonly table: string;
  captured: number;
  published: number;
  /** Events that went through a committed apply batch (written, skipped by the version guard or dead-lettered). */
  applied: number;
  /** Open dead letters created for this table's target (from the sink's dead-letter channel). */
  deadLettered: number;
  lastAppliedCommitMs: number | undefined;
  lastAppliedAtMs: number | undefined;
  /** Commit time of the oldest change captured since this table was last caught up. */
  waitingSinceMs: number | undefined;
  /** The changes captured and not yet both published and applied, oldest first (see the file comment). */
  readonly inFlight: InFlight;
}

/** Changes captured in one batch with one commit time: `first` is the capture count of the first of them. */
interface Run {
  readonly first: number;
  n: number;
  readonly commitMs: number;
  readonly capturedAtMs: number;
}

/** A queue of runs that drops its head without shifting the array on every batch. */
class InFlight {
  private runs: Run[] = [];
  private head = 0;

  push(first: number, commitMs: number, capturedAtMs: number): void {
    const last = this.runs[this.runs.length - 1];
    if (last && this.runs.length > this.head && last.commitMs === commitMs && last.first + last.n === first) last.n++;
    else this.runs.push({ first, n: 1, commitMs, capturedAtMs });
  }

  /** The run holding the change with this capture count, if it is still kept. */
  at(index: number): Run | undefined {
    // Binary search: with Kafka far ahead of apply, many runs lie between the two stages.
    let lo = this.head;
    let hi = this.runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.runs[mid]!;
      if (index < r.first) hi = mid - 1;
      else if (index >= r.first + r.n) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** Forgets the changes before this capture count. */
  dropBefore(index: number): void {
    while (this.head < this.runs.length && this.runs[this.head]!.first + this.runs[this.head]!.n <= index) this.head++;
    if (this.head > 1024 && this.head * 2 > this.runs.length) {
      this.runs = this.runs.slice(this.head);
      this.head = 0;
    }
  }
}

/** Seconds per stage (see the file comment); `published` is null without Kafka. */
export interface StageLag {
  readonly captured: number;
  readonly published: number | null;
  readonly applied: number;
}

export interface TableStatus {
  readonly table: string;
  readonly captured: number;
  readonly published: number;
  readonly applied: number;
  readonly deadLettered: number;
  /** Captured but not yet through apply (this process's view; 0 once caught up). */
  readonly waiting: number;
  readonly lagSeconds: number;
  readonly stageLagSeconds: StageLag;
  readonly lastAppliedAt: string | null;
}

export interface HistorySample {
  /** ms since epoch. */
  readonly t: number;
  readonly captured: number;
  readonly applied: number;
  readonly lagSeconds: number;
  readonly deadLettered: number;
  /** Per table: applied count, lag and the lag at each stage. */
  readonly tables: Record<string, { applied: number; lagSeconds: number; stages: StageLag }>;
  /** Per "topic/partition": consumer lag in records. */
  readonly partitions: Record<string, number>;
}

export interface TrackerOptions {
  /** Source tables (qualified names) the pipeline carries. */
  readonly tables: readonly string[];
  /** Target table name ("schema.name", as the sink names it) → source table, to attribute dead letters. */
  readonly targetOf?: ReadonlyMap<string, string>;
  /** Outbox rows waiting at the source, when the source can tell. */
  readonly backlog?: () => number;
  /** Consumer lag summed over the held partitions (Kafka), and per partition. */
  readonly partitions?: () => Record<string, number>;
  /** One history sample per this many ms (default 2000); 0 disables the timer (tests call sample()). */
  readonly sampleEveryMs?: number;
  /** Samples kept (default 1800: an hour at 2 s). */
  readonly historySize?: number;
  readonly now?: () => number;
}

interface DeadLetterMessage {
  table: string;
}

export class PipelineTracker {
  readonly latency = new Histogram(LATENCY_BUCKETS);
  readonly batchSize = new Histogram(BATCH_SIZE_BUCKETS);
  readonly batchSeconds = new Histogram(BATCH_SECONDS_BUCKETS);
  /** Failed apply attempts by error code (each is retried or ends the pipeline). */
  readonly applyErrors = new Map<string, number>();
  /** Apply transactions retried by cause (deadlock, lock_wait_timeout, connection, other), as the dialects announce them. */
  readonly applyRetries = new Map<string, number>();
  readonly tables = new Map<string, TableCounters>();
  /** Last time any batch committed on the target. */
  lastApplyAtMs: number | undefined;
  private readonly history: HistorySample[] = [];
  /** The source is wrapped for the Kafka path: a change is published before it can be applied. */
  private publishes = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly byTarget: ReadonlyMap<string, string>;
  private readonly dlChannel: Channel;
  private readonly retryChannel: Channel;
  private readonly onRetry = (m: unknown) => {
    const cause = String((m as { cause?: unknown }).cause ?? 'other');
    this.applyRetries.set(cause, (this.applyRetries.get(cause) ?? 0) + 1);
  };
  private readonly onDeadLetter = (m: unknown) => {
    const source = this.byTarget.get((m as DeadLetterMessage).table);
    const t = source ? this.tables.get(source) : undefined;
    if (t) t.deadLettered++;
  };

  constructor(private readonly opts: TrackerOptions) {
    this.now = opts.now ?? Date.now;
    for (const name of opts.tables) this.tables.set(name, newCounters(name));
    this.byTarget = opts.targetOf ?? new Map();
    // The sink announces each open dead letter on this channel; the observe layer may not import apply.
    this.dlChannel = channel('sluice:apply:dead-letter');
    this.dlChannel.subscribe(this.onDeadLetter);
    this.retryChannel = channel('sluice:apply:retry');
    this.retryChannel.subscribe(this.onRetry);
    const every = opts.sampleEveryMs ?? 2000;
    if (every > 0) {
      this.timer = setInterval(() => this.sample(), every);
      this.timer.unref();
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.dlChannel.unsubscribe(this.onDeadLetter);
    this.retryChannel.unsubscribe(this.onRetry);
  }

  private counters(e: ChangeEvent): TableCounters {
    const name = qualifiedName(e.table);
    let t = this.tables.get(name);
    if (!t) {
      // An event named without its schema, or a table the config names without one.
      for (const c of this.tables.values()) if (c.table === e.table.name || c.table.endsWith(`.${e.table.name}`)) t = c;
    }
    if (!t) {
      t = newCounters(name);
      this.tables.set(name, t);
    }
    return t;
  }

  noteCaptured(events: readonly ChangeEvent[]): void {
    const at = this.now();
    for (const e of events) {
      const t = this.counters(e);
      // A change without a commit time waits from the moment it was read.
      const ms = commitMs(e) ?? at;
      if (t.captured <= t.applied && t.waitingSinceMs === undefined) t.waitingSinceMs = ms;
      t.inFlight.push(t.captured, ms, at);
      t.captured++;
    }
  }

  notePublished(perTable: ReadonlyMap<TableCounters, number>): void {
    for (const [t, n] of perTable) {
      t.published += n;
      this.forget(t);
    }
  }

  /** Drops the changes every stage has passed. */
  private forget(t: TableCounters): void {
    t.inFlight.dropBefore(this.publishes ? Math.min(t.published, t.applied) : t.applied);
  }

  noteApplied(events: readonly ChangeEvent[], ms: number): void {
    const at = this.now();
    this.lastApplyAtMs = at;
    this.batchSize.observe(events.length);
    this.batchSeconds.observe(ms / 1000);
    let prevCommit: number | undefined;
    let run = 0;
    const flush = () => {
      if (run > 0 && prevCommit !== undefined) this.latency.observe(Math.max(0, at - prevCommit) / 1000, run);
    };
    for (const e of events) {
      const t = this.counters(e);
      t.applied++;
      t.lastAppliedAtMs = at;
      const c = commitMs(e);
      if (c !== undefined) {
        if (t.lastAppliedCommitMs === undefined || c > t.lastAppliedCommitMs) t.lastAppliedCommitMs = c;
        if (c !== prevCommit) {
          flush();
          prevCommit = c;
          run = 0;
        }
        run++;
      }
      if (t.applied >= t.captured) t.waitingSinceMs = undefined;
    }
    flush();
    for (const e of events) this.forget(this.counters(e));
  }

  noteApplyError(err: unknown): void {
    const code = (err as { code?: unknown }).code;
    const key = typeof code === 'string' ? code : 'unknown';
    this.applyErrors.set(key, (this.applyErrors.get(key) ?? 0) + 1);
  }

  private tableLagMs(t: TableCounters, now: number, busy: boolean): number {
    const waiting = t.captured > t.applied;
    if (!waiting && !busy) return 0;
    // The newest commit known applied, or the oldest change that started the wait: whichever is later.
    const from = Math.max(t.lastAppliedCommitMs ?? -Infinity, t.waitingSinceMs ?? -Infinity);
    if (!Number.isFinite(from)) return 0;
    return Math.max(0, now - from);
  }

  /** Each stage's lag of one table (see the file comment). */
  private stageLag(t: TableCounters, now: number): StageLag {
    const age = (index: number, end: number) => {
      const r = index < end ? t.inFlight.at(index) : undefined;
      return r ? Math.max(0, now - r.commitMs) / 1000 : 0;
    };
    const oldest = t.applied < t.captured ? t.inFlight.at(t.applied) : undefined;
    return {
      captured: oldest ? Math.max(0, oldest.capturedAtMs - oldest.commitMs) / 1000 : 0,
      published: this.publishes ? age(t.published, t.captured) : null,
      // With Kafka a change waits for apply once the broker has it; before that it waits to be published.
      applied: age(t.applied, this.publishes ? Math.min(t.published, t.captured) : t.captured),
    };
  }

  /** Consumer lag (Kafka) summed over partitions. */
  consumerLag(): number {
    const p = this.opts.partitions?.() ?? {};
    let n = 0;
    for (const v of Object.values(p)) n += v;
    return n;
  }

  /** Something waits at the source or in Kafka that no table counter can attribute. */
  private busyElsewhere(): boolean {
    return (this.opts.backlog?.() ?? 0) > 0 || this.consumerLag() > 0;
  }

  /** Replication lag of the pipeline in ms: the largest of its tables' (see the file comment). */
  lagMs(): number {
    const now = this.now();
    const busy = this.busyElsewhere();
    let lag = 0;
    for (const t of this.tables.values()) {
      // Outbox backlog and consumer lag are not per table: every table that ever applied something counts as waiting.
      lag = Math.max(lag, this.tableLagMs(t, now, busy && t.lastAppliedCommitMs !== undefined));
    }
    return lag;
  }

  tableStatus(): TableStatus[] {
    const now = this.now();
    const busy = this.busyElsewhere();
    return [...this.tables.values()].map((t) => ({
      table: t.table,
      captured: t.captured,
      published: t.published,
      applied: t.applied,
      deadLettered: t.deadLettered,
      waiting: Math.max(0, t.captured - t.applied),
      lagSeconds: this.tableLagMs(t, now, busy && t.lastAppliedCommitMs !== undefined) / 1000,
      stageLagSeconds: this.stageLag(t, now),
      lastAppliedAt: t.lastAppliedAtMs === undefined ? null : new Date(t.lastAppliedAtMs).toISOString(),
    }));
  }

  /** Records one history sample (the timer calls it; tests may too). */
  sample(): HistorySample {
    const tables: HistorySample['tables'] = {};
    let captured = 0;
    let applied = 0;
    let deadLettered = 0;
    for (const s of this.tableStatus()) {
      tables[s.table] = { applied: s.applied, lagSeconds: s.lagSeconds, stages: s.stageLagSeconds };
      captured += s.captured;
      applied += s.applied;
      deadLettered += s.deadLettered;
    }
    const sample: HistorySample = {
      t: this.now(),
      captured,
      applied,
      deadLettered,
      lagSeconds: this.lagMs() / 1000,
      tables,
      partitions: { ...(this.opts.partitions?.() ?? {}) },
    };
    this.history.push(sample);
    const max = this.opts.historySize ?? 1800;
    if (this.history.length > max) this.history.splice(0, this.history.length - max);
    return sample;
  }

  historySince(t = 0): HistorySample[] {
    return this.history.filter((s) => s.t > t);
  }

  /** The Source, reporting what it yields as captured and, on `published: true`, what it is told to free as published. */
  observeSource(src: Source, o: { published: boolean }): Source {
    this.publishes = o.published;
    const pending: Array<{ position: string; perTable: Map<TableCounters, number> }> = [];
    const wrapBatches = (it: AsyncIterable<ChangeBatch>): AsyncIterable<ChangeBatch> => ({
      [Symbol.asyncIterator]: () => {
        const inner = it[Symbol.asyncIterator]();
        return {
          next: async () => {
            const r = await inner.next();
            if (!r.done) {
              this.noteCaptured(r.value.events);
              if (o.published) {
                const perTable = new Map<TableCounters, number>();
                for (const e of r.value.events) {
                  const t = this.counters(e);
                  perTable.set(t, (perTable.get(t) ?? 0) + 1);
                }
                pending.push({ position: r.value.position, perTable });
              }
            }
            return r;
          },
          ...(inner.return ? { return: (v?: unknown) => inner.return!(v) } : {}),
          ...(inner.throw ? { throw: (e?: unknown) => inner.throw!(e) } : {}),
        };
      },
    });
    return {
      name: src.name,
      tables: () => src.tables(),
      start: (from?: string) => wrapBatches(src.start(from)),
      acknowledge: (position: string) => {
        // The Kafka path acknowledges each batch, in order, once the broker has all of it.
        const at = pending.findIndex((p) => p.position === position);
        if (at >= 0) for (const p of pending.splice(0, at + 1)) this.notePublished(p.perTable);
        return src.acknowledge(position);
      },
      stop: () => src.stop(),
    };
  }

  /** The Sink, reporting each committed batch (sizes, duration, latency) and each failed attempt. */
  observeSink<S extends Sink>(sink: S): Sink {
    return {
      prepare: (tables) => sink.prepare(tables),
      checkpoint: (name) => sink.checkpoint(name),
      close: () => sink.close(),
      apply: async (events, checkpoint): Promise<ApplyResult> => {
        const started = performance.now();
        try {
          const res = await sink.apply(events, checkpoint);
          this.noteApplied(events, performance.now() - started);
          return res;
        } catch (err) {
          this.noteApplyError(err);
          throw err;
        }
      },
    };
  }
}

function newCounters(table: string): TableCounters {
  return {
    table,
    captured: 0,
    published: 0,
    applied: 0,
    deadLettered: 0,
    lastAppliedCommitMs: undefined,
    lastAppliedAtMs: undefined,
    waitingSinceMs: undefined,
    inFlight: new InFlight(),
  };
}

function commitMs(e: ChangeEvent): number | undefined {
  const ts = e.source.commitTs;
  if (!ts) return undefined;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Consumer lag per "topic/partition" from the consumer's positions (high watermark minus what is applied). */
export function partitionLags(
  views: ReadonlyArray<{
    topic: string;
    partition: number;
    highWatermark: bigint | undefined;
    committable: bigint | undefined;
    committed: bigint | undefined;
  }>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of views) {
    if (p.highWatermark === undefined) continue;
    const from = p.committable ?? p.committed ?? p.highWatermark;
    out[`${p.topic}/${p.partition}`] = Number(p.highWatermark > from ? p.highWatermark - from : 0n);
  }
  return out;
}
