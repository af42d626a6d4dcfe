/**
 * Per-key ordering with more concurrency than partitions (no Kafka in here).
 *
 * Records are hashed by key into lanes: the same key always lands in the same lane, so a key's
 * records are applied in the order they were pushed (offset order within its partition). A lane
 * hands the handler a batch of its queued records (at most maxBatchSize, in push order) and waits
 * for that batch before its next. Up to `concurrency` batches run at once, from different lanes,
 * taken in the order lanes became ready. At most `maxInFlight` records are queued or running:
 * `waitForCapacity()` is how the fetcher pauses.
 *
 * A failed batch: retriable (SluiceError.retriable) → the same batch again, with core/retry's
 * backoff, its lane blocked meanwhile (other lanes keep flowing); non-retriable → the scheduler
 * stops starting batches and reports the error; the failed records are never completed, so no
 * commit passes them. Records dropped (revoked partitions) or batches abandoned are never
 * completed either.
 *
 * The lane hash must not be the partitioner's hash: with murmur2 % partitions = p for every key of
 * partition p, murmur2 % lanes would put all of one partition's keys in a few lanes.
 */
import { defaultIsRetriable, retry } from '../../core/retry.js';

export interface KeySchedulerOptions<R> {
  /** Most batches running at once. */
  concurrency: number;
  /** Lanes keys are hashed into; default = concurrency. More lanes, less head-of-line blocking. */
  lanes?: number;
  maxBatchSize: number;
  /** Most records queued + running; pushes beyond it are accepted but `hasCapacity()` turns false. */
  maxInFlight: number;
  /** A 32-bit hash of the record's ordering key (laneHash(key bytes)); same key → same hash. */
  hashOf: (record: R) => number;
  handler: (batch: R[]) => Promise<void>;
  /** After a batch's handler succeeded (not called for abandoned batches). */
  onComplete?: (batch: R[]) => void;
  /** A batch failed with a non-retriable error, or retries ran out: the scheduler has stopped. */
  onFatal?: (err: unknown, batch: R[]) => void;
  onRetry?: (err: unknown, attempt: number, batch: R[]) => void;
  retries?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  isRetriable?: (err: unknown) => boolean;
}

interface Lane<R> {
  queue: R[];
  head: number;
  busy: boolean;
  ready: boolean;
  running: R[] | undefined;
  abort: AbortController | undefined;
}

const ABANDONED = Symbol('abandoned');

/** FNV-1a over the bytes, then murmur3's fmix32 so low bits spread well; unsigned 32-bit. */
export function laneHash(bytes: Uint8Array, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class KeyScheduler<R> {
  readonly #o: Required<
    Pick<KeySchedulerOptions<R>, 'concurrency' | 'maxBatchSize' | 'maxInFlight' | 'retries' | 'retryInitialMs' | 'retryMaxMs'>
  > &
    KeySchedulerOptions<R>;
  readonly #lanes: Lane<R>[];
  readonly #ready: Lane<R>[] = [];
  #readyHead = 0;
  #running = 0;
  #inFlight = 0;
  #failure: { err: unknown } | undefined;
  #pumpScheduled = false;
  #waiters = new Set<() => void>();

  constructor(opts: KeySchedulerOptions<R>) {
    if (!(opts.concurrency >= 1) || !(opts.maxBatchSize >= 1) || !(opts.maxInFlight >= 1)) {
      throw new RangeError('KeyScheduler: concurrency, maxBatchSize and maxInFlight must be ≥ 1');
    }
    this.#o = { retries: Number.MAX_SAFE_INTEGER, retryInitialMs: 100, retryMaxMs: 10_000, ...opts };
    const n = Math.max(opts.lanes ?? opts.concurrency, opts.concurrency);
    this.#lanes = Array.from({ length: n }, () => ({
      queue: [],
      head: 0,
      busy: false,
      ready: false,
      running: undefined,
      abort: undefined,
    }));
  }

  /** Records queued or running. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Batches running now. */
  get running(): number {
    return this.#running;
  }

  get failed(): unknown {
    return this.#failure?.err;
  }

  hasCapacity(): boolean {
    return this.#inFlight < this.#o.maxInFlight;
  }

  /** Queues a record behind the earlier records of its lane. */
  push(record: R): void {
    const lane = this.#lanes[this.#o.hashOf(record) % this.#lanes.length]!;
    lane.queue.push(record);
    this.#inFlight++;
    if (!lane.busy && !lane.ready) this.#markReady(lane);
    this.#schedulePump();
  }

  /** Resolves when there is room for more records (or the scheduler failed). */
  async waitForCapacity(signal?: AbortSignal): Promise<void> {
    while (!this.hasCapacity() && !this.#failure && !signal?.aborted) await this.#change(signal);
  }

  /**
   * Removes queued records (not started) matching `pred`; they will never complete. Returns them.
   * Running batches are not touched: see idle() and abandon().
   */
  drop(pred: (r: R) => boolean): R[] {
    const dropped: R[] = [];
    for (const lane of this.#lanes) {
      if (lane.head >= lane.queue.length) continue;
      const keep: R[] = [];
      for (let i = lane.head; i < lane.queue.length; i++) {
        const r = lane.queue[i]!;
        (pred(r) ? dropped : keep).push(r);
      }
      lane.queue = keep;
      lane.head = 0;
    }
    this.#inFlight -= dropped.length;
    if (dropped.length > 0) this.#notify();
    return dropped;
  }

  /**
   * Resolves true once no record matching `pred` (default: any) is queued or running, false if
   * `timeoutMs` passes first. After a failure, queued records never run: only running ones count.
   */
  async idle(pred: (r: R) => boolean = () => true, timeoutMs = Infinity): Promise<boolean> {
    const busy = () =>
      this.#lanes.some((l) => {
        if (l.running?.some(pred)) return true;
        if (this.#failure) return false;
        for (let i = l.head; i < l.queue.length; i++) if (pred(l.queue[i]!)) return true;
        return false;
      });
    if (!busy()) return true;
    const ac = new AbortController();
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => ac.abort(), timeoutMs) : undefined;
    try {
      while (busy()) {
        if (ac.signal.aborted) return false;
        await this.#change(ac.signal);
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops retrying running batches whose records all match `pred` (their lanes' partitions are
   * gone): a batch waiting for its next attempt ends without completing. A handler call already
   * running is not interrupted.
   */
  abandon(pred: (r: R) => boolean): void {
    for (const lane of this.#lanes) if (lane.running?.every(pred)) lane.abort?.abort();
  }

  #markReady(lane: Lane<R>): void {
    lane.ready = true;
    this.#ready.push(lane);
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    // A microtask later: the records pushed in one synchronous burst (one fetched batch) go out
    // together, in as few handler calls as the batch size allows.
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (!this.#failure && this.#running < this.#o.concurrency && this.#readyHead < this.#ready.length) {
      const lane = this.#ready[this.#readyHead++]!;
      lane.ready = false;
      if (lane.head < lane.queue.length) this.#start(lane);
    }
    if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready.splice(0, this.#readyHead);
      this.#readyHead = 0;
    }
  }

  #start(lane: Lane<R>): void {
    const end = Math.min(lane.queue.length, lane.head + this.#o.maxBatchSize);
    const batch = lane.queue.slice(lane.head, end);
    lane.head = end;
    if (lane.head === lane.queue.length) {
      lane.queue = [];
      lane.head = 0;
    } else if (lane.head > 4096 && lane.head * 2 > lane.queue.length) {
      lane.queue = lane.queue.slice(lane.head);
      lane.head = 0;
    }
    lane.busy = true;
    lane.running = batch;
    lane.abort = new AbortController();
    this.#running++;
    void this.#run(lane, batch, lane.abort.signal);
  }

  async #run(lane: Lane<R>, batch: R[], signal: AbortSignal): Promise<void> {
    const o = this.#o;
    const isRetriable = o.isRetriable ?? defaultIsRetriable;
    let completed = false;
    try {
      await retry(
        async (attempt) => {
          if (signal.aborted) throw ABANDONED;
          try {
            await o.handler(batch);
          } catch (err) {
            if (isRetriable(err) && attempt < o.retries && !signal.aborted) o.onRetry?.(err, attempt + 1, batch);
            throw err;
          }
        },
        {
          retries: o.retries,
          initialMs: o.retryInitialMs,
          maxMs: o.retryMaxMs,
          isRetriable: (err) => err !== ABANDONED && isRetriable(err),
          signal,
        },
      );
      completed = true;
    } catch (err) {
      if (err !== ABANDONED && !signal.aborted && !this.#failure) {
        this.#failure = { err };
        o.onFatal?.(err, batch);
      }
    } finally {
      this.#running--;
      this.#inFlight -= batch.length;
      lane.busy = false;
      lane.running = undefined;
      lane.abort = undefined;
      if (completed) {
        try {
          o.onComplete?.(batch);
        } catch {
          /* the caller's bookkeeping must not stop the scheduler */
        }
      }
      if (lane.head < lane.queue.length) this.#markReady(lane);
      this.#notify();
      this.#pump();
    }
  }

  #notify(): void {
    const ws = [...this.#waiters];
    this.#waiters.clear();
    for (const w of ws) w();
  }

  /** Resolves at the next change of state (a batch ended, records dropped) or when `signal` aborts. */
  #change(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
