/**
 * Options of the Kafka transport's producer and consumer, with their defaults and the reason for each.
 */
import { loadKafkaDriver } from './driver.js';
import type { DriverKafka, KafkaClientConfig, KafkaConstructor, KafkaDriverChoice } from './types.js';

/** How to reach the cluster, and through which driver (config: transport.*). */
export interface KafkaConnectionOptions extends KafkaClientConfig {
  /** 'auto' (default: confluent where installed, else kafkajs), 'confluent', 'kafkajs', or an already loaded driver. */
  driver?: KafkaDriverChoice | KafkaConstructor;
}

export function resolveDriver(opts: KafkaConnectionOptions): KafkaConstructor {
  const d = opts.driver ?? 'auto';
  return typeof d === 'string' ? loadKafkaDriver(d) : d;
}

/** Only the connection part of a producer's or consumer's options. */
export function connectionOf(opts: KafkaConnectionOptions): KafkaConnectionOptions {
  const { driver, brokers, clientId, ssl, sasl, connectionTimeout, requestTimeout, logger, logLevel } = opts;
  return Object.fromEntries(
    Object.entries({ driver, brokers, clientId, ssl, sasl, connectionTimeout, requestTimeout, logger, logLevel }).filter(
      ([, v]) => v !== undefined,
    ),
  ) as unknown as KafkaConnectionOptions;
}

export function connect(opts: KafkaConnectionOptions, clientSuffix?: string): { Kafka: KafkaConstructor; kafka: DriverKafka } {
  const Kafka = resolveDriver(opts);
  const { driver: _driver, ...config } = connectionOf(opts);
  const clientId = `${config.clientId ?? 'sluice'}${clientSuffix ? `-${clientSuffix}` : ''}`;
  return { Kafka, kafka: new Kafka({ ...config, clientId }) };
}

export interface ProducerOptions extends KafkaConnectionOptions {
  /**
   * How long the driver keeps retrying one send (broker restart, leader election) before it fails
   * with a retriable error. Default 120 s.
   */
  deliveryTimeoutMs?: number;
}

export interface ConsumerOptions<R = unknown> extends KafkaConnectionOptions {
  groupId: string;
  topics: readonly string[];
  /** Applies a batch of records; see KeyScheduler for ordering and failure semantics. */
  handler: (records: R[]) => Promise<void>;
  /** Batches run in parallel, across keys; per-key order is always kept. Default 16. */
  concurrency?: number;
  /** Lanes keys are hashed into (≥ concurrency). More lanes, less head-of-line blocking. Default: concurrency. */
  lanes?: number;
  /** Most records per handler call. Default 500. */
  maxBatchSize?: number;
  /** Records fetched but not yet applied before fetching pauses. Default 10 000. */
  maxInFlight?: number;
  /** How often completed work is committed (also on revoke and stop). Default 1 000 ms. */
  commitIntervalMs?: number;
  /** How long a revoke or stop waits for in-flight batches before abandoning them. Default 10 000 ms. */
  drainTimeoutMs?: number;
  /** Start from the earliest offset when the group has no committed offset. Default true. */
  fromBeginning?: boolean;
  /** Retries of a batch whose handler failed with a retriable error (core/retry backoff). Default: unbounded. */
  handlerRetries?: number;
  handlerRetryInitialMs?: number;
  handlerRetryMaxMs?: number;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  rebalanceTimeout?: number;
  maxBytesPerPartition?: number;
  maxWaitTimeInMs?: number;
  /**
   * group.instance.id, for drivers that support static membership (confluent). Default: the host
   * name and a slot number free on this host (member-slot.ts); false: dynamic membership.
   */
  groupInstanceId?: string | false;
  /**
   * After a crash the driver reports as retriable (broker restart, coordinator moved), how long
   * the consumer keeps trying to rejoin the group before `done` rejects. Default 300 000 ms.
   */
  rejoinTimeoutMs?: number;
}

export const CONSUMER_DEFAULTS = {
  concurrency: 16,
  maxBatchSize: 500,
  maxInFlight: 10_000,
  commitIntervalMs: 1_000,
  drainTimeoutMs: 10_000,
  fromBeginning: true,
  handlerRetries: Number.MAX_SAFE_INTEGER,
  handlerRetryInitialMs: 100,
  handlerRetryMaxMs: 10_000,
  // The session timeout is how long the partitions of a member that died (kill -9) wait before
  // another member, or the restarted process, gets them: 10 s, not kafkajs's 30 s. With
  // static membership (confluent) a restarted member takes them back at once; the timeout then
  // only matters for a member that does not come back. Above the brokers' 6 s minimum, with a
  // heartbeat every second so a busy machine misses several before the session ends. The
  // rebalance timeout bounds how long the group waits for this member to drain before it rejoins.
  sessionTimeout: 10_000,
  heartbeatInterval: 1_000,
  rebalanceTimeout: 60_000,
  rejoinTimeoutMs: 300_000,
  // How long a fetch waits on the broker for data (Java's fetch.max.wait.ms). kafkajs defaults to
  // 5 s, which also delays every stop and rejoin by up to that long.
  maxWaitTimeInMs: 500,
} as const;
