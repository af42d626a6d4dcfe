// The Kafka transport contract, written once and run against a real broker with each driver
// (kafka-kafkajs.test.ts, kafka-confluent.test.ts). Each test says what it guards; the
// guarantees are in docs/guarantees.md.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  ensureTopics,
  fetchLag,
  KafkaConsumer,
  KafkaProducer,
  laneHash,
  loadKafkaDriver,
  openTopicReader,
  partitionFor,
  type ConsumedRecord,
  type KafkaConnectionOptions,
  type KafkaDriverName,
  type ProduceRecord,
  type TransportLogger,
} from '../../src/transport/kafka/index.js';
import { isSluiceError, SluiceError } from '../../src/core/errors.js';
import { kafkaSkipReason, startKafka, uniqueName, waitFor, type KafkaCluster } from '../support/kafka.js';
import { skipUnless } from '../support/services.js';
import { prng } from '../support/prng.js';

const PARTITIONS = 3;

/** Quiet unless SLUICE_TEST_KAFKA_LOG=1; warnings and errors are kept for failure messages. */
function testLogger(): TransportLogger & { lines: string[] } {
  const lines: string[] = [];
  const loud = process.env.SLUICE_TEST_KAFKA_LOG === '1';
  const at = (level: string) => (msg: string, extra?: object) => {
    const line = `${level} ${msg}${extra ? ` ${safeJson(extra)}` : ''}`;
    if (level === 'warn' || level === 'error') lines.push(line);
    if (loud) process.stderr.write(`${line}\n`);
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function safeJson(x: object): string {
  try {
    return JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Error ? v.message : v));
  } catch {
    return '[unserialisable]';
  }
}

/** Extra detail about what a test exercised, with SLUICE_TEST_KAFKA_LOG=1. */
function debug(line: string): void {
  if (process.env.SLUICE_TEST_KAFKA_LOG === '1') process.stderr.write(`# ${line}\n`);
}

interface Payload {
  k: string;
  s: number;
}

const value = (k: string, s: number) => Buffer.from(JSON.stringify({ k, s } satisfies Payload));
const parse = (r: ConsumedRecord) => JSON.parse(r.value!.toString()) as Payload;
const id = (r: { partition: number; offset: string }) => `${r.partition}/${r.offset}`;

/** n records over `keys` keys, each key's sequence numbers 0, 1, 2, … in production order. */
function keyedRecords(topic: string, n: number, keys: number, seqs: Map<string, number>, rnd: () => number): ProduceRecord[] {
  return Array.from({ length: n }, () => {
    const k = `key-${Math.floor(rnd() * keys)}`;
    const s = seqs.get(k) ?? 0;
    seqs.set(k, s + 1);
    return { topic, key: Buffer.from(k), value: value(k, s) };
  });
}

export async function kafkaContractSkip(driver: KafkaDriverName): Promise<string | false> {
  const broker = await kafkaSkipReason();
  if (broker) return broker;
  let loadable = true;
  try {
    loadKafkaDriver(driver);
  } catch {
    loadable = false;
  }
  return skipUnless(loadable, `the ${driver} Kafka driver`);
}

export function kafkaTransportContract(driver: KafkaDriverName, skip: string | false): void {
  describe(`Kafka transport contract (${driver})`, { skip, timeout: 240_000 }, () => {
    let cluster: KafkaCluster;
    const log = testLogger();
    const conn = (): KafkaConnectionOptions => ({ driver, brokers: cluster.brokers, clientId: `sluice-test-${driver}`, logger: log });
    // Short intervals so group joins, rebalances and stops take fractions of a second.
    const consumerTuning = {
      heartbeatInterval: 500,
      sessionTimeout: 10_000,
      rebalanceTimeout: 20_000,
      commitIntervalMs: 200,
      maxWaitTimeInMs: 100,
    };
    const topic = async (prefix: string, partitions = PARTITIONS) => {
      const name = uniqueName(`${prefix}-${driver}`);
      await ensureTopics(conn(), [{ topic: name, partitions }]);
      return name;
    };
    const closers: (() => Promise<void>)[] = [];
    const track = <T extends { stop?: () => Promise<void>; close?: () => Promise<void> }>(x: T): T => {
      closers.push(async () => void (await (x.stop ?? x.close)!.call(x)));
      return x;
    };

    before(
      async () => {
        cluster = await startKafka();
      },
      { timeout: 600_000 },
    );
    after(
      async () => {
        for (const c of closers.reverse()) await c().catch(() => {});
        await cluster?.stop();
      },
      { timeout: 120_000 },
    );

    it("round trip: keys, values, tombstones and headers; the partition is Java's murmur2 of the key", { timeout: 60_000 }, async () => {
      const t = await topic('roundtrip');
      const again = await ensureTopics(conn(), [{ topic: t, partitions: 5 }]);
      assert.deepEqual(again.created, [], 'an existing topic is not re-created');
      assert.equal(again.partitions.get(t), PARTITIONS, 'nor altered');
      assert.deepEqual(again.underPartitioned, [{ topic: t, actual: PARTITIONS, configured: 5 }], 'but reported when short');

      // Java-compatible vectors (Apache Kafka's UtilsTest): the broker-side partition must be
      // (hash & 0x7fffffff) % 3 for these keys, whatever the driver's own partitioner would do.
      const vectors: [string, number][] = [
        ['21', -973932308],
        ['foobar', -790332482],
        ['a-little-bit-long-string', -985981536],
        ['abc', 479470107],
      ];
      const records: ProduceRecord[] = [
        ...vectors.map(([k]) => ({ topic: t, key: Buffer.from(k), value: value(k, 0) })),
        ...Array.from({ length: 40 }, (_, i) => ({
          topic: t,
          key: Buffer.from(`user-${i % 10}`),
          value: i === 7 ? null : value(`user-${i % 10}`, i),
          headers: { 'x-trace': `t-${i}`, 'x-bin': Buffer.from([0, 255, i]) },
        })),
      ];
      const producer = track(new KafkaProducer(conn()));
      await producer.send(records);
      assert.equal(await producer.partitionCount(t), PARTITIONS);

      const got: ConsumedRecord[] = [];
      const consumer = track(
        new KafkaConsumer({
          ...conn(),
          ...consumerTuning,
          groupId: uniqueName('rt'),
          topics: [t],
          handler: async (rs) => void got.push(...rs),
        }),
      );
      await consumer.start();
      await waitFor(() => got.length >= records.length, 'all records consumed');
      await consumer.stop();
      assert.equal(got.length, records.length);
      const lag = await consumer.lag();
      assert.equal(lag.length, PARTITIONS);
      for (const l of lag)
        assert.ok(
          l.committed === l.highWatermark && l.lag === 0n,
          `partition ${l.partition}: all committed at stop (${l.committed}/${l.highWatermark})`,
        );

      for (const [k, hash] of vectors) {
        const r = got.find((x) => x.key?.toString() === k)!;
        assert.equal(r.partition, (hash & 0x7fffffff) % PARTITIONS, `key ${k}`);
      }
      for (const r of got) assert.equal(r.partition, partitionFor(r.key!, PARTITIONS), `partition of ${r.key}`);
      const byTrace = new Map(got.filter((r) => r.headers['x-trace']).map((r) => [String(r.headers['x-trace']), r]));
      for (let i = 0; i < 40; i++) {
        const r = byTrace.get(`t-${i}`)!;
        assert.ok(r, `record t-${i}`);
        assert.equal(r.key!.toString(), `user-${i % 10}`);
        if (i === 7) assert.equal(r.value, null, 'tombstone');
        else assert.deepEqual(parse(r), { k: `user-${i % 10}`, s: i });
        assert.deepEqual(Buffer.from(r.headers['x-bin'] as Buffer), Buffer.from([0, 255, i]));
        assert.ok(Math.abs(Number(r.timestamp) - Date.now()) < 600_000, 'timestamp in ms');
      }
      for (let p = 0; p < PARTITIONS; p++) {
        const offsets = got
          .filter((r) => r.partition === p)
          .map((r) => Number(r.offset))
          .sort((a, b) => a - b);
        assert.deepEqual(
          offsets,
          offsets.map((_, i) => i),
          `partition ${p}: offsets 0..n-1, each once`,
        );
      }
    });

    it(
      'topic reader: chosen offset ranges of each partition, read again after a seek back; it commits nothing',
      { timeout: 90_000 },
      async () => {
        const t = await topic('reader');
        const producer = track(new KafkaProducer(conn()));
        const records = Array.from({ length: 60 }, (_, i) => ({
          topic: t,
          key: Buffer.from(`k-${i % 12}`),
          value: value(`k-${i % 12}`, i),
        }));
        await producer.send(records);
        const reader = track(await openTopicReader(conn(), t));
        const offsets = await reader.offsets();
        assert.equal(offsets.length, PARTITIONS);
        assert.equal(
          offsets.reduce((n, o) => n + Number(o.high - o.low), 0),
          60,
        );
        // The last 3 records of every partition, then the first 2 of the first partition.
        const last = await reader.read(offsets.map((o) => ({ partition: o.partition, from: o.high - 3n, to: o.high })));
        assert.equal(last.complete, true);
        assert.deepEqual(
          last.records.map(id).sort(),
          offsets.flatMap((o) => [1n, 2n, 3n].map((d) => `${o.partition}/${o.high - d}`)).sort(),
        );
        // One send into a fresh topic: each partition's offsets follow the send order.
        const sent = new Map<number, number[]>();
        records.forEach((r, i) => {
          const p = partitionFor(r.key, PARTITIONS);
          sent.set(p, [...(sent.get(p) ?? []), i]);
        });
        for (const r of last.records)
          assert.equal(
            parse(r).s,
            sent.get(r.partition)![Number(r.offset)],
            `partition ${r.partition} offset ${r.offset} holds its produced record`,
          );
        const first = await reader.read([{ partition: 0, from: offsets[0]!.low, to: offsets[0]!.low + 2n }]);
        assert.deepEqual(first.records.map(id), [`0/${offsets[0]!.low}`, `0/${offsets[0]!.low + 1n}`]);
        assert.deepEqual(await reader.read([]), { records: [], complete: true });
        await reader.close();
        const lag = await fetchLag(conn(), reader.groupId, [t]);
        assert.ok(
          lag.every((l) => l.committed === -1n),
          'nothing is committed',
        );
      },
    );

    it('per-key order across 3 partitions with handler concurrency 16 and random handler delays', { timeout: 90_000 }, async () => {
      const t = await topic('order');
      const rnd = prng(11);
      const seqs = new Map<string, number>();
      const records = keyedRecords(t, 6000, 300, seqs, rnd);
      const producer = track(new KafkaProducer(conn()));
      await producer.send(records);

      const lastSeq = new Map<string, number>();
      let applied = 0;
      let running = 0;
      let maxRunning = 0;
      const violations: string[] = [];
      const consumer = track(
        new KafkaConsumer({
          ...conn(),
          ...consumerTuning,
          groupId: uniqueName('order'),
          topics: [t],
          concurrency: 16,
          maxBatchSize: 50,
          handler: async (rs) => {
            running++;
            maxRunning = Math.max(maxRunning, running);
            for (const r of rs) {
              const { k, s } = parse(r);
              if (s !== (lastSeq.get(k) ?? -1) + 1) violations.push(`${k}: ${s} after ${lastSeq.get(k)}`);
              if (r.partition !== partitionFor(r.key!, PARTITIONS)) violations.push(`${k} in partition ${r.partition}`);
              lastSeq.set(k, s);
            }
            await new Promise((res) => setTimeout(res, rnd() * 4));
            applied += rs.length;
            running--;
          },
        }),
      );
      await consumer.start();
      await waitFor(() => applied >= records.length, 'all records applied');
      await consumer.stop();
      assert.deepEqual(violations, []);
      assert.equal(applied, records.length, 'exactly once with one consumer and no rebalance');
      for (const [k, n] of seqs) assert.equal(lastSeq.get(k), n - 1, k);
      assert.ok(maxRunning > PARTITIONS, `handler concurrency went beyond the partition count (max ${maxRunning})`);
      assert.ok(maxRunning <= 16);
    });

    // docs/guarantees.md: explicit-commit, lowest-unfinished-offset
    it('commits: a restarted consumer resumes at the lowest unapplied offset, never past it', { timeout: 90_000 }, async () => {
      const t = await topic('commits');
      const rnd = prng(5);
      const records = keyedRecords(t, 1500, 100, new Map(), rnd);
      const producer = track(new KafkaProducer(conn()));
      await producer.send(records);
      const groupId = uniqueName('commits');
      const lanes = 16;

      // Consumer A applies everything except the lanes of three keys, which hang: later records of
      // other keys complete while earlier ones of those lanes never do (out-of-order completion).
      const blocked = new Set(['key-3', 'key-42', 'key-77']);
      const free = (key: Buffer) =>
        !blocked.has(key.toString()) && ![...blocked].some((k) => laneHash(Buffer.from(k)) % lanes === laneHash(key) % lanes);
      let release!: () => void;
      const hang = new Promise<void>((r) => (release = r));
      const appliedA = new Set<string>();
      let appliedFree = 0;
      const a = track(
        new KafkaConsumer({
          ...conn(),
          ...consumerTuning,
          groupId,
          topics: [t],
          concurrency: 16,
          lanes,
          maxBatchSize: 20,
          drainTimeoutMs: 300,
          handler: async (rs) => {
            if (rs.some((r) => blocked.has(r.key!.toString()))) await hang;
            for (const r of rs) {
              appliedA.add(id(r));
              if (free(r.key!)) appliedFree++;
            }
          },
        }),
      );
      await a.start();
      const freeTotal = records.filter((r) => free(r.key)).length;
      await waitFor(() => appliedFree >= freeTotal, 'A to apply every record outside the blocked lanes');
      await a.stop(); // the blocked batches are abandoned after drainTimeoutMs; what is safe is committed

      const lag = await fetchLag(conn(), groupId, [t]);
      let outOfOrder = 0;
      for (const { partition: p, committed, highWatermark } of lag) {
        let lowestUnapplied = highWatermark;
        for (let o = 0n; o < highWatermark; o++) {
          if (!appliedA.has(`${p}/${o}`)) {
            lowestUnapplied = o;
            break;
          }
        }
        assert.equal(committed, lowestUnapplied, `partition ${p}: committed offset is the lowest record A did not apply`);
        for (let o = lowestUnapplied + 1n; o < highWatermark; o++) if (appliedA.has(`${p}/${o}`)) outOfOrder++;
      }
      assert.ok(outOfOrder > 0, 'fixture: A applied records beyond an unapplied one (else this test proves nothing)');

      // Consumer B, same group, after A "crashed": resumes exactly at the committed offsets.
      const seenB: ConsumedRecord[] = [];
      const b = track(
        new KafkaConsumer({ ...conn(), ...consumerTuning, groupId, topics: [t], handler: async (rs) => void seenB.push(...rs) }),
      );
      await b.start();
      const appliedAll = () => new Set([...appliedA, ...seenB.map(id)]);
      await waitFor(() => appliedAll().size >= records.length, 'every record applied by A or B');
      await b.stop();
      release();
      for (const { partition: p, committed, highWatermark } of lag) {
        const offsetsB = seenB.filter((r) => r.partition === p).map((r) => BigInt(r.offset));
        if (committed < highWatermark)
          assert.equal(
            offsetsB.reduce((x, y) => (x < y ? x : y)),
            committed,
            `partition ${p}: B starts at the committed offset`,
          );
        for (let o = committed; o < highWatermark; o++) {
          if (!appliedA.has(`${p}/${o}`)) assert.ok(offsetsB.includes(o), `record ${p}/${o}, not applied by A, was applied by B`);
        }
      }
    });

    it('a non-retriable handler error stops the consumer with that error, committing nothing past it', { timeout: 60_000 }, async () => {
      const t = await topic('fatal');
      const records = keyedRecords(t, 600, 40, new Map(), prng(2));
      const producer = track(new KafkaProducer(conn()));
      await producer.send(records);
      const poison = records[300]!;
      const err = new SluiceError('SLUICE_ERR_CODEC_VALUE', 'cannot apply this record (test)');
      let poisonAt: { partition: number; offset: bigint } | undefined;
      const applied = new Set<string>();
      const groupId = uniqueName('fatal');
      const consumer = track(
        new KafkaConsumer({
          ...conn(),
          ...consumerTuning,
          groupId,
          topics: [t],
          handler: async (rs) => {
            const bad = rs.find((r) => r.value!.equals(poison.value!));
            if (bad) {
              poisonAt = { partition: bad.partition, offset: BigInt(bad.offset) };
              throw err;
            }
            for (const r of rs) applied.add(id(r));
          },
        }),
      );
      await consumer.start();
      await assert.rejects(consumer.done, (e: unknown) => e === err);
      assert.ok(poisonAt);
      const lag = await fetchLag(conn(), groupId, [t]);
      const c = lag.find((l) => l.partition === poisonAt!.partition)!.committed;
      assert.ok(c <= poisonAt.offset, `committed ${c} does not pass the failed record ${poisonAt.offset}`);
      for (let o = 0n; o < c; o++) assert.ok(applied.has(`${poisonAt.partition}/${o}`), `everything below the commit was applied (${o})`);
    });

    it(
      'rebalance: a second consumer joins mid-stream; nothing lost, per-key order held across the handover',
      { timeout: 120_000 },
      async () => {
        const t = await topic('rebalance');
        const groupId = uniqueName('rebalance');
        const rnd = prng(9);
        const seqs = new Map<string, number>();
        const producer = track(new KafkaProducer(conn()));
        let total = 0;
        const produce = async () => {
          await producer.send(keyedRecords(t, 100, 150, seqs, rnd));
          total += 100;
        };
        await produce();

        // One event log for both consumers; a step counter orders starts, ends and commits.
        let step = 0;
        const apps: { consumer: string; call: number; k: string; s: number; p: number; o: bigint; start: number; end: number }[] = [];
        let calls = 0;
        const commits: { p: number; o: bigint; at: number }[] = [];
        const onCommit = (msg: unknown) => {
          const m = msg as { groupId: string; offsets: { topic: string; partition: number; offset: string }[] };
          if (m.groupId !== groupId) return;
          for (const o of m.offsets) commits.push({ p: o.partition, o: BigInt(o.offset), at: ++step });
        };
        subscribe('sluice:transport:commit', onCommit);
        const revokes: { consumer: string; partitions: number; inFlight: number; dropped?: number; abandoned?: boolean }[] = [];
        const onRebalance = (msg: unknown) => {
          const m = msg as {
            groupId: string;
            consumerId: string;
            revoked?: unknown[];
            inFlight: number;
            dropped?: number;
            abandoned?: boolean;
          };
          if (m.groupId === groupId && m.revoked)
            revokes.push({
              consumer: m.consumerId,
              partitions: m.revoked.length,
              inFlight: m.inFlight,
              dropped: m.dropped,
              abandoned: m.abandoned,
            });
        };
        subscribe('sluice:transport:rebalance', onRebalance);
        const make = (name: string) =>
          track(
            new KafkaConsumer({
              ...conn(),
              ...consumerTuning,
              groupId,
              topics: [t],
              concurrency: 16,
              maxBatchSize: 10,
              maxInFlight: 600,
              handler: async (rs) => {
                const start = ++step;
                const call = ++calls;
                // Now and then a slow batch: in flight when the partitions move, it must finish
                // before the next owner applies the same keys.
                await new Promise((res) => setTimeout(res, rnd() < 0.03 ? 150 : 1 + rnd() * 6));
                const end = ++step;
                for (const r of rs) {
                  const { k, s } = parse(r);
                  apps.push({ consumer: name, call, k, s, p: r.partition, o: BigInt(r.offset), start, end });
                }
              },
            }),
          );
        try {
          const a = make('A');
          await a.start();
          // Mid-stream: records keep arriving before, while and after B joins and partitions move.
          let producing = true;
          const producer$ = (async () => {
            while (producing && total < 30_000) await produce();
          })();
          await waitFor(() => apps.length >= 1000, 'A under way');
          const b = make('B');
          await b.start();
          await waitFor(() => apps.filter((x) => x.consumer === 'B').length >= 1000, 'B under way');
          producing = false;
          await producer$;
          const distinct = () => new Set(apps.map((x) => `${x.p}/${x.o}`)).size;
          await waitFor(() => distinct() >= total, 'every record applied');
          await waitFor(() => b.assignment().length > 0 && a.assignment().length > 0, 'both consumers own partitions');
          assert.ok(
            apps.some((x) => x.consumer === 'B'),
            'B applied records after the handover',
          );
          assert.ok(
            revokes.some((r) => r.consumer === a.id && r.inFlight > 0),
            `fixture: A had records in flight when its partitions were revoked (${JSON.stringify(revokes)})`,
          );
          await b.stop();
          await a.stop();
        } finally {
          unsubscribe('sluice:transport:commit', onCommit);
          unsubscribe('sluice:transport:rebalance', onRebalance);
        }

        const dup = apps.length - new Set(apps.map((x) => `${x.p}/${x.o}`)).size;
        debug(
          `rebalance: ${apps.length} applications, ${dup} replays, A ${apps.filter((x) => x.consumer === 'A').length}, B ${apps.filter((x) => x.consumer === 'B').length}, revokes ${JSON.stringify(revokes)}`,
        );
        const committedAt = (p: number, at: number) =>
          commits.filter((c) => c.p === p && c.at < at).reduce((m, c) => (c.o > m ? c.o : m), -1n);
        const byKey = new Map<string, typeof apps>();
        for (const x of apps) byKey.set(x.k, [...(byKey.get(x.k) ?? []), x]);
        const problems: string[] = [];
        for (const [k, xs] of byKey) {
          xs.sort((x, y) => x.start - y.start); // stable: a batch's records keep their order
          let max = -1;
          let prev: (typeof xs)[number] | undefined;
          for (const x of xs) {
            if (prev && prev.call !== x.call && x.start < prev.end)
              problems.push(`${k}#${x.s} (${x.consumer}) started before ${k}#${prev.s} (${prev.consumer}) ended`);
            if (!prev || x.end > prev.end) prev = x;
            if (x.s > max) {
              if (x.s !== max + 1) problems.push(`${k}#${x.s} (${x.consumer}) applied after #${max}: skipped or reordered`);
              max = x.s;
            } else if (x.o < committedAt(x.p, x.start)) {
              problems.push(`${k}#${x.s} at ${x.p}/${x.o} replayed although committed (${committedAt(x.p, x.start)})`);
            }
          }
          if (max !== seqs.get(k)! - 1) problems.push(`${k}: last applied #${max} of ${seqs.get(k)}`);
        }
        assert.deepEqual(problems.slice(0, 20), []);
      },
    );

    // docs/guarantees.md: ordered-retries
    it('producer ordering across a broker restart, idempotence on', { timeout: 150_000 }, async () => {
      const own = cluster.owned ? cluster : track(await startKafka({ dedicated: true }));
      const c: KafkaConnectionOptions = { ...conn(), brokers: own.brokers };
      const t = uniqueName(`restart-${driver}`);
      await ensureTopics(c, [{ topic: t, partitions: PARTITIONS }]);
      const producer = track(new KafkaProducer({ ...c, deliveryTimeoutMs: 60_000 }));
      await producer.connect();
      const rnd = prng(21);
      const seqs = new Map<string, number>();
      const batches = Array.from({ length: 40 }, () => keyedRecords(t, 250, 20, seqs, rnd));

      // Up to 3 sends outstanding, like a pipeline; a failed send is retried in order with all
      // that followed it. The broker restarts (SIGTERM, same data, same port) mid-stream.
      let restart: Promise<void> | undefined;
      let restarting = false;
      let sentDuringRestart = 0;
      let failures = 0;
      let acked = 0;
      let next = 0;
      const window: { i: number; p: Promise<void> }[] = [];
      while (acked < batches.length) {
        while (window.length < 3 && next < batches.length) {
          if (restarting) sentDuringRestart++;
          const p = producer.send(batches[next]!);
          p.catch(() => {});
          window.push({ i: next++, p });
        }
        const head = window.shift()!;
        try {
          await head.p;
          acked = head.i + 1;
        } catch (err) {
          assert.ok(isSluiceError(err) && err.retriable, `a send failed with a non-retriable error: ${String(err)}`);
          failures++;
          for (const w of window) await w.p.catch(() => {});
          window.length = 0;
          next = head.i;
          await new Promise((r) => setTimeout(r, 200));
        }
        if (acked === 10 && !restart) {
          restarting = true;
          restart = own.restart().finally(() => (restarting = false));
        }
      }
      await restart;
      assert.ok(sentDuringRestart > 0, 'fixture: sends were issued while the broker restarted');

      const seen = new Map<string, number[]>();
      let n = 0;
      const consumer = track(
        new KafkaConsumer({
          ...c,
          ...consumerTuning,
          groupId: uniqueName('restart'),
          topics: [t],
          handler: async (rs) => {
            for (const r of rs) {
              const { k, s } = parse(r);
              seen.set(k, [...(seen.get(k) ?? []), s]);
              n++;
            }
          },
        }),
      );
      await consumer.start();
      const total = batches.length * 250;
      await waitFor(() => n >= total, 'every produced record consumed');
      await consumer.stop();
      // Per key, in log order: each new sequence number is the next one (no gap, no overtaking);
      // a repeat can only be a retried batch landing again after an ack was lost.
      const problems: string[] = [];
      let duplicates = 0;
      for (const [k, ss] of seen) {
        let max = -1;
        for (const s of ss) {
          if (s > max) {
            if (s !== max + 1) problems.push(`${k}: #${s} follows #${max}`);
            max = s;
          } else duplicates++;
        }
        if (max !== seqs.get(k)! - 1) problems.push(`${k}: ends at #${max} of ${seqs.get(k)}`);
      }
      debug(`restart: ${failures} failed sends, ${sentDuringRestart} sent during the restart, ${duplicates} duplicates`);
      assert.deepEqual(problems.slice(0, 20), []);
      assert.ok(duplicates <= failures * 250, `${duplicates} duplicates from ${failures} retried sends`);
    });
  });
}
