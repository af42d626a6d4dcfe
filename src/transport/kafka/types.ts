/**
 * The Kafka transport's own types: the records it carries, and the narrow KafkaJS-style client API
 * that driver.ts implements for each driver (kafkajs, @confluentinc/kafka-javascript). Everything
 * above driver.ts is written against these interfaces only, so the two drivers can't drift apart.
 */

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A record to produce. The partition is computed by sluice (Java murmur2 of `key`), never by a driver. */
export interface ProduceRecord {
  readonly topic: string;
  readonly key: Buffer;
  readonly value: Buffer | null;
  readonly headers?: Readonly<Record<string, Buffer | string>>;
}

/** A record as the consumer hands it to the handler. `offset` is the int64 offset as a decimal string. */
export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Header values as the driver gives them: an array when a key repeats. */
  readonly headers: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;
  /** Milliseconds since the epoch, as a decimal string (Kafka's record timestamp). */
  readonly timestamp: string;
}

/** Per partition: what the group has committed against what the broker holds. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** The group's committed offset (the next record to apply); -1 when nothing is committed yet. */
  readonly committed: bigint;
  /** The partition's high watermark: the offset the next produced record will get. */
  readonly highWatermark: bigint;
  /** Records not yet committed: highWatermark − max(committed, low watermark). */
  readonly lag: bigint;
}

/** The logger the transport writes through (pino-compatible shape); the drivers' own logs go here too. */
export interface TransportLogger {
  debug(msg: string, extra?: object): void;
  info(msg: string, extra?: object): void;
  warn(msg: string, extra?: object): void;
  error(msg: string, extra?: object): void;
}

export const silentLogger: TransportLogger = { debug() {}, info() {}, warn() {}, error() {} };

// ---- The driver API: a KafkaJS-shaped subset, identical for both drivers -------------------------

export interface KafkaClientConfig {
  brokers: string[];
  clientId?: string;
  ssl?: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** Connection and request timeouts in ms (driver defaults when absent). */
  connectionTimeout?: number;
  requestTimeout?: number;
  logger?: TransportLogger;
  /** Lowest level passed to `logger` from the drivers' own logs (default: warn). */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

export interface DriverMessage {
  key: Buffer | null;
  value: Buffer | null;
  partition: number;
  headers?: Record<string, Buffer | string>;
}

export interface DriverProducerConfig {
  /** How long one send may keep retrying inside the driver before it fails (ms). */
  deliveryTimeoutMs: number;
}

export interface DriverProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Resolves when the broker acknowledged (acks=all) every message; rejects otherwise. */
  sendBatch(topicMessages: { topic: string; messages: DriverMessage[] }[]): Promise<void>;
}

export interface DriverBatch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: {
    key: Buffer | null;
    value: Buffer | null;
    offset: string;
    timestamp: string;
    headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  }[];
}

export interface DriverEachBatchPayload {
  batch: DriverBatch;
  /** Marks the fetch position: the driver fetches after this offset next. Not a commit. */
  resolveOffset(offset: string): void;
  /** Keeps the group membership alive while busy; rejects when the group is rebalancing. */
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

export interface DriverConsumerConfig {
  groupId: string;
  fromBeginning: boolean;
  sessionTimeout: number;
  heartbeatInterval: number;
  rebalanceTimeout: number;
  /** Most records per eachBatch call where the driver lets us choose (confluent). */
  maxBatchSize: number;
  maxBytesPerPartition?: number;
  maxWaitTimeInMs?: number;
  /** group.instance.id (static membership), where the driver supports it (`staticMembership`). */
  groupInstanceId?: string;
  /**
   * Awaited before `partitions` leave this member (both drivers use the eager protocol: every
   * assigned partition is revoked at each rebalance). The group waits, up to the rebalance
   * timeout, so in-flight work can finish and be committed before another member takes over.
   */
  onRevoke(partitions: TopicPartition[]): Promise<void>;
  onAssign(partitions: TopicPartition[]): void;
  /**
   * The driver's consumer is gone (kafkajs crash, after kafkajs stopped it; confluent fatal
   * error): nothing more comes from it, and it can only be disconnected.
   */
  onCrash(err: unknown): void;
}

export interface DriverConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(topics: string[]): Promise<void>;
  /**
   * Starts fetching; eachBatch is called per partition batch; offsets are never auto-committed.
   * With kafkajs it resolves once the group is joined, or after onCrash if the join failed.
   */
  run(opts: { eachBatch: (payload: DriverEachBatchPayload) => Promise<void>; partitionsConsumedConcurrently: number }): Promise<void>;
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
  /** The next fetch of this partition starts at `offset` (after run(); a partition not yet assigned takes it on assignment). */
  seek(at: TopicPartition & { offset: string }): void;
  /** Never throws (a consumer that crashed has nothing left to pause). */
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
}

export interface DriverTopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  configEntries?: { name: string; value: string }[];
}

export interface DriverAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(): Promise<string[]>;
  /** Resolves false when a topic already existed (no error), true when all were created. */
  createTopics(topics: DriverTopicSpec[]): Promise<boolean>;
  fetchTopicMetadata(topics: string[]): Promise<{ name: string; partitions: number[] }[]>;
  fetchTopicOffsets(topic: string): Promise<{ partition: number; low: string; high: string }[]>;
  fetchOffsets(groupId: string, topics: string[]): Promise<{ topic: string; partition: number; offset: string }[]>;
}

export interface DriverKafka {
  producer(config: DriverProducerConfig): DriverProducer;
  consumer(config: DriverConsumerConfig): DriverConsumer;
  admin(): DriverAdmin;
}

export type KafkaDriverName = 'kafkajs' | 'confluent';
/** What config may name: a driver, or `auto` (confluent where it is installed, else kafkajs). */
export type KafkaDriverChoice = KafkaDriverName | 'auto';

/** What loadKafkaDriver returns: a constructor, plus how this driver's errors are classified. */
export interface KafkaConstructor {
  new (config: KafkaClientConfig): DriverKafka;
  readonly driverName: KafkaDriverName;
  /** Whether consumers can take a group.instance.id (static membership, KIP-345). */
  readonly staticMembership?: boolean;
  /** True when trying again later can help (broker unreachable, leader moving, timeouts). */
  isRetriable(err: unknown): boolean;
}
