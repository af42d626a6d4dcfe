// Benchmark: the dashboard's message viewer on a PostgreSQL log-capture → Kafka → MariaDB pipeline
// (3 partitions, ROWS rows copied by the initial snapshot), through each Kafka driver:
//   topic    the topic's latest 20 records;
//   table    a table's latest 20 records;
//   key      one row's records, searched back to the bound (20,000 records of the key's partition),
//            which is what a key whose records are old or absent costs;
// each GET /api/messages timed end to end (median of 5), decoding and target lookups included.
// Reference, in the same run: the same 20,000 records of that partition read in one range by the
// same driver's topic reader, with no decoding: the floor of reading them at all.
// Run: npm run bench -- message   (or: node --import tsx bench/message-viewer.ts [ROWS])
// Uses SLUICE_TEST_KAFKA (a bootstrap address) if set, else starts and stops its own broker.
import { pino } from 'pino';
import { parseConfig } from '../src/config/load.js';
import { runPipeline } from '../src/pipeline/run.js';
import { openTopicReader, partitionFor } from '../src/transport/kafka/index.js';
import { MAX_SCAN } from '../src/pipeline/message-controls.js';
import { MYSQL_URL, scratchMysql, scratchPostgres } from '../test/support/databases.js';
import { startKafka, uniqueName, waitFor } from '../test/support/kafka.js';
import { median } from './support/measure.js';
import { installedKafkaDrivers } from './support/kafka-drivers.js';

const ROWS = Number(process.argv[2] ?? 100_000);
const drivers = installedKafkaDrivers();

const cluster = await startKafka();
const rows: string[] = [];
try {
  for (const driver of drivers) {
    const [src, dst, state] = await Promise.all([scratchPostgres(), scratchMysql(), scratchPostgres()]);
    try {
      await src.pool.query(`CREATE TABLE coupon (id bigint PRIMARY KEY, discount numeric(10,2) NOT NULL, code text NOT NULL);
        INSERT INTO coupon SELECT g, g % 90, 'C' || g FROM generate_series(1, ${ROWS}) g`);
      await dst.pool.query('CREATE TABLE coupon (id bigint PRIMARY KEY, discount decimal(10,2) NOT NULL, code varchar(64) NOT NULL)');
      const topic = uniqueName('viewer');
      const p = await runPipeline(
        parseConfig({
          name: 'bench-viewer',
          source: { connector: 'postgres', connection: { dialect: 'postgres', url: src.url }, tables: ['coupon'] },
          transport: { kind: 'kafka', driver, brokers: cluster.brokers, topic, partitions: 3, groupId: uniqueName('g') },
          registry: { port: 0 },
          target: { connection: { dialect: 'mysql', url: `${MYSQL_URL.replace(/\/$/, '')}/${dst.database}` } },
          state: { url: state.url },
          observe: { port: 0 },
        }),
        pino({ level: 'silent' }),
      );
      try {
        const count = async () =>
          Number(((await dst.pool.query('SELECT count(*) AS n FROM coupon')) as unknown as [Array<{ n: number }>])[0][0]!.n);
        await waitFor(async () => (await count()) === ROWS, 'the snapshot applied', 900_000);
        // A key written first: its one record lies deeper than the bound in its partition.
        const queries = { topic: 'limit=20', table: 'table=coupon&limit=20', key: 'table=coupon&key=1&limit=5' };
        const ms: Record<string, number> = {};
        let scanned = 0;
        for (const [name, q] of Object.entries(queries)) {
          const times: number[] = [];
          for (let i = 0; i < 5; i++) {
            const t = performance.now();
            const page = (await (await fetch(`${p.observeUrl}/api/messages?${q}`)).json()) as { scanned: number };
            times.push(performance.now() - t);
            if (name === 'key') scanned = page.scanned;
          }
          ms[name] = median(times);
        }
        // The floor: the same partition's last MAX_SCAN records in one range, no decoding.
        const key = Buffer.alloc(8);
        key.writeBigInt64BE(1n);
        const floors: number[] = [];
        for (let i = 0; i < 5; i++) {
          const t = performance.now();
          const reader = await openTopicReader({ driver, brokers: cluster.brokers }, topic);
          try {
            const part = (await reader.offsets()).find((o) => o.partition === partitionFor(key, 3))!;
            const from = part.high - BigInt(MAX_SCAN) > part.low ? part.high - BigInt(MAX_SCAN) : part.low;
            await reader.read([{ partition: part.partition, from, to: part.high }]);
          } finally {
            await reader.close();
          }
          floors.push(performance.now() - t);
        }
        const floor = median(floors);
        console.log(
          JSON.stringify({
            bench: 'message-viewer',
            driver,
            rows: ROWS,
            topicMs: ms.topic,
            tableMs: ms.table,
            keyMs: ms.key,
            keyScanned: scanned,
            floorMs: floor,
          }),
        );
        rows.push(
          `| message viewer (${driver}) | topic's latest 20: ${ms.topic!.toFixed(0)} ms; a table's latest 20: ${ms.table!.toFixed(0)} ms; a key searched back to the bound (${scanned} records): ${ms.key!.toFixed(0)} ms | the same ${scanned} records read in one range, no decoding: ${floor.toFixed(0)} ms | key search ÷ floor **${(ms.key! / floor).toFixed(2)}** |`,
        );
      } finally {
        await p.stop();
      }
    } finally {
      await Promise.all([src.drop(), dst.drop(), state.drop()]);
    }
  }
} finally {
  await cluster.stop();
}
for (const r of rows) console.log(r);
