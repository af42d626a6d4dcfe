// Benchmark: Kafka transport throughput against a real broker (dev/kafka), through both drivers.
//   produce  records/s of KafkaProducer.send (1 KiB values, 10 000 keys, sends of 5 000 records,
//            acks=all, idempotent), from the first send to the last acknowledgement;
//   consume  records/s of KafkaConsumer (group, explicit commits, key scheduler, no-op handler),
//            from the first record handed to the handler to the last (group join excluded).
//   lanes    the key scheduler's concurrency beyond partitions: 3 partitions, a handler costing
//            2 ms per batch (simulated), concurrency 16 vs 1: the ratio the apply layer can expect.
// Median of ROUNDS runs. Prints one JSON line per measurement and one markdown line.
// Run: npm run bench -- kafka   (or: node --import tsx bench/kafka-transport.ts [RECORDS] [ROUNDS])
// Uses SLUICE_TEST_KAFKA (a bootstrap address) if set, else starts and stops its own broker.
import { ensureTopics, KafkaConsumer, KafkaProducer, type KafkaDriverName, type ProduceRecord } from '../src/transport/kafka/index.js';
import { startKafka, uniqueName, waitFor } from '../test/support/kafka.js';
import { median } from './support/measure.js';
import { installedKafkaDrivers } from './support/kafka-drivers.js';

const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const KEYS = 10_000;
const SEND = 5_000;

const drivers = installedKafkaDrivers();

const cluster = await startKafka();
const value = Buffer.alloc(1024, 'x');
const results: Record<string, number> = {};

async function produceRound(driver: KafkaDriverName, topic: string): Promise<number> {
  const producer = new KafkaProducer({ driver, brokers: cluster.brokers });
  await producer.connect();
  await producer.partitionCount(topic);
  const records: ProduceRecord[] = Array.from({ length: N }, (_, i) => ({ topic, key: Buffer.from(`key-${i % KEYS}`), value }));
  const t0 = performance.now();
  for (let i = 0; i < N; i += SEND) await producer.send(records.slice(i, i + SEND));
  const rate = N / ((performance.now() - t0) / 1000);
  await producer.close();
  return rate;
}

async function consumeRound(
  driver: KafkaDriverName,
  topic: string,
  opts: { concurrency: number; handlerMs?: number; maxBatchSize?: number },
): Promise<number> {
  let n = 0;
  let first = 0;
  let last = 0;
  const consumer = new KafkaConsumer({
    driver,
    brokers: cluster.brokers,
    groupId: uniqueName('bench'),
    topics: [topic],
    concurrency: opts.concurrency,
    maxBatchSize: opts.maxBatchSize ?? 500,
    handler: async (rs) => {
      if (first === 0) first = performance.now();
      if (opts.handlerMs) await new Promise((r) => setTimeout(r, opts.handlerMs));
      n += rs.length;
      last = performance.now();
    },
  });
  await consumer.start();
  await waitFor(() => n >= N, `${N} records consumed`, 600_000);
  await consumer.stop();
  return N / ((last - first) / 1000);
}

try {
  for (const driver of drivers) {
    const produce: number[] = [];
    const consume: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const topic = uniqueName(`bench-${driver}`);
      await ensureTopics({ driver, brokers: cluster.brokers }, [{ topic, partitions: 3 }]);
      produce.push(await produceRound(driver, topic));
      consume.push(await consumeRound(driver, topic, { concurrency: 16 }));
    }
    results[`${driver}.produce`] = median(produce);
    results[`${driver}.consume`] = median(consume);
    console.log(
      JSON.stringify({
        bench: 'kafka-transport',
        driver,
        records: N,
        valueBytes: 1024,
        produce: Math.round(median(produce)),
        consume: Math.round(median(consume)),
        rounds: ROUNDS,
      }),
    );
  }

  // Concurrency beyond partitions: same records, a 2 ms handler, batches of 50.
  const topic = uniqueName('bench-lanes');
  await ensureTopics({ driver: 'kafkajs', brokers: cluster.brokers }, [{ topic, partitions: 3 }]);
  const saved = N;
  await produceRound('kafkajs', topic);
  const lanes: Record<number, number> = {};
  for (const concurrency of [1, 16])
    lanes[concurrency] = await consumeRound('kafkajs', topic, { concurrency, handlerMs: 2, maxBatchSize: 50 });
  console.log(
    JSON.stringify({
      bench: 'kafka-transport',
      case: 'lanes',
      partitions: 3,
      handlerMs: 2,
      maxBatchSize: 50,
      records: saved,
      c1: Math.round(lanes[1]!),
      c16: Math.round(lanes[16]!),
      ratio: +(lanes[16]! / lanes[1]!).toFixed(2),
    }),
  );

  const k = (x: number | undefined) => (x === undefined ? 'n/a' : `${Math.round(x / 1000)}k/s`);
  console.log(
    `| kafka transport (1 KiB, ${N} records, median of ${ROUNDS}) | kafkajs produce ${k(results['kafkajs.produce'])}, consume ${k(results['kafkajs.consume'])} | ` +
      `confluent produce ${k(results['confluent.produce'])}, consume ${k(results['confluent.consume'])} | ` +
      `lanes 16 vs 1 at 2 ms/batch, 3 partitions: ×${(lanes[16]! / lanes[1]!).toFixed(1)} |`,
  );
} finally {
  await cluster.stop();
}
