// driver.ts: the missing optional driver is a config error naming its key; kafkajs requests are
// split so no partition's record batch exceeds the broker's message.max.bytes; error classification;
// a consumer after a crash; the level each driver's log lines are passed on at; static membership.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSluiceError } from '../../src/core/errors.js';
import {
  chunkByPartitionBytes,
  confluentDriver,
  confluentLogLevel,
  kafkajsLogLevel,
  loadKafkaDriver,
} from '../../src/transport/kafka/driver.js';
import type { DriverMessage } from '../../src/transport/kafka/types.js';

test('confluent driver not installed: SLUICE_ERR_CONFIG naming transport.driver', () => {
  const missing = () => {
    throw Object.assign(new Error("Cannot find module '@confluentinc/kafka-javascript'"), { code: 'MODULE_NOT_FOUND' });
  };
  assert.throws(
    () => confluentDriver(missing),
    (err: unknown) =>
      isSluiceError(err, 'SLUICE_ERR_CONFIG') && err.context.configPath === 'transport.driver' && /transport\.driver/.test(err.message),
  );
});

test('auto: confluent where it loads, kafkajs (pure JS) where it does not', () => {
  const missing = () => {
    throw Object.assign(new Error("Cannot find module '@confluentinc/kafka-javascript'"), { code: 'MODULE_NOT_FOUND' });
  };
  assert.equal(loadKafkaDriver('auto', missing).driverName, 'kafkajs');
  let installed = true;
  try {
    confluentDriver();
  } catch {
    installed = false;
  }
  assert.equal(loadKafkaDriver('auto').driverName, installed ? 'confluent' : 'kafkajs');
});

test('an unknown driver name is a config error', () => {
  assert.throws(
    () => loadKafkaDriver('rdkafka' as 'kafkajs'),
    (err: unknown) => isSluiceError(err, 'SLUICE_ERR_CONFIG'),
  );
});

test('kafkajs errors: connection trouble and exhausted retries of it are retriable, the rest not', () => {
  const K = loadKafkaDriver('kafkajs');
  const named = (name: string, extra: object = {}) => Object.assign(new Error(name), { name, ...extra });
  assert.equal(K.isRetriable(named('KafkaJSConnectionError', { retriable: true })), true);
  assert.equal(K.isRetriable(named('KafkaJSNumberOfRetriesExceeded', { retriable: false, cause: named('KafkaJSConnectionError') })), true);
  assert.equal(K.isRetriable(named('KafkaJSProtocolError', { retriable: false, type: 'MESSAGE_TOO_LARGE' })), false);
  assert.equal(K.isRetriable(named('KafkaJSNonRetriableError', { retriable: false })), false);
  // What a kafkajs consumer crashes with when its broker is down for a few seconds.
  assert.equal(
    K.isRetriable(named('KafkaJSNonRetriableError', { retriable: false, cause: named('KafkaJSConnectionError', { retriable: true }) })),
    true,
  );
  assert.equal(
    K.isRetriable(named('KafkaJSNonRetriableError', { retriable: false, cause: named('KafkaJSProtocolError', { retriable: false }) })),
    false,
  );
  assert.equal(K.isRetriable(new TypeError('x')), false);
});

test('kafkajs requests are split at the per-partition byte limit, in order, losing nothing', () => {
  const msg = (partition: number, i: number, size: number): DriverMessage => ({
    key: Buffer.from(`k${i}`),
    value: Buffer.alloc(size, i % 256),
    partition,
  });
  const input = [
    { topic: 'a', messages: Array.from({ length: 300 }, (_, i) => msg(i % 3, i, 1000)) },
    { topic: 'b', messages: Array.from({ length: 50 }, (_, i) => msg(0, 1000 + i, 5000)) },
  ];
  const limit = 64 * 1024;
  const requests = chunkByPartitionBytes(input, limit);
  assert.ok(requests.length > 1);
  for (const req of requests) {
    const bytes = new Map<string, number>();
    for (const { topic, messages } of req)
      for (const m of messages) bytes.set(`${topic}/${m.partition}`, (bytes.get(`${topic}/${m.partition}`) ?? 0) + m.value!.length);
    for (const [tp, n] of bytes) assert.ok(n <= limit, `${tp}: ${n} bytes in one request`);
  }
  for (const topic of ['a', 'b']) {
    const flat = requests.flatMap((req) => req.filter((t) => t.topic === topic).flatMap((t) => t.messages));
    assert.deepEqual(flat, input.find((t) => t.topic === topic)!.messages, `${topic}: every message, in order`);
  }
  // A single record larger than the limit still goes, alone.
  assert.equal(chunkByPartitionBytes([{ topic: 'c', messages: [msg(0, 1, limit * 2)] }], limit).length, 1);
});

test('kafkajs: pause and resume of a consumer that is not running (as after a crash) do not throw', () => {
  const K = loadKafkaDriver('kafkajs');
  const consumer = new K({ brokers: ['127.0.0.1:1'] }).consumer({
    groupId: 'g',
    fromBeginning: true,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    rebalanceTimeout: 20_000,
    maxBatchSize: 100,
    onAssign: () => {},
    onRevoke: async () => {},
    onCrash: () => {},
  });
  assert.doesNotThrow(() => consumer.pause([{ topic: 't', partition: 0 }]));
  assert.doesNotThrow(() => consumer.resume([{ topic: 't', partition: 0 }]));
});

test('log levels: what the drivers retry by themselves is not logged as an error', () => {
  // The two lines every start against a fresh broker printed at error level, verbatim.
  const fresh = [
    [
      'Connection',
      'Response InitProducerId(key: 22, version: 1)',
      { error: "The coordinator is loading and hence can't process requests for this group" },
    ],
    ['Connection', 'Response GroupCoordinator(key: 10, version: 2)', { error: 'The group coordinator is not available' }],
    ['Connection', 'Response Heartbeat(key: 12, version: 3)', { error: 'The group is rebalancing, so a rejoin is needed' }],
  ] as const;
  for (const [ns, msg, extra] of fresh) assert.equal(kafkajsLogLevel(ns, 'error', msg, { ...extra }), 'debug', `${msg}: ${extra.error}`);
  assert.equal(kafkajsLogLevel('Connection', 'error', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092'), 'warn');
  assert.equal(
    kafkajsLogLevel('Consumer', 'error', 'Crash: KafkaJSNoBrokerAvailableError: No broker available'),
    'info',
    'sluice reports the crash itself',
  );
  // What a person must act on stays an error.
  assert.equal(
    kafkajsLogLevel('Connection', 'error', 'Response Produce(key: 0, version: 7)', {
      error: 'The request included a message larger than the max message size the server will accept',
    }),
    'error',
  );
  assert.equal(
    kafkajsLogLevel('Connection', 'error', 'Response SaslAuthenticate(key: 36, version: 1)', {
      error: 'Request is not valid given the current SASL state',
    }),
    'error',
  );

  assert.equal(
    confluentLogLevel(
      'warn',
      '[thrd:main]: Failed to acquire idempotence PID from broker 127.0.0.1:11977/1: Broker: Coordinator load in progress: retrying',
    ),
    'debug',
  );
  assert.equal(confluentLogLevel('error', 'Error: all broker connections are down'), 'warn');
  assert.equal(confluentLogLevel('error', 'Error: Broker: Topic authorization failed'), 'error');
});

/** A stand-in for @confluentinc/kafka-javascript that records what the driver hands it. */
function fakeConfluent() {
  const made: { consumerConfig?: Record<string, unknown>; logger?: { error(m: string, e?: object): void } } = {};
  const client = {
    connect: async () => {},
    disconnect: async () => {},
    subscribe: async () => {},
    run: async () => {},
    commitOffsets: async () => {},
    pause() {},
    resume() {},
  };
  class Kafka {
    constructor(config: { kafkaJS: { logger: { error(m: string, e?: object): void } } }) {
      made.logger = config.kafkaJS.logger;
    }
    consumer(config: Record<string, unknown>) {
      made.consumerConfig = config;
      return client;
    }
    producer() {
      return client;
    }
    admin() {
      return client;
    }
  }
  const load = () => ({ KafkaJS: { Kafka, ErrorCodes: { ERR__FATAL: -150, ERR__TRANSPORT: -195 } } });
  return { load, made };
}

test('confluent: group.instance.id is passed on, and a fatal error the client only logs reaches onCrash once, as retriable (a new client rejoins with the id this process holds)', async () => {
  const { load, made } = fakeConfluent();
  const K = confluentDriver(load);
  assert.equal(K.staticMembership, true);
  assert.equal(loadKafkaDriver('kafkajs').staticMembership, false);
  const crashes: unknown[] = [];
  const consumer = new K({ brokers: ['127.0.0.1:1'] }).consumer({
    groupId: 'g',
    fromBeginning: true,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    rebalanceTimeout: 20_000,
    maxBatchSize: 100,
    groupInstanceId: 'sluice-host-0',
    onAssign: () => {},
    onRevoke: async () => {},
    onCrash: (e) => void crashes.push(e),
  });
  assert.equal(made.consumerConfig!['group.instance.id'], 'sluice-host-0');
  await consumer.connect();
  made.logger!.error('Error: all broker connections are down', { name: 'sluice-consumer#consumer-2' });
  assert.equal(crashes.length, 0, 'a transient error is no crash');
  // What the client logs, and only logs, when another member took over its group.instance.id.
  made.logger!.error(
    'Consumer encountered error while consuming. Retrying. Error details: KafkaJSError: Local: Fatal error : Error: Local: Fatal error',
    { name: 'sluice-consumer#consumer-2' },
  );
  made.logger!.error(
    'Consumer encountered error while consuming. Retrying. Error details: KafkaJSError: Local: Fatal error : Error: Local: Fatal error',
    { name: 'sluice-consumer#consumer-2' },
  );
  assert.equal(crashes.length, 1, 'reported once');
  assert.equal((crashes[0] as { retriable?: boolean }).retriable, true);
  await consumer.disconnect();
});
