// KafkaConsumer when its driver's client crashes, against a stub driver that behaves as kafkajs does
// after a crash: the client has already stopped itself, and pause() throws "Consumer group was not
// initialized" (the broker-restart race: that throw used to become an unhandled rejection, `done`
// never settled and pipeline.stop() waited for ever). No broker needed.
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { isSluiceError } from '../../src/core/errors.js';
import { KafkaConsumer, type ConsumedRecord, type KafkaConstructor, type TransportLogger } from '../../src/transport/kafka/index.js';
import type { DriverConsumer, DriverConsumerConfig, DriverEachBatchPayload, DriverKafka } from '../../src/transport/kafka/types.js';

const TOPIC = 't';
const NOT_INITIALIZED = 'Consumer group was not initialized, consumer#run must be called first';

const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => void unhandled.push(err);
process.on('unhandledRejection', onUnhandled);
after(() => void process.off('unhandledRejection', onUnhandled));

/** Rejects as soon as a promise rejection goes unhandled, so the race fails the test instead of hanging it. */
function noUnhandledRejection(): { promise: Promise<never>; dispose(): void } {
  let listener!: (err: unknown) => void;
  const promise = new Promise<never>((_, reject) => {
    listener = (err) => reject(new Error(`unhandled rejection: ${String(err)}`));
    process.on('unhandledRejection', listener);
  });
  promise.catch(() => {});
  return { promise, dispose: () => void process.off('unhandledRejection', listener) };
}

const retriable = (msg: string) => Object.assign(new Error(msg), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: true });
const fatal = (msg: string) => Object.assign(new Error(msg), { name: 'KafkaJSNonRetriableError', retriable: false });

type Step = (client: { crash(err: Error): void }) => void | Promise<void>;

/** A stub driver: each client is scripted by `plan` (by client number), and logs what happens to it. */
function stubDriver(plan: { onConnect?: Record<number, Step>; onRun?: Record<number, Step> } = {}) {
  const clients: StubClient[] = [];
  const events: string[] = [];
  /** The group's committed offset of partition 0. */
  let committed = 0n;
  const waiters: { cond: () => boolean; resolve: () => void }[] = [];
  const changed = () => {
    for (const w of [...waiters]) {
      if (!w.cond()) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  class StubClient implements DriverConsumer {
    readonly n: number;
    crashed = false;
    disconnected = false;
    #eachBatch: ((p: DriverEachBatchPayload) => Promise<void>) | undefined;
    constructor(readonly config: DriverConsumerConfig) {
      this.n = clients.length + 1;
    }
    log(e: string) {
      events.push(`client${this.n} ${e}`);
      changed();
    }
    async connect() {
      this.log('connect');
      await plan.onConnect?.[this.n]?.(this);
    }
    async disconnect() {
      this.disconnected = true;
      this.log('disconnect');
    }
    async subscribe() {}
    async run(opts: { eachBatch: (p: DriverEachBatchPayload) => Promise<void> }) {
      this.#eachBatch = opts.eachBatch;
      this.log('run');
      if (plan.onRun?.[this.n]) return plan.onRun[this.n]!(this);
      this.config.onAssign([{ topic: TOPIC, partition: 0 }]);
      this.log('assigned');
    }
    seek() {}
    async commitOffsets(offsets: { topic: string; partition: number; offset: string }[]) {
      if (this.crashed) throw new Error(NOT_INITIALIZED);
      for (const o of offsets) if (BigInt(o.offset) > committed) committed = BigInt(o.offset);
      this.log(`commit ${committed}`);
    }
    pause() {
      if (this.crashed) throw new Error(NOT_INITIALIZED);
    }
    resume() {
      if (this.crashed) throw new Error(NOT_INITIALIZED);
    }
    /** As kafkajs: the client stops itself first, then reports the crash. */
    crash(err: Error) {
      this.crashed = true;
      this.log('crash');
      this.config.onCrash(err);
    }
    /** Hands the consumer records [from, to) of partition 0, as one fetched batch. */
    async deliver(from: bigint, to: bigint) {
      const messages = [];
      for (let o = from; o < to; o++)
        messages.push({ key: Buffer.from(`k${o % 7n}`), value: Buffer.from(String(o)), offset: o.toString(), timestamp: '0' });
      await this.#eachBatch!({
        batch: { topic: TOPIC, partition: 0, highWatermark: to.toString(), messages },
        resolveOffset: () => {},
        heartbeat: async () => {},
        isRunning: () => !this.crashed,
        isStale: () => false,
      });
    }
  }
  class StubKafka implements DriverKafka {
    static readonly driverName = 'kafkajs' as const;
    static isRetriable(err: unknown) {
      return (err as { retriable?: boolean }).retriable === true;
    }
    consumer(config: DriverConsumerConfig): DriverConsumer {
      const c = new StubClient(config);
      clients.push(c);
      return c;
    }
    producer(): never {
      throw new Error('not in this stub');
    }
    admin(): never {
      throw new Error('not in this stub');
    }
  }
  return {
    Kafka: StubKafka as unknown as KafkaConstructor,
    clients,
    events,
    committed: () => committed,
    /**
     * Resolves once `cond` holds (checked at every client event). The consumer's own timers are
     * unref'd, so a ref'd one keeps the process alive meanwhile.
     */
    until: (cond: () => boolean) => {
      if (cond()) return Promise.resolve();
      const keepAlive = setInterval(() => {}, 60_000);
      return new Promise<void>((resolve) => waiters.push({ cond, resolve })).finally(() => clearInterval(keepAlive));
    },
  };
}

function capturingLogger(): TransportLogger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (msg: string) => void lines.push({ level, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const consumers: KafkaConsumer[] = [];
afterEach(async () => {
  // Released even when a test failed; bounded by the test timeout if a stop itself hangs.
  await Promise.all(consumers.splice(0).map((c) => c.stop()));
  assert.deepEqual(unhandled.splice(0), [], 'no unhandled rejection');
});

function make(
  driver: ReturnType<typeof stubDriver>,
  handler: (rs: ConsumedRecord[]) => Promise<void>,
  extra: Partial<ConstructorParameters<typeof KafkaConsumer>[0]> = {},
) {
  const c = new KafkaConsumer({
    driver: driver.Kafka,
    brokers: ['stub:9092'],
    groupId: 'g',
    topics: [TOPIC],
    handler,
    commitIntervalMs: 10,
    ...extra,
  });
  consumers.push(c);
  return c;
}

test(
  'a crash no retry can fix: every shutdown step copes with the dead client, done rejects with a SluiceError, stop() returns',
  { timeout: 30_000 },
  async () => {
    const driver = stubDriver();
    const log = capturingLogger();
    const applied: string[] = [];
    const consumer = make(driver, async (rs) => void applied.push(...rs.map((r) => r.offset)), { logger: log });
    await consumer.start();
    await driver.clients[0]!.deliver(0n, 5n);
    const guard = noUnhandledRejection();
    try {
      driver.clients[0]!.crash(fatal('The group is not authorized (test)'));
      await Promise.race([
        assert.rejects(
          consumer.done,
          (e: unknown) => isSluiceError(e, 'SLUICE_ERR_TRANSPORT') && !e.retriable && /not authorized/.test(e.message),
        ),
        guard.promise,
      ]);
    } finally {
      guard.dispose();
    }
    await consumer.stop();
    assert.equal(driver.clients.length, 1, 'no rejoin after a non-retriable crash');
    assert.ok(driver.clients[0]!.disconnected);
    assert.ok(
      log.lines.some((l) => l.level === 'error' && /crashed/.test(l.msg)),
      'the crash is logged at error level',
    );
  },
);

test(
  'a retriable crash: running batches finish, then a new client rejoins and the consumer resumes from the committed offset',
  { timeout: 30_000 },
  async () => {
    const driver = stubDriver();
    let gate!: () => void;
    const held = new Promise<void>((r) => (gate = r));
    const seen: bigint[] = [];
    const consumer = make(driver, async (rs) => {
      if (rs.some((r) => r.offset === '7')) {
        driver.events.push('handler holding 7');
        await held;
        driver.events.push('handler released 7');
      }
      seen.push(...rs.map((r) => BigInt(r.offset)));
    });
    let settled = false;
    consumer.done.then(
      () => (settled = true),
      () => (settled = true),
    );
    await consumer.start();
    const first = driver.clients[0]!;
    await first.deliver(0n, 5n);
    await driver.until(() => driver.committed() === 5n);
    await first.deliver(5n, 10n);
    await driver.until(() => driver.events.includes('handler holding 7'));

    first.crash(retriable('No broker available (test)'));
    gate();
    await driver.until(() => driver.events.includes('client2 assigned'));
    const i = (e: string) => driver.events.indexOf(e);
    assert.ok(i('handler released 7') < i('client2 connect'), `drained before rejoining: ${driver.events.join(', ')}`);
    assert.ok(
      !driver.events.some((e) => e.startsWith('client1 commit') && i(e) > i('client1 crash')),
      'nothing committed through the dead client',
    );

    // The new client reads again from the committed offset.
    const second = driver.clients[1]!;
    const from = driver.committed();
    await second.deliver(from, 12n);
    await driver.until(() => driver.committed() === 12n);
    assert.equal(settled, false, 'done stays pending: the consumer recovered');
    for (let o = 0n; o < 12n; o++) assert.ok(seen.includes(o), `offset ${o} applied`);
    assert.deepEqual(consumer.assignment(), [{ topic: TOPIC, partition: 0 }]);

    await consumer.stop();
    await consumer.done;
    assert.ok(second.disconnected);
  },
);

test(
  'rejoining keeps failing: done rejects with a SluiceError saying so once rejoinTimeoutMs has passed',
  { timeout: 30_000 },
  async () => {
    // Client 2 cannot connect; client 3 (kafkajs's way) reports its failed join as a crash before run() returns.
    const driver = stubDriver({
      onConnect: { 2: () => Promise.reject(retriable('Connection error: connect ECONNREFUSED (test)')) },
    });
    const consumer = make(driver, async () => {}, { rejoinTimeoutMs: 0 });
    await consumer.start();
    driver.clients[0]!.crash(retriable('No broker available (test)'));
    await assert.rejects(
      consumer.done,
      (e: unknown) => isSluiceError(e, 'SLUICE_ERR_TRANSPORT') && /could not rejoin/.test(e.message) && /ECONNREFUSED/.test(e.message),
    );
    assert.equal(driver.clients.length, 2);
    assert.ok(
      driver.clients.every((c) => c.disconnected),
      'every client disconnected',
    );

    const kafkajsStyle = stubDriver({ onRun: { 2: (c) => c.crash(retriable('The group coordinator is not available (test)')) } });
    const other = make(kafkajsStyle, async () => {}, { rejoinTimeoutMs: 0 });
    await other.start();
    kafkajsStyle.clients[0]!.crash(retriable('No broker available (test)'));
    await assert.rejects(
      other.done,
      (e: unknown) => isSluiceError(e, 'SLUICE_ERR_TRANSPORT') && /coordinator is not available/.test(e.message),
    );
  },
);

test('stop() while a rejoin waits to retry: done resolves and no further client is made', { timeout: 30_000 }, async () => {
  const driver = stubDriver({ onConnect: { 2: () => Promise.reject(retriable('Connection error (test)')) } });
  const log = capturingLogger();
  const consumer = make(driver, async () => {}, { logger: log, rejoinTimeoutMs: 600_000 });
  await consumer.start();
  driver.clients[0]!.crash(retriable('No broker available (test)'));
  await driver.until(() => driver.clients[1]?.disconnected === true);
  await consumer.stop();
  await consumer.done;
  assert.equal(driver.clients.length, 2);
  assert.ok(log.lines.some((l) => l.level === 'warn' && /could not rejoin the group yet/.test(l.msg)));
});

test('a crash while stopping is ignored: the shutdown under way finishes and done resolves', { timeout: 30_000 }, async () => {
  const driver = stubDriver();
  let gate!: () => void;
  const held = new Promise<void>((r) => (gate = r));
  const consumer = make(driver, async () => held);
  await consumer.start();
  const first = driver.clients[0]!;
  await first.deliver(0n, 3n);
  const stopping = consumer.stop();
  first.crash(retriable('Connection closed (test)'));
  gate();
  await stopping;
  await consumer.done;
  assert.equal(driver.clients.length, 1);
  assert.ok(first.disconnected);
});
