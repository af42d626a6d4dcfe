/**
 * Kafka transport. Producer: ChangeEvent records (key = primary key bytes) → partition = Java murmur2
 * of the key → acks=all idempotent send, resolved only when the broker acknowledged all of it.
 * Consumer: group fetch → OffsetTracker (what is safe to commit) → KeyScheduler (same key, same lane,
 * in order; lanes in parallel beyond the partition count) → handler → commit of the lowest offset not
 * yet applied. Rebalance: drop queued, drain running, commit, hand over. Drivers: kafkajs | confluent.
 */
export { loadKafkaDriver, KAFKA_DRIVERS } from './driver.js';
export { murmur2, partitionFor } from './murmur2.js';
export { ensureTopics, fetchLag, openLagReader, type LagReader, type TopicSpec, type EnsureTopicsResult } from './admin.js';
export { KafkaProducer } from './producer.js';
export { openTopicReader, READER_GROUP_PREFIX, type TopicReader, type OffsetRange, type PartitionOffsets } from './topic-reader.js';
export { KafkaConsumer, type PartitionPosition } from './consumer.js';
export { OffsetTracker } from './offset-tracker.js';
export { KeyScheduler, laneHash, type KeySchedulerOptions } from './key-scheduler.js';
export { CONSUMER_DEFAULTS, type ConsumerOptions, type ProducerOptions, type KafkaConnectionOptions } from './options.js';
export { TRANSPORT_ERROR_CODE } from './errors.js';
export {
  silentLogger,
  type ConsumedRecord,
  type KafkaConstructor,
  type KafkaDriverName,
  type KafkaDriverChoice,
  type PartitionLag,
  type ProduceRecord,
  type TopicPartition,
  type TransportLogger,
} from './types.js';
