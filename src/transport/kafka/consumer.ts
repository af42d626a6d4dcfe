/**
 * The consumer side of the transport: a consumer group whose records are applied through the key
 * scheduler (per-key order, concurrency beyond the partition count) and whose offsets are committed
 * explicitly, only up to the lowest record not yet applied (docs/guarantees.md: explicit-commit,
 * lowest-unfinished-offset).
 *
 * Flow: driver eachBatch → OffsetTracker.handOut → KeyScheduler.push → handler(batch) →
 * OffsetTracker.complete → commit of committable offsets every commitIntervalMs, before a
 * partition is revoked, and at stop. eachBatch returns as soon as its records are queued, so
 * fetching and applying overlap; it waits (heartbeating) only when maxInFlight records are pending.
 *
 * Rebalance (eager: all partitions are revoked, then reassigned): queued records of the revoked
 * partitions are dropped (never applied here; the next owner reads them again from the committed
 * offset), running batches are awaited up to drainTimeoutMs (then abandoned: their late result is
 * ignored), the committable offsets are committed, and the group may then move the partitions.
 * Whatever was applied but not committed is replayed by the next owner: the sink's version guard
 * makes that a no-op (docs/guarantees.md: idempotent-replay).
 *
 * Crash (the driver's client is gone: kafkajs gave up on a broker that restarted or a coordinator
 * that moved; a confluent fatal error): its partitions are released as on a revoke, except that
 * nothing can be committed through a dead client. If the driver calls the cause retriable, a new
 * client rejoins the group (backoff between attempts) and resumes from the committed offsets;
 * otherwise, or when rejoining fails for rejoinTimeoutMs, `done` rejects with a SluiceError.
 * Every step of a shutdown copes with a client that crashed, and `done` always settles.
 */
import { channel } from 'node:diagnostics_channel';
import { randomUUID } from 'node:crypto';
import { SluiceError } from '../../core/errors.js';
import { fetchLag } from './admin.js';
import { transportError, TRANSPORT_ERROR_CODE } from './errors.js';
import { KeyScheduler, laneHash } from './key-scheduler.js';
import { claimMemberSlot, type MemberSlot } from './member-slot.js';
import { OffsetTracker } from './offset-tracker.js';
import { CONSUMER_DEFAULTS, connect, connectionOf, type ConsumerOptions } from './options.js';
import {
  silentLogger,
  type ConsumedRecord,
  type DriverBatch,
  type DriverConsumer,
  type DriverEachBatchPayload,
  type DriverKafka,
  type KafkaConstructor,
  type PartitionLag,
  type TopicPartition,
  type TransportLogger,
} from './types.js';

const commitChannel = channel('sluice:transport:commit');
const rebalanceChannel = channel('sluice:transport:rebalance');
const retryChannel = channel('sluice:transport:handler-retry');
const crashChannel = channel('sluice:transport:crash');
const rejoinChannel = channel('sluice:transport:rejoin');

/** A crash within this long of the last rejoin continues the same streak (growing backoff, one rejoin timeout). */
const STABLE_MS = 60_000;
const REJOIN_BACKOFF_MS = { initial: 1_000, max: 30_000 };

interface Item {
  readonly record: ConsumedRecord;
  readonly tp: string;
  readonly offset: bigint;
  /** The partition's assignment epoch when the record was fetched; a later epoch makes it stale. */
  readonly epoch: number;
  readonly hash: number;
}

export interface PartitionPosition extends TopicPartition {
  /** Last offset this consumer committed (undefined: none since assignment). */
  readonly committed: bigint | undefined;
  /** What would be committed now: the lowest offset not yet applied. */
  readonly committable: bigint | undefined;
  /** The high watermark seen with the latest fetched batch. */
  readonly highWatermark: bigint | undefined;
  /** Records fetched and not yet applied. */
  readonly outstanding: number;
}

type State = 'new' | 'running' | 'recovering' | 'stopping' | 'stopped';

const tpKey = (topic: string, partition: number) => `${topic}/${partition}`;

export class KafkaConsumer {
  /** Distinguishes consumers of one group in one process (diagnostics, tests). */
  readonly id = randomUUID().slice(0, 8);
  /** Settles when the consumer has stopped: resolves after stop(), rejects with the error that stopped it. */
  readonly done: Promise<void>;

  readonly #o: ConsumerOptions<ConsumedRecord> & typeof CONSUMER_DEFAULTS;
  readonly #Kafka: KafkaConstructor;
  readonly #kafka: DriverKafka;
  /** The driver's client of the current incarnation (a new one after each crash). */
  #consumer: DriverConsumer | undefined;
  #incarnation = 0;
  /** False once the current client crashed: it can no longer pause, commit or heartbeat. */
  #alive = false;
  #slot: MemberSlot | undefined;
  #recovery: Promise<void> | undefined;
  /** A crash of the client being joined during a recovery: that attempt failed. */
  #attemptCrash: SluiceError | undefined;
  #streak: { since: number; attempts: number } | undefined;
  #rejoinedAt = 0;
  /** Cuts a rejoin backoff short when stop() is called. */
  #wake: (() => void) | undefined;
  readonly #log: TransportLogger;
  readonly #tracker = new OffsetTracker();
  readonly #scheduler: KeyScheduler<Item>;
  readonly #epochs = new Map<string, number>();
  readonly #assigned = new Map<string, TopicPartition>();
  readonly #committed = new Map<string, bigint>();
  readonly #highWatermarks = new Map<string, bigint>();
  #state: State = 'new';
  #timer: NodeJS.Timeout | undefined;
  #commits: Promise<void> = Promise.resolve();
  #settle!: { resolve: () => void; reject: (err: unknown) => void };
  #fatal: unknown;

  constructor(opts: ConsumerOptions<ConsumedRecord>) {
    const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
    this.#o = { ...CONSUMER_DEFAULTS, ...defined } as ConsumerOptions<ConsumedRecord> & typeof CONSUMER_DEFAULTS;
    this.#log = opts.logger ?? silentLogger;
    this.done = new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    this.done.catch(() => {}); // reported through `done` and the logger; never an unhandled rejection
    const { Kafka, kafka } = connect(opts, 'consumer');
    this.#Kafka = Kafka;
    this.#kafka = kafka;
    const o = this.#o;
    this.#scheduler = new KeyScheduler<Item>({
      concurrency: o.concurrency,
      ...(o.lanes !== undefined ? { lanes: o.lanes } : {}),
      maxBatchSize: o.maxBatchSize,
      maxInFlight: o.maxInFlight,
      hashOf: (i) => i.hash,
      handler: (items) => o.handler(items.map((i) => i.record)),
      onComplete: (items) => {
        for (const i of items) if (this.#epochs.get(i.tp) === i.epoch) this.#tracker.complete(i.tp, i.offset);
      },
      onFatal: (err, items) => {
        const first = items[0]?.record;
        this.#log.error('handler failed with a non-retriable error; the consumer stops', {
          err,
          groupId: o.groupId,
          ...(first ? { topic: first.topic, partition: first.partition, offset: first.offset } : {}),
        });
        this.#fail(err);
      },
      onRetry: (err, attempt, items) => {
        this.#log.warn('handler failed, retrying the batch', { err, attempt, records: items.length });
        if (retryChannel.hasSubscribers)
          retryChannel.publish({ groupId: o.groupId, consumerId: this.id, err, attempt, records: items.length });
      },
      retries: o.handlerRetries,
      retryInitialMs: o.handlerRetryInitialMs,
      retryMaxMs: o.handlerRetryMaxMs,
    });
  }

  /** The group.instance.id this consumer joins with (static membership), if any. */
  get instanceId(): string | undefined {
    return this.#slot?.instanceId ?? (typeof this.#o.groupInstanceId === 'string' ? this.#o.groupInstanceId : undefined);
  }

  /** Joins the group and starts fetching; resolves once running. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error('KafkaConsumer.start() called twice');
    this.#state = 'running';
    try {
      if (this.#o.groupInstanceId === undefined && this.#Kafka.staticMembership) {
        this.#slot = await claimMemberSlot(this.#o.groupId);
        if (!this.#slot)
          this.#log.info('no free group.instance.id slot on this host; joining as a dynamic member', { groupId: this.#o.groupId });
      }
      await this.#join(this.#newClient());
    } catch (err) {
      const e = transportError(this.#Kafka, 'consumer start', err, { groupId: this.#o.groupId });
      this.#state = 'stopping';
      await this.#disconnect(this.#consumer);
      this.#finish(e);
      throw e;
    }
    // A first join that failed (kafkajs reports it as a crash) is being retried by now.
    if (this.#state === 'running') this.#startCommitTimer();
  }

  #newClient(): DriverConsumer {
    const incarnation = ++this.#incarnation;
    // Callbacks of a client replaced after a crash are ignored: it no longer owns anything.
    const current = () => incarnation === this.#incarnation;
    const o = this.#o;
    const instanceId = this.instanceId;
    this.#consumer = this.#kafka.consumer({
      groupId: o.groupId,
      fromBeginning: o.fromBeginning,
      sessionTimeout: o.sessionTimeout,
      heartbeatInterval: o.heartbeatInterval,
      rebalanceTimeout: o.rebalanceTimeout,
      maxBatchSize: Math.max(o.maxBatchSize, 100),
      ...(o.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: o.maxBytesPerPartition } : {}),
      maxWaitTimeInMs: o.maxWaitTimeInMs,
      ...(instanceId !== undefined ? { groupInstanceId: instanceId } : {}),
      onAssign: (tps) => {
        if (current()) this.#onAssign(tps);
      },
      onRevoke: async (tps) => {
        if (current()) await this.#onRevoke(tps);
      },
      onCrash: (err) => {
        if (current()) this.#crashed(err);
      },
    });
    this.#alive = true;
    return this.#consumer;
  }

  async #join(consumer: DriverConsumer): Promise<void> {
    const incarnation = this.#incarnation;
    await consumer.connect();
    await consumer.subscribe([...this.#o.topics]);
    // One partition at a time: eachBatch only queues, so more would add no overlap; measured
    // slower with 3 (bench/kafka-transport.ts), for both drivers.
    await consumer.run({
      eachBatch: async (p) => {
        if (incarnation === this.#incarnation) await this.#eachBatch(p);
      },
      partitionsConsumedConcurrently: 1,
    });
  }

  #startCommitTimer(): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => void this.#commit(), this.#o.commitIntervalMs);
    this.#timer.unref();
  }

  /**
   * Stops fetching, finishes (or after drainTimeoutMs abandons) running batches, commits, leaves
   * the group. Resolves once stopped, even if an error stopped it first (that error is in `done`).
   */
  async stop(): Promise<void> {
    await this.#shutdown(undefined);
    await this.done.then(
      () => {},
      () => {},
    );
  }

  /** Partitions currently assigned to this consumer. */
  assignment(): TopicPartition[] {
    return [...this.#assigned.values()];
  }

  /** A snapshot per assigned partition: committed, committable, high watermark, outstanding. */
  positions(): PartitionPosition[] {
    return [...this.#assigned].map(([k, tp]) => ({
      ...tp,
      committed: this.#committed.get(k),
      committable: this.#tracker.committable(k),
      highWatermark: this.#highWatermarks.get(k),
      outstanding: this.#tracker.outstanding(k),
    }));
  }

  /** The group's committed offsets against the brokers' high watermarks, for every subscribed partition. */
  lag(): Promise<PartitionLag[]> {
    return fetchLag(connectionOf(this.#o), this.#o.groupId, this.#o.topics);
  }

  /** Records fetched and not yet applied (queued + running). */
  get inFlight(): number {
    return this.#scheduler.inFlight;
  }

  async #eachBatch(payload: DriverEachBatchPayload): Promise<void> {
    const { batch } = payload;
    const tp = tpKey(batch.topic, batch.partition);
    if (!this.#assigned.has(tp)) this.#onAssign([{ topic: batch.topic, partition: batch.partition }]);
    const epoch = this.#epochs.get(tp)!;
    const hw = Number(batch.highWatermark);
    if (hw >= 0) this.#highWatermarks.set(tp, BigInt(batch.highWatermark));
    // resolveOffset moves the fetch position (not the commit): resolved once per run of queued
    // records, before any wait and at the end, since each call is a native call with confluent.
    let unresolved: string | undefined;
    const resolve = () => {
      if (unresolved !== undefined) payload.resolveOffset(unresolved);
      unresolved = undefined;
    };
    for (const m of batch.messages) {
      if (this.#state !== 'running' || this.#scheduler.failed !== undefined) break;
      if (!this.#scheduler.hasCapacity()) {
        resolve();
        await this.#waitForCapacity(payload);
        if (this.#state !== 'running' || this.#epochs.get(tp) !== epoch || this.#scheduler.failed !== undefined) return;
      }
      const offset = BigInt(m.offset);
      // Not above the last handed-out offset: a re-fetch of a record already queued or applied.
      if (this.#tracker.handOut(tp, offset)) {
        const record = toRecord(batch, m);
        this.#scheduler.push({ record, tp, offset, epoch, hash: record.key ? laneHash(record.key) : laneHash(Buffer.from(tp)) });
      }
      unresolved = m.offset;
    }
    resolve();
  }

  /** Waits for room in the scheduler, heartbeating; a heartbeat that fails (rebalance) propagates. */
  async #waitForCapacity(payload: DriverEachBatchPayload): Promise<void> {
    while (!this.#scheduler.hasCapacity() && this.#state === 'running' && this.#scheduler.failed === undefined) {
      await this.#scheduler.waitForCapacity(AbortSignal.timeout(this.#o.heartbeatInterval));
      await payload.heartbeat();
    }
  }

  #onAssign(tps: TopicPartition[]): void {
    for (const tp of tps) {
      const k = tpKey(tp.topic, tp.partition);
      this.#epochs.set(k, (this.#epochs.get(k) ?? 0) + 1);
      this.#tracker.reset(k);
      this.#committed.delete(k);
      this.#assigned.set(k, { topic: tp.topic, partition: tp.partition });
    }
    if (rebalanceChannel.hasSubscribers) rebalanceChannel.publish({ groupId: this.#o.groupId, consumerId: this.id, assigned: tps });
  }

  async #onRevoke(tps: TopicPartition[]): Promise<void> {
    const keys = new Set(tps.map((tp) => tpKey(tp.topic, tp.partition)));
    const mine = (i: Item) => keys.has(i.tp);
    const inFlight = this.#scheduler.inFlight;
    const dropped = this.#scheduler.drop(mine).length;
    const drained = await this.#scheduler.idle(mine, this.#o.drainTimeoutMs);
    if (!drained) {
      this.#scheduler.abandon(mine);
      this.#log.warn('revoke: in-flight batches did not finish in time and are abandoned', {
        groupId: this.#o.groupId,
        drainTimeoutMs: this.#o.drainTimeoutMs,
      });
    }
    await this.#commit(keys);
    for (const k of keys) {
      this.#epochs.set(k, (this.#epochs.get(k) ?? 0) + 1);
      this.#tracker.reset(k);
      this.#assigned.delete(k);
      this.#committed.delete(k);
    }
    if (rebalanceChannel.hasSubscribers)
      rebalanceChannel.publish({ groupId: this.#o.groupId, consumerId: this.id, revoked: tps, inFlight, dropped, abandoned: !drained });
  }

  /**
   * Commits the committable offset of each assigned partition in `only` (default: all) that moved
   * since its last commit. Commits run one at a time, each computing its offsets when it runs.
   * A failed commit is logged and left to the next one: committing less is always safe.
   */
  #commit(only?: Set<string>): Promise<void> {
    const run = async () => {
      const offsets: { topic: string; partition: number; offset: string }[] = [];
      const keys: [string, bigint][] = [];
      for (const [k, tp] of this.#assigned) {
        if (only && !only.has(k)) continue;
        const c = this.#tracker.committable(k);
        if (c === undefined || c <= (this.#committed.get(k) ?? -1n)) continue;
        offsets.push({ topic: tp.topic, partition: tp.partition, offset: c.toString() });
        keys.push([k, c]);
      }
      if (offsets.length === 0 || !this.#alive || !this.#consumer) return;
      try {
        await this.#consumer.commitOffsets(offsets);
      } catch (err) {
        this.#log.warn('offset commit failed; the next commit retries', { err, groupId: this.#o.groupId });
        return;
      }
      for (const [k, c] of keys) if (this.#assigned.has(k)) this.#committed.set(k, c);
      if (commitChannel.hasSubscribers) commitChannel.publish({ groupId: this.#o.groupId, consumerId: this.id, offsets });
    };
    this.#commits = this.#commits.then(run, run);
    return this.#commits;
  }

  #fail(err: unknown): void {
    if (this.#state !== 'running' && this.#state !== 'recovering') return;
    this.#fatal = err;
    void this.#shutdown(err);
  }

  #crashed(raw: unknown): void {
    const err = transportError(this.#Kafka, 'consumer', raw, { groupId: this.#o.groupId });
    this.#alive = false;
    if (this.#state === 'recovering') {
      this.#attemptCrash ??= err;
      return;
    }
    // Stopping: the shutdown under way copes with a dead client.
    if (this.#state !== 'running') return;
    if (crashChannel.hasSubscribers) crashChannel.publish({ groupId: this.#o.groupId, consumerId: this.id, err, retriable: err.retriable });
    if (!err.retriable) {
      this.#log.error('Kafka consumer crashed with an error that rejoining cannot fix; the consumer stops', {
        err,
        groupId: this.#o.groupId,
      });
      this.#fail(err);
      return;
    }
    this.#log.warn('Kafka consumer crashed; it rejoins the group and resumes from the committed offsets', {
      err,
      groupId: this.#o.groupId,
    });
    this.#recovery = this.#recover(err).catch((e: unknown) => {
      // #recover handles its own failures; this is for a bug in it, which must not hang `done`.
      this.#log.error('consumer recovery failed', { err: e, groupId: this.#o.groupId });
      this.#finish(this.#fatal ?? e);
    });
  }

  /** Releases everything the crashed client held, then rejoins with a new one. */
  async #recover(cause: SluiceError): Promise<void> {
    this.#state = 'recovering';
    clearInterval(this.#timer);
    const started = Date.now();
    if (!this.#streak || started - this.#rejoinedAt > STABLE_MS) this.#streak = { since: started, attempts: 0 };
    const streak = this.#streak;
    await this.#releaseAll();
    await this.#disconnect(this.#consumer);
    let last = cause;
    while (this.#state === 'recovering') {
      if (streak.attempts > 0 && (!last.retriable || Date.now() - streak.since >= this.#o.rejoinTimeoutMs)) {
        this.#giveUp(last, streak);
        return;
      }
      const ceiling = streak.attempts === 0 ? 0 : Math.min(REJOIN_BACKOFF_MS.max, REJOIN_BACKOFF_MS.initial * 2 ** (streak.attempts - 1));
      await this.#sleep(Math.random() * ceiling);
      if (this.#state !== 'recovering') return;
      streak.attempts++;
      this.#attemptCrash = undefined;
      const client = this.#newClient();
      try {
        await this.#join(client);
        if (this.#attemptCrash) throw this.#attemptCrash;
      } catch (err) {
        last = transportError(this.#Kafka, 'consumer rejoin', err, { groupId: this.#o.groupId });
        this.#alive = false;
        await this.#disconnect(client);
        if (last.retriable)
          this.#log.warn('Kafka consumer could not rejoin the group yet; retrying', {
            err: last,
            attempt: streak.attempts,
            groupId: this.#o.groupId,
          });
        continue;
      }
      // stop() meanwhile: its shutdown takes this client over.
      if (this.#state !== 'recovering') return;
      this.#state = 'running';
      this.#rejoinedAt = Date.now();
      this.#startCommitTimer();
      this.#log.info('Kafka consumer rejoined the group after a crash', {
        groupId: this.#o.groupId,
        attempts: streak.attempts,
        ms: this.#rejoinedAt - started,
      });
      if (rejoinChannel.hasSubscribers) rejoinChannel.publish({ groupId: this.#o.groupId, consumerId: this.id, attempts: streak.attempts });
      return;
    }
  }

  #giveUp(last: SluiceError, streak: { since: number; attempts: number }): void {
    const seconds = Math.round((Date.now() - streak.since) / 1000);
    const why = last.retriable
      ? `still failing after ${streak.attempts} attempt(s) in ${seconds} s (rejoin timeout ${this.#o.rejoinTimeoutMs} ms)`
      : 'the error is not one a retry can fix';
    const err = new SluiceError(
      TRANSPORT_ERROR_CODE,
      `Kafka consumer of group "${this.#o.groupId}" crashed and could not rejoin the group: ${why}. Last error: ${last.message}. ` +
        'It stops, so that a supervisor restarts the process; check that the brokers are reachable.',
      { cause: last, context: { groupId: this.#o.groupId, attempts: streak.attempts } },
    );
    this.#log.error('Kafka consumer could not rejoin the group; the consumer stops', { err, groupId: this.#o.groupId });
    this.#fatal = err;
    this.#state = 'stopping';
    this.#finish(err);
  }

  /** Like a revoke of every partition, without a commit: the client that could commit is gone. */
  async #releaseAll(): Promise<void> {
    const all = () => true;
    const inFlight = this.#scheduler.inFlight;
    const dropped = this.#scheduler.drop(all).length;
    const drained = await this.#scheduler.idle(all, this.#o.drainTimeoutMs);
    if (!drained) {
      this.#scheduler.abandon(all);
      this.#log.warn('crash: in-flight batches did not finish in time and are abandoned', {
        groupId: this.#o.groupId,
        drainTimeoutMs: this.#o.drainTimeoutMs,
      });
    }
    const revoked = [...this.#assigned.values()];
    for (const k of this.#assigned.keys()) {
      this.#epochs.set(k, (this.#epochs.get(k) ?? 0) + 1);
      this.#tracker.reset(k);
      this.#committed.delete(k);
    }
    this.#assigned.clear();
    if (rebalanceChannel.hasSubscribers)
      rebalanceChannel.publish({
        groupId: this.#o.groupId,
        consumerId: this.id,
        revoked,
        inFlight,
        dropped,
        abandoned: !drained,
        crashed: true,
      });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(wake, ms);
      function wake() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = wake;
    }).finally(() => {
      this.#wake = undefined;
    });
  }

  /** Disconnects a client, whatever state it is in; bounded, so that `done` always settles. */
  async #disconnect(consumer: DriverConsumer | undefined): Promise<void> {
    if (!consumer) return;
    const ms = Math.max(30_000, this.#o.sessionTimeout);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        consumer.disconnect(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
        }),
      ]);
    } catch (e) {
      this.#log.warn('consumer disconnect failed', { err: e, groupId: this.#o.groupId });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Never rejects, and settles `done` whatever fails on the way. */
  async #shutdown(err: unknown): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'stopped';
      this.#settle.resolve();
      return;
    }
    if (this.#state !== 'running' && this.#state !== 'recovering') return;
    this.#state = 'stopping';
    this.#wake?.();
    try {
      clearInterval(this.#timer);
      // Before anything else: the batch being fetched must see its partitions paused, or the
      // confluent client queues a seek for its unresolved records that fails once disconnected.
      // A crashed client has nothing left to pause (and kafkajs throws if asked to).
      if (this.#alive) this.#consumer?.pause([...this.#assigned.values()]);
      await this.#recovery;
      // Queued records are left to whoever reads the partitions next; running batches finish.
      this.#scheduler.drop(() => true);
      if (!(await this.#scheduler.idle(() => true, this.#o.drainTimeoutMs))) {
        this.#scheduler.abandon(() => true);
        this.#log.warn('stop: in-flight batches did not finish in time and are abandoned', { groupId: this.#o.groupId });
      }
      await this.#commit();
    } catch (e) {
      this.#log.error('consumer shutdown step failed; stopping anyway', { err: e, groupId: this.#o.groupId });
    }
    await this.#disconnect(this.#consumer);
    this.#finish(err ?? this.#fatal);
  }

  #finish(fatal: unknown): void {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    clearInterval(this.#timer);
    const slot = this.#slot;
    this.#slot = undefined;
    void slot?.release().catch(() => {});
    if (fatal !== undefined) this.#settle.reject(fatal);
    else this.#settle.resolve();
  }
}

/** A fetched message as the transport hands it on. */
export function toRecord(batch: DriverBatch, m: DriverBatch['messages'][number]): ConsumedRecord {
  return {
    topic: batch.topic,
    partition: batch.partition,
    offset: m.offset,
    key: m.key,
    value: m.value,
    headers: m.headers ?? {},
    timestamp: m.timestamp,
  };
}
