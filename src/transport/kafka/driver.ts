/**
 * The two Kafka drivers behind one KafkaJS-style API (types.ts). Every difference between them is
 * handled in this file and nowhere else:
 *
 *   option placement   kafkajs takes options flat; confluent takes them under `kafkaJS: {...}`, with
 *                      librdkafka keys (dotted) beside that block; acks/fromBeginning/autoCommit
 *                      move from send()/subscribe()/run() to the constructors.
 *   partitioner        never used: sluice passes an explicit partition on every message (murmur2.ts).
 *   idempotence        kafkajs serialises produce requests per broker under idempotence (one in
 *                      flight); librdkafka allows ≤ 5 in flight and keeps order itself.
 *   revocation         confluent: an async `rebalance_cb`, awaited before librdkafka unassigns.
 *                      kafkajs has no revoke hook: ConsumerGroup.joinAndSync is wrapped (kafkajs-rejoin.ts) so
 *                      that, before this member rejoins, its revoke callback runs while it still
 *                      owns the partitions; the group cannot hand them to anyone else meanwhile.
 *   after a rejoin     kafkajs re-fetches every partition from the committed offset; confluent
 *                      starts assigned partitions from the committed offset too.
 *   batches            kafkajs: one fetch response per partition; confluent: at most
 *                      `js.consumer.max.batch.size` messages (set from maxBatchSize).
 *   admin results      kafkajs wraps topic metadata in `{ topics }`; confluent returns the array.
 *   errors             kafkajs: `retriable` + error names; confluent: librdkafka codes.
 */
import { createRequire } from 'node:module';
import type * as KafkaJSTypes from 'kafkajs';
import { SluiceError } from '../../core/errors.js';
import type {
  DriverAdmin,
  DriverConsumer,
  DriverConsumerConfig,
  DriverEachBatchPayload,
  DriverKafka,
  DriverMessage,
  DriverProducer,
  DriverProducerConfig,
  DriverTopicSpec,
  KafkaClientConfig,
  KafkaConstructor,
  KafkaDriverChoice,
  TopicPartition,
  TransportLogger,
} from './types.js';
import { silentLogger } from './types.js';
import { deleteRejoinHook, installKafkaJSRejoinHook, rejoinHookKey, setRejoinHook } from './kafkajs-rejoin.js';

const require = createRequire(import.meta.url);

export const KAFKA_DRIVERS: readonly KafkaDriverChoice[] = ['auto', 'confluent', 'kafkajs'];

/**
 * Returns the Kafka constructor for `name`. The confluent driver is an optional dependency with a
 * native build; `auto` takes it when it loads and falls back to kafkajs (pure JS) otherwise.
 */
export function loadKafkaDriver(name: KafkaDriverChoice, load: (id: string) => unknown = require): KafkaConstructor {
  switch (name) {
    case 'auto':
      try {
        return confluentDriver(load);
      } catch (err) {
        if (err instanceof SluiceError && err.code === 'SLUICE_ERR_CONFIG') return kafkajsDriver();
        throw err;
      }
    case 'kafkajs':
      return kafkajsDriver();
    case 'confluent':
      return confluentDriver(load);
    default:
      throw new SluiceError('SLUICE_ERR_CONFIG', `Unknown Kafka driver "${String(name)}": use one of ${KAFKA_DRIVERS.join(', ')}`, {
        context: { configPath: 'transport.driver' },
      });
  }
}

const LEVELS = { error: 1, warn: 2, info: 3, debug: 4 } as const;
type Level = keyof typeof LEVELS;

function logAt(logger: TransportLogger, level: Level, msg: string, extra?: object): void {
  logger[level](msg, extra);
}

/**
 * Error level is for what a person must act on. The drivers log, at error level, conditions they
 * retry by themselves and that are expected on every start against a fresh broker (the offsets
 * topic is being created: "The coordinator is loading…", "The group coordinator is not
 * available") or during a broker restart. Those go to debug (retried quietly) or warn (the broker
 * is unreachable: worth seeing, though retried). What does not recover surfaces anyway, as the
 * failed send or consumer sluice itself reports.
 */
const TRANSIENT_KAFKAJS_TYPES = new Set(['REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION']);
let kafkajsTransientMessages: Set<string> | undefined;

function kafkajsTransient(): Set<string> {
  if (kafkajsTransientMessages) return kafkajsTransientMessages;
  const { errorCodes } = require('kafkajs/src/protocol/error.js') as {
    errorCodes: { type: string; retriable: boolean; message: string }[];
  };
  kafkajsTransientMessages = new Set(errorCodes.filter((e) => e.retriable || TRANSIENT_KAFKAJS_TYPES.has(e.type)).map((e) => e.message));
  return kafkajsTransientMessages;
}

/** The level a kafkajs log line is passed on at. */
export function kafkajsLogLevel(namespace: string, level: Level, message: string, extra: Record<string, unknown> = {}): Level {
  // Bounded retries are deliberate (producer below): a send that gives up surfaces as a retriable
  // error and is retried in order by the caller, so this warning is noise.
  if (message.startsWith('Limiting retries for the idempotent producer')) return 'debug';
  if (LEVELS[level] > LEVELS.warn) return level;
  // A broker's answer carrying an error the client retries (coordinator loading or moving, leader
  // election, rebalance): kafkajs logs each such response at error level.
  if (typeof extra.error === 'string' && kafkajsTransient().has(extra.error)) return 'debug';
  // sluice's consumer reports every crash itself: rejoining (warn) or stopping (error).
  if (namespace === 'Consumer' && (message.startsWith('Crash: ') || message.startsWith('Restarting the consumer'))) return 'info';
  if (message.startsWith('The coordinator is not aware of this member')) return 'info';
  if (
    message.startsWith('Connection error: ') ||
    message.startsWith('Connection timeout') ||
    message.startsWith('Failed to connect to seed broker')
  )
    return 'warn';
  return level;
}

const CONFLUENT_FATAL = /Local: Fatal error|Fatal error:|ERR__FATAL/;
const CONFLUENT_TRANSIENT =
  /Coordinator load in progress|Coordinator not available|Not coordinator|coordinator is loading|Leader not available|Not leader for partition|Rebalance in progress/i;
const CONFLUENT_UNREACHABLE =
  /all broker connections are down|Broker transport failure|Connection refused|Disconnected|Receive failed|Connect to .* failed/i;

/** The level a log line of @confluentinc/kafka-javascript (or librdkafka through it) is passed on at. */
export function confluentLogLevel(level: Level, message: string): Level {
  if (LEVELS[level] > LEVELS.warn) return level;
  if (CONFLUENT_TRANSIENT.test(message)) return 'debug';
  if (CONFLUENT_UNREACHABLE.test(message)) return 'warn';
  return level;
}

/**
 * While a broker is down the drivers repeat the same line many times a second: the first is
 * passed on, repeats within `windowMs` go to debug.
 */
function onceInAWhile(windowMs = 10_000): (level: Level, msg: string) => Level {
  const seen = new Map<string, number>();
  return (level, msg) => {
    if (LEVELS[level] > LEVELS.warn) return level;
    const now = Date.now();
    const last = seen.get(msg);
    if (last !== undefined && now - last < windowMs) return 'debug';
    if (seen.size > 1_000) seen.clear();
    seen.set(msg, now);
    return level;
  };
}

// ---- kafkajs ---------------------------------------------------------------------------------

type KafkaJSModule = typeof KafkaJSTypes;

let kafkajsCtor: KafkaConstructor | undefined;

function kafkajsDriver(): KafkaConstructor {
  if (kafkajsCtor) return kafkajsCtor;
  const kjs = require('kafkajs') as KafkaJSModule;
  installKafkaJSRejoinHook();

  const retriableNames = new Set([
    'KafkaJSConnectionError',
    'KafkaJSConnectionClosedError',
    'KafkaJSRequestTimeoutError',
    'KafkaJSNoBrokerAvailableError',
    'KafkaJSBrokerNotFound',
    'KafkaJSLockTimeout',
    'KafkaJSTimeout',
    'KafkaJSMetadataNotLoaded',
    'KafkaJSTopicMetadataNotLoaded',
    'KafkaJSStaleTopicMetadataAssignment',
    'KafkaJSGroupCoordinatorNotFound',
    'KafkaJSFetcherRebalanceError',
  ]);
  const isRetriable = (err: unknown, depth = 0): boolean => {
    if (!err || typeof err !== 'object' || depth > 5) return false;
    const e = err as { name?: string; retriable?: boolean; cause?: unknown; originalError?: unknown };
    if (e.name === 'KafkaJSNumberOfRetriesExceeded') return isRetriable(e.cause ?? e.originalError, depth + 1) || e.cause === undefined;
    // kafkajs's retry loop wraps the error it stopped retrying on ("bail") in a non-retriable one:
    // the consumer crashes with it when its broker is down for a few seconds. What counts is the
    // cause, as for kafkajs's own restartOnFailure. Without a cause it is a usage error.
    if (e.name === 'KafkaJSNonRetriableError' && e.cause !== undefined) return isRetriable(e.cause, depth + 1);
    if (!e.name?.startsWith('KafkaJS')) return false;
    return retriableNames.has(e.name) || e.retriable === true;
  };

  class KafkaJSKafka implements DriverKafka {
    static readonly driverName = 'kafkajs' as const;
    // kafkajs speaks JoinGroup v0–v4: no group.instance.id.
    static readonly staticMembership = false;
    static isRetriable(err: unknown): boolean {
      return isRetriable(err);
    }
    readonly #kafka: KafkaJSTypes.Kafka;
    readonly #logger: TransportLogger;

    constructor(config: KafkaClientConfig) {
      this.#logger = config.logger ?? silentLogger;
      const logger = this.#logger;
      const names: Record<number, Level> = { 1: 'error', 2: 'warn', 3: 'info', 4: 'debug' };
      this.#kafka = new kjs.Kafka({
        brokers: config.brokers,
        clientId: config.clientId ?? 'sluice',
        ssl: config.ssl ?? false,
        ...(config.sasl ? { sasl: config.sasl as KafkaJSTypes.SASLOptions } : {}),
        ...(config.connectionTimeout !== undefined ? { connectionTimeout: config.connectionTimeout } : {}),
        ...(config.requestTimeout !== undefined ? { requestTimeout: config.requestTimeout } : {}),
        logLevel: LEVELS[config.logLevel ?? 'warn'] as number as KafkaJSTypes.logLevel,
        logCreator: () => {
          const repeat = onceInAWhile();
          return ({ namespace, level, log }) => {
            const { message, ...extra } = log;
            const msg = `kafkajs ${namespace}: ${message}`;
            const lvl = kafkajsLogLevel(namespace, names[level] ?? 'info', message, extra);
            logAt(logger, repeat(lvl, `${msg}${typeof extra.error === 'string' ? ` ${extra.error}` : ''}`), msg, extra);
          };
        },
      });
    }

    producer(config: DriverProducerConfig): DriverProducer {
      // Idempotent: acks=all, sequence numbers, and kafkajs's per-broker lock = one request in
      // flight; retries are bounded by time so an outage surfaces as a retriable error.
      const producer = this.#kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        // Never consulted (every message carries its partition); named to silence kafkajs's v2 notice.
        createPartitioner: kjs.Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
        retry: retriesFor(config.deliveryTimeoutMs),
      });
      return {
        connect: () => producer.connect(),
        disconnect: () => producer.disconnect(),
        async sendBatch(topicMessages) {
          // kafkajs puts all of a request's messages for one partition into one record batch,
          // which the broker rejects above message.max.bytes (1 MiB by default): split the send
          // into requests of at most MAX_PARTITION_BYTES per partition, sent one after another.
          for (const request of chunkByPartitionBytes(topicMessages, MAX_PARTITION_BYTES)) {
            await producer.sendBatch({ acks: -1, topicMessages: request });
          }
        },
      };
    }

    consumer(config: DriverConsumerConfig): DriverConsumer {
      const consumer = this.#kafka.consumer({
        groupId: config.groupId,
        sessionTimeout: config.sessionTimeout,
        heartbeatInterval: config.heartbeatInterval,
        rebalanceTimeout: config.rebalanceTimeout,
        allowAutoTopicCreation: false,
        ...(config.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: config.maxBytesPerPartition } : {}),
        ...(config.maxWaitTimeInMs !== undefined ? { maxWaitTimeInMs: config.maxWaitTimeInMs } : {}),
        // A crash is reported to sluice's consumer, which drains its in-flight work and then rejoins
        // with a new client (or stops): never restarted behind its back.
        retry: { restartOnFailure: async () => false },
      });
      let assigned: TopicPartition[] = [];
      let memberKey: string | undefined;
      const logger = this.#logger;
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        if (memberKey) deleteRejoinHook(memberKey);
        memberKey = rejoinHookKey(config.groupId, payload.memberId);
        setRejoinHook(memberKey, async (group) => {
          const revoked = assigned;
          assigned = [];
          if (revoked.length === 0) return;
          // Heartbeats keep this member's session alive while it finishes its in-flight work; the
          // coordinator answers REBALANCE_IN_PROGRESS, which is expected here.
          const beat = setInterval(() => group.heartbeat({ interval: 0 }).catch(() => {}), config.heartbeatInterval);
          try {
            await config.onRevoke(revoked);
          } catch (err) {
            logger.error('revoke callback failed', { err });
          } finally {
            clearInterval(beat);
          }
        });
        assigned = Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) =>
          (partitions as number[]).map((partition) => ({ topic, partition })),
        );
        config.onAssign(assigned);
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => config.onCrash(payload.error));
      return {
        connect: () => consumer.connect(),
        async disconnect() {
          try {
            await consumer.disconnect();
          } finally {
            if (memberKey) deleteRejoinHook(memberKey);
          }
        },
        subscribe: (topics) => consumer.subscribe({ topics, fromBeginning: config.fromBeginning }),
        run: ({ eachBatch, partitionsConsumedConcurrently }) =>
          consumer.run({
            autoCommit: false,
            eachBatchAutoResolve: false,
            partitionsConsumedConcurrently,
            eachBatch: (p) => eachBatch(p as unknown as DriverEachBatchPayload),
          }),
        commitOffsets: (offsets) => consumer.commitOffsets(offsets),
        seek: (at) => consumer.seek(at),
        // After a crash kafkajs has already stopped the consumer and throws "Consumer group was
        // not initialized" here: there is nothing left to pause.
        pause(tps) {
          try {
            consumer.pause(groupByTopic(tps));
          } catch (err) {
            logger.debug('pause failed', { err });
          }
        },
        resume(tps) {
          try {
            consumer.resume(groupByTopic(tps));
          } catch (err) {
            logger.debug('resume failed', { err });
          }
        },
      };
    }

    admin(): DriverAdmin {
      const admin = this.#kafka.admin();
      return {
        connect: () => admin.connect(),
        disconnect: () => admin.disconnect(),
        listTopics: () => admin.listTopics(),
        createTopics: (topics: DriverTopicSpec[]) => admin.createTopics({ topics, waitForLeaders: true }),
        async fetchTopicMetadata(topics) {
          const { topics: meta } = await admin.fetchTopicMetadata({ topics });
          return meta.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => p.partitionId) }));
        },
        async fetchTopicOffsets(topic) {
          const rows = await admin.fetchTopicOffsets(topic);
          return rows.map((r) => ({ partition: r.partition, low: r.low, high: r.high }));
        },
        async fetchOffsets(groupId, topics) {
          const rows = await admin.fetchOffsets({ groupId, topics });
          return rows.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: p.offset })));
        },
      };
    }
  }
  kafkajsCtor = KafkaJSKafka;
  return KafkaJSKafka;
}

/** kafkajs retries with exponential backoff (×2, capped at maxRetryTime): enough retries to span `ms`. */
function retriesFor(ms: number): { initialRetryTime: number; maxRetryTime: number; retries: number } {
  const initial = 200;
  const max = 5_000;
  let total = 0;
  let retries = 0;
  while (total < ms && retries < 1_000) {
    total += Math.min(max, initial * 2 ** retries);
    retries++;
  }
  return { initialRetryTime: initial, maxRetryTime: max, retries };
}

const MAX_PARTITION_BYTES = 512 * 1024;
const RECORD_OVERHEAD = 32;

type TopicMessages = { topic: string; messages: DriverMessage[] }[];

/** Splits a send into requests, in order, each holding at most `limit` bytes for any one partition. */
export function chunkByPartitionBytes(topicMessages: TopicMessages, limit: number): TopicMessages[] {
  const requests: TopicMessages[] = [];
  let current = new Map<string, DriverMessage[]>();
  let bytes = new Map<string, number>();
  const flush = () => {
    if (current.size > 0) requests.push([...current].map(([topic, messages]) => ({ topic, messages })));
    current = new Map();
    bytes = new Map();
  };
  for (const { topic, messages } of topicMessages) {
    for (const m of messages) {
      const size = (m.key?.length ?? 0) + (m.value?.length ?? 0) + RECORD_OVERHEAD + headerBytes(m.headers);
      const tp = `${topic}\u0000${m.partition}`;
      const used = bytes.get(tp) ?? 0;
      if (used > 0 && used + size > limit) flush();
      bytes.set(tp, (bytes.get(tp) ?? 0) + size);
      let list = current.get(topic);
      if (!list) current.set(topic, (list = []));
      list.push(m);
    }
  }
  flush();
  return requests;
}

function headerBytes(headers: DriverMessage['headers']): number {
  let n = 0;
  for (const k in headers) n += k.length + (headers[k]?.length ?? 0) + 8;
  return n;
}

function groupByTopic(tps: TopicPartition[]): { topic: string; partitions: number[] }[] {
  const by = new Map<string, number[]>();
  for (const { topic, partition } of tps) {
    const list = by.get(topic) ?? [];
    list.push(partition);
    by.set(topic, list);
  }
  return [...by].map(([topic, partitions]) => ({ topic, partitions }));
}

// ---- @confluentinc/kafka-javascript ------------------------------------------------------------

/* The confluent package is optional, so its types are not imported: these are the parts we use. */
interface ConfluentLogger {
  info(m: string, e?: object): void;
  error(m: string, e?: object): void;
  warn(m: string, e?: object): void;
  debug(m: string, e?: object): void;
  namespace(ns: string, level?: number): ConfluentLogger;
  setLogLevel(level: number): void;
}
interface ConfluentKafkaJS {
  Kafka: new (config: object) => {
    producer(config: object): {
      connect(): Promise<void>;
      disconnect(): Promise<void>;
      sendBatch(b: { topicMessages: { topic: string; messages: object[] }[] }): Promise<unknown>;
    };
    consumer(config: object): {
      connect(): Promise<void>;
      disconnect(): Promise<void>;
      subscribe(s: { topics: string[] }): Promise<void>;
      run(c: object): Promise<void>;
      commitOffsets(o: object[]): Promise<void>;
      seek(at: { topic: string; partition: number; offset: string }): void;
      pause(t: { topic: string; partitions: number[] }[]): void;
      resume(t: { topic: string; partitions: number[] }[]): void;
    };
    admin(): {
      connect(): Promise<void>;
      disconnect(): Promise<void>;
      listTopics(): Promise<string[]>;
      createTopics(o: { topics: DriverTopicSpec[]; timeout?: number }): Promise<boolean>;
      fetchTopicMetadata(o: { topics: string[] }): Promise<{ name: string; partitions: { partitionId: number }[] }[]>;
      fetchTopicOffsets(topic: string): Promise<{ partition: number; low: string; high: string }[]>;
      fetchOffsets(o: {
        groupId: string;
        topics: string[];
      }): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
    };
  };
  ErrorCodes: Record<string, number>;
}

let confluentCtor: KafkaConstructor | undefined;

/** Loads the confluent driver; `load` is how the package is required (replaced in tests). */
export function confluentDriver(load: (id: string) => unknown = require): KafkaConstructor {
  if (confluentCtor && load === require) return confluentCtor;
  let ckjs: ConfluentKafkaJS;
  try {
    ckjs = (load('@confluentinc/kafka-javascript') as { KafkaJS: ConfluentKafkaJS }).KafkaJS;
  } catch (err) {
    throw new SluiceError(
      'SLUICE_ERR_CONFIG',
      'transport.driver is "confluent" but @confluentinc/kafka-javascript is not installed (or its native build failed). ' +
        'Install it (npm install @confluentinc/kafka-javascript; README.md says how to build it from source) or set transport.driver: auto or kafkajs.',
      { cause: err, context: { configPath: 'transport.driver' } },
    );
  }
  const codes = ckjs.ErrorCodes;
  const retriableCodes = new Set(
    [
      'ERR__TRANSPORT',
      'ERR__MSG_TIMED_OUT',
      'ERR__ALL_BROKERS_DOWN',
      'ERR__TIMED_OUT',
      'ERR__QUEUE_FULL',
      'ERR__TIMED_OUT_QUEUE',
      'ERR__RESOLVE',
      'ERR__WAIT_COORD',
      'ERR__UNKNOWN_PARTITION',
      'ERR__PARTITION_EOF',
      'ERR_NOT_LEADER_FOR_PARTITION',
      'ERR_LEADER_NOT_AVAILABLE',
      'ERR_REQUEST_TIMED_OUT',
      'ERR_NOT_ENOUGH_REPLICAS',
      'ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND',
      'ERR_NOT_COORDINATOR',
      'ERR_COORDINATOR_NOT_AVAILABLE',
      'ERR_COORDINATOR_LOAD_IN_PROGRESS',
      'ERR_REBALANCE_IN_PROGRESS',
      'ERR_NETWORK_EXCEPTION',
      'ERR_UNKNOWN_TOPIC_OR_PART',
      'ERR_ILLEGAL_GENERATION',
      'ERR_UNKNOWN_MEMBER_ID',
      'ERR__STATE',
    ]
      .map((n) => codes[n])
      .filter((c): c is number => typeof c === 'number'),
  );
  const isRetriable = (err: unknown): boolean => {
    if (!err || typeof err !== 'object') return false;
    const e = err as { code?: unknown; fatal?: boolean; retriable?: boolean; errors?: unknown[] };
    if (e.fatal) return false;
    if (Array.isArray(e.errors) && e.errors.length > 0) return e.errors.every((x) => isRetriable(x));
    return (typeof e.code === 'number' && retriableCodes.has(e.code)) || e.retriable === true;
  };

  class ConfluentKafka implements DriverKafka {
    static readonly driverName = 'confluent' as const;
    static readonly staticMembership = true;
    static isRetriable(err: unknown): boolean {
      return isRetriable(err);
    }
    readonly #kafka: InstanceType<ConfluentKafkaJS['Kafka']>;
    readonly #logger: TransportLogger;
    readonly #fatalListeners = new Set<(err: Error) => void>();

    constructor(config: KafkaClientConfig) {
      this.#logger = config.logger ?? silentLogger;
      const level = LEVELS[config.logLevel ?? 'warn'];
      // The client never reports a fatal error to the application (a consumer fenced by another
      // with the same group.instance.id, say): it logs it and retries for ever, consuming nothing.
      // Its log is the only place it shows, so the consumer's crash callback is fed from there.
      const tap: LogTap = (msg, extra) => {
        if (this.#fatalListeners.size === 0 || !CONFLUENT_FATAL.test(msg)) return;
        const client = String((extra as { name?: unknown } | undefined)?.name ?? '');
        if (client !== '' && !client.includes('#consumer-')) return;
        const err = Object.assign(new Error(`the client reported a fatal error: ${msg.slice(0, 300)}`), {
          code: codes.ERR__FATAL ?? -150,
          fatal: true,
        });
        for (const l of this.#fatalListeners) l(err);
      };
      this.#kafka = new ckjs.Kafka({
        kafkaJS: {
          brokers: config.brokers,
          clientId: config.clientId ?? 'sluice',
          ssl: config.ssl ?? false,
          ...(config.sasl ? { sasl: config.sasl } : {}),
          ...(config.connectionTimeout !== undefined ? { connectionTimeout: config.connectionTimeout } : {}),
          ...(config.requestTimeout !== undefined ? { requestTimeout: config.requestTimeout } : {}),
          logLevel: level,
          logger: confluentLogger(this.#logger, level, tap),
        },
      });
    }

    producer(config: DriverProducerConfig): DriverProducer {
      const producer = this.#kafka.producer({
        kafkaJS: { idempotent: true, acks: -1, maxInFlightRequests: 5, allowAutoTopicCreation: false, retry: { retries: 2_147_483_647 } },
        // Idempotence: librdkafka keeps order with ≤ 5 requests in flight per connection and
        // retries until message.timeout.ms, after which the send fails (retriable).
        'message.timeout.ms': config.deliveryTimeoutMs,
        'linger.ms': 5,
        'queue.buffering.max.messages': 1_000_000,
      });
      return {
        connect: () => producer.connect(),
        disconnect: () => producer.disconnect(),
        async sendBatch(topicMessages) {
          // The confluent client mutates the message objects it is given; hand it copies.
          await producer.sendBatch({
            topicMessages: topicMessages.map(({ topic, messages }) => ({
              topic,
              messages: messages.map((m: DriverMessage) => ({ key: m.key, value: m.value, partition: m.partition, headers: m.headers })),
            })),
          });
        },
      };
    }

    consumer(config: DriverConsumerConfig): DriverConsumer {
      const logger = this.#logger;
      let crashed = false;
      const onFatal = (err: Error) => {
        if (crashed) return;
        crashed = true;
        // With static membership the id is held by this process alone (member-slot.ts), so a fence
        // can only come from the group's own view of this member, which a broker restart can leave
        // stale under load: a new client rejoining with the same id recovers (the consumer gives
        // up after its rejoin timeout if it keeps failing).
        config.onCrash(
          config.groupInstanceId
            ? new SluiceError('SLUICE_ERR_TRANSPORT', `Kafka consumer failed (confluent): ${err.message}; rejoining with a new client`, {
                retriable: true,
                cause: err,
                context: { groupId: config.groupId },
              })
            : err,
        );
      };
      const consumer = this.#kafka.consumer({
        kafkaJS: {
          groupId: config.groupId,
          fromBeginning: config.fromBeginning,
          autoCommit: false,
          sessionTimeout: config.sessionTimeout,
          heartbeatInterval: config.heartbeatInterval,
          rebalanceTimeout: config.rebalanceTimeout,
          allowAutoTopicCreation: false,
          ...(config.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: config.maxBytesPerPartition } : {}),
          ...(config.maxWaitTimeInMs !== undefined ? { maxWaitTimeInMs: config.maxWaitTimeInMs } : {}),
        },
        'js.consumer.max.batch.size': config.maxBatchSize,
        // Static membership (KIP-345): a member that comes back under the same id within the
        // session timeout gets its partitions back at once, without a rebalance.
        ...(config.groupInstanceId ? { 'group.instance.id': config.groupInstanceId } : {}),
        // Awaited by the client before it unassigns (eager protocol: roundrobin, the default).
        rebalance_cb: async (err: { code: number }, assignment: { topic: string; partition: number }[]) => {
          const tps = assignment.map(({ topic, partition }) => ({ topic, partition }));
          if (err.code === codes.ERR__ASSIGN_PARTITIONS) {
            config.onAssign(tps);
          } else if (err.code === codes.ERR__REVOKE_PARTITIONS) {
            try {
              await config.onRevoke(tps);
            } catch (e) {
              logger.error('revoke callback failed', { err: e });
            }
          }
        },
      });
      const fatalListeners = this.#fatalListeners;
      return {
        async connect() {
          fatalListeners.add(onFatal);
          await consumer.connect();
        },
        async disconnect() {
          fatalListeners.delete(onFatal);
          await consumer.disconnect();
        },
        subscribe: (topics) => consumer.subscribe({ topics }),
        run: ({ eachBatch, partitionsConsumedConcurrently }) =>
          consumer.run({ eachBatchAutoResolve: false, partitionsConsumedConcurrently, eachBatch }),
        commitOffsets: (offsets) => consumer.commitOffsets(offsets),
        seek: (at) => consumer.seek(at),
        pause(tps) {
          try {
            consumer.pause(groupByTopic(tps));
          } catch (err) {
            logger.debug('pause failed', { err });
          }
        },
        resume(tps) {
          try {
            consumer.resume(groupByTopic(tps));
          } catch (err) {
            logger.debug('resume failed', { err });
          }
        },
      };
    }

    admin(): DriverAdmin {
      const admin = this.#kafka.admin();
      return {
        connect: () => admin.connect(),
        disconnect: () => admin.disconnect(),
        listTopics: () => admin.listTopics(),
        async createTopics(topics) {
          try {
            return await admin.createTopics({ topics });
          } catch (err) {
            // Another process created it between our listTopics and createTopics.
            const errors = (err as { errors?: { code?: number }[] }).errors;
            if (
              (err as { code?: number }).code === codes.ERR_TOPIC_ALREADY_EXISTS ||
              errors?.every((e) => e.code === codes.ERR_TOPIC_ALREADY_EXISTS)
            )
              return false;
            throw err;
          }
        },
        async fetchTopicMetadata(topics) {
          const meta = await admin.fetchTopicMetadata({ topics });
          return meta.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => p.partitionId) }));
        },
        async fetchTopicOffsets(topic) {
          const rows = await admin.fetchTopicOffsets(topic);
          return rows.map((r) => ({ partition: r.partition, low: String(r.low), high: String(r.high) }));
        },
        async fetchOffsets(groupId, topics) {
          const rows = await admin.fetchOffsets({ groupId, topics });
          return rows.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: String(p.offset) })));
        },
      };
    }
  }
  if (load === require) confluentCtor = ConfluentKafka;
  return ConfluentKafka;
}

type LogTap = (msg: string, extra: object | undefined) => void;

function confluentLogger(target: TransportLogger, level: number, tap: LogTap, ns = 'confluent', repeat = onceInAWhile()): ConfluentLogger {
  let current = level;
  const at = (l: Level) => (msg: string, extra?: object) => {
    tap(msg, extra);
    if (LEVELS[l] <= current) {
      const line = `${ns}: ${msg}`;
      logAt(target, repeat(confluentLogLevel(l, msg), line), line, extra);
    }
  };
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    namespace: (name: string, l?: number) => confluentLogger(target, l ?? current, tap, `${ns} ${name}`, repeat),
    setLogLevel: (l: number) => {
      current = Math.min(l, level);
    },
  };
}
