// Per-key order with concurrency beyond the partition count, end to end: 10,000 keys × 20 updates
// through the outbox, a 3-partition topic and apply concurrency 16. A trigger on the target logs
// every value each row takes; every row must end at its last version and never go back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { createOutboxWriter, type OutboxChange } from '../../src/capture/outbox/writer.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { kafkaSkipReason, startKafka, uniqueName, waitFor, type KafkaCluster } from '../support/kafka.js';
import { skipUnless } from '../support/services.js';

const KEYS = 10_000;
const UPDATES = 20;

const skip = (await kafkaSkipReason()) || skipUnless(await postgresAvailable(), POSTGRES_WHAT);

describe('ordering through Kafka', { skip }, () => {
  let kafka: KafkaCluster;
  let src: ScratchPostgres;
  let dst: ScratchPostgres;
  const stateDir = mkdtempSync(join(tmpdir(), 'sluice-order-'));
  before(
    async () => {
      kafka = await startKafka();
      src = await scratchPostgres();
      dst = await scratchPostgres();
    },
    { timeout: 600_000 },
  );
  after(async () => {
    await kafka?.stop();
    await src?.drop();
    await dst?.drop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  test(
    `${KEYS} keys × ${UPDATES} updates, 3 partitions, concurrency 16: every row ends at its last version and never goes back`,
    { timeout: 600_000 },
    async () => {
      const ddl = 'CREATE TABLE counter (id bigint PRIMARY KEY, seq integer NOT NULL, note text)';
      await src.pool.query(ddl);
      await dst.pool.query(ddl);
      await dst.pool.query(`
      CREATE TABLE seq_log (n bigserial PRIMARY KEY, id bigint NOT NULL, seq integer NOT NULL);
      CREATE FUNCTION log_seq() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO seq_log (id, seq) VALUES (NEW.id, NEW.seq); RETURN NEW; END $$;
      CREATE TRIGGER counter_log AFTER INSERT OR UPDATE ON counter FOR EACH ROW EXECUTE FUNCTION log_seq();`);
      const writer = createOutboxWriter({ dialect: 'postgres' });
      await src.pool.query(writer.ddl);
      // Update u of every key, then update u+1 of every key: keys interleave across the whole stream.
      for (let u = 1; u <= UPDATES; u++) {
        const changes: OutboxChange[] = [];
        for (let id = 1; id <= KEYS; id++) changes.push({ table: 'counter', op: u === 1 ? 'c' : 'u', row: { id, seq: u, note: `v${u}` } });
        for (let i = 0; i < changes.length; i += 2000) await writer.write(src.pool, changes.slice(i, i + 2000));
      }
      const cfg = parseConfig({
        name: 'ordering',
        state: { dataDir: stateDir },
        source: {
          connector: 'outbox',
          connection: { dialect: 'postgres', url: src.url },
          tables: ['counter'],
          batchSize: 5000,
          pollIntervalMs: 20,
        },
        transport: { kind: 'kafka', brokers: kafka.brokers, topic: uniqueName('order'), partitions: 3 },
        registry: { port: 0 },
        target: { connection: { dialect: 'postgres', url: dst.url } },
        apply: { concurrency: 16, batchSize: 500 },
      });
      const pipeline = await runPipeline(cfg, pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' }));
      try {
        await waitFor(
          async () => Number((await dst.pool.query('SELECT count(*) AS n FROM counter WHERE seq = $1', [UPDATES])).rows[0].n) === KEYS,
          'every key at its last version',
          540_000,
        );
      } finally {
        await pipeline.stop();
      }
      const regressions = await dst.pool.query(`
      SELECT id, prev, seq FROM (SELECT id, seq, lag(seq) OVER (PARTITION BY id ORDER BY n) AS prev FROM seq_log) x
       WHERE prev >= seq LIMIT 5`);
      assert.deepEqual(regressions.rows, [], 'a row went back to an older or equal version');
      const ends = await dst.pool.query('SELECT count(*) AS n FROM counter WHERE seq = $1 AND note = $2', [UPDATES, `v${UPDATES}`]);
      assert.equal(Number(ends.rows[0].n), KEYS);
      assert.equal(pipeline.stats.deadLettered, 0);
      assert.equal(pipeline.stats.published, KEYS * UPDATES);
    },
  );
});
