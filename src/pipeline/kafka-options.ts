/** The Kafka client and consumer-group settings a config names, for the pipeline, check and reconcile. */
import type { Logger } from 'pino';
import type { KafkaConfig, SluiceConfig } from '../config/schema.js';
import { loadKafkaDriver, type KafkaConnectionOptions, type KafkaConstructor, type TransportLogger } from '../transport/kafka/index.js';

/** The driver is loaded here, once, so that `auto` is decided before any client starts. */
export function kafkaConnection(k: KafkaConfig, log?: Logger): KafkaConnectionOptions & { driver: KafkaConstructor } {
  return {
    brokers: k.brokers,
    clientId: k.clientId,
    driver: loadKafkaDriver(k.driver),
    ssl: k.ssl,
    ...(log ? { logger: transportLogger(log.child({ stage: 'kafka' })) } : {}),
    ...(k.sasl ? { sasl: { mechanism: k.sasl.mechanism, username: k.sasl.username, password: k.sasl.password } } : {}),
  } as KafkaConnectionOptions & { driver: KafkaConstructor };
}

/** The consumer group's settings from `apply` and `transport.consumer`. */
export function consumerOptions(cfg: SluiceConfig, k: KafkaConfig) {
  const c = k.consumer;
  return {
    groupId: k.groupId ?? `sluice-${cfg.name}`,
    concurrency: cfg.apply.concurrency,
    maxBatchSize: cfg.apply.batchSize,
    lanes: Math.max(c.lanes ?? cfg.apply.concurrency, cfg.apply.concurrency),
    maxInFlight: c.maxInFlight,
    commitIntervalMs: c.commitIntervalMs,
    drainTimeoutMs: c.drainTimeoutMs,
    sessionTimeout: c.sessionTimeoutMs,
    heartbeatInterval: c.heartbeatIntervalMs,
    rebalanceTimeout: c.rebalanceTimeoutMs,
    maxWaitTimeInMs: c.maxWaitMs,
    fromBeginning: c.fromBeginning,
    ...(c.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: c.maxBytesPerPartition } : {}),
  };
}

export function registryAuth(cfg: SluiceConfig): { token: string } | { username: string; password: string } | undefined {
  return cfg.registry.token
    ? { token: cfg.registry.token }
    : cfg.registry.username
      ? { username: cfg.registry.username, password: cfg.registry.password ?? '' }
      : undefined;
}

/** pino takes (object, message); the transport's logger (message, object). */
function transportLogger(log: Logger): TransportLogger {
  return {
    debug: (msg, extra) => log.debug(extra ?? {}, msg),
    info: (msg, extra) => log.info(extra ?? {}, msg),
    warn: (msg, extra) => log.warn(extra ?? {}, msg),
    error: (msg, extra) => log.error(extra ?? {}, msg),
  };
}
