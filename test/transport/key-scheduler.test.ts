// KeyScheduler (with OffsetTracker, as the consumer wires them): per-key order always holds, the
// concurrency limit holds and goes beyond the partition count, committable never passes an
// unfinished record (docs/guarantees.md: lowest-unfinished-offset), a failing key blocks only its
// own lane.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SluiceError } from '../../src/core/errors.js';
import { KeyScheduler, laneHash, type KeySchedulerOptions } from '../../src/transport/kafka/key-scheduler.js';
import { murmur2, partitionFor } from '../../src/transport/kafka/murmur2.js';
import { OffsetTracker } from '../../src/transport/kafka/offset-tracker.js';
import { waitFor } from '../support/kafka.js';
import { prng } from '../support/prng.js';

interface Rec {
  readonly key: string;
  readonly seq: number;
  readonly partition: number;
  readonly offset: number;
}

const hashOf = (r: Rec) => laneHash(Buffer.from(r.key));
const laneOf = (key: string, lanes: number) => laneHash(Buffer.from(key)) % lanes;

/** Records for `keys` keys, round-robin, partitioned like a Java producer over `partitions`. */
function stream(n: number, keys: number, partitions = 3, rnd = Math.random): Rec[] {
  const seq = new Map<string, number>();
  const next = new Array<number>(partitions).fill(0);
  return Array.from({ length: n }, () => {
    const key = `key-${Math.floor(rnd() * keys)}`;
    const partition = partitionFor(Buffer.from(key), partitions);
    const s = seq.get(key) ?? 0;
    seq.set(key, s + 1);
    return { key, seq: s, partition, offset: next[partition]!++ };
  });
}

/** Offsets in array order per partition, as a fetcher would hand them out. */
function renumber(records: Rec[]): void {
  const next = new Map<number, number>();
  records.forEach((r, i) => {
    const o = next.get(r.partition) ?? 0;
    next.set(r.partition, o + 1);
    records[i] = { ...r, offset: o };
  });
}

function gate() {
  let open!: () => void;
  let p = new Promise<void>((r) => (open = r));
  return {
    wait: () => p,
    open: () => open(),
    reset: () => (p = new Promise<void>((r) => (open = r))),
  };
}

const transient = () => new SluiceError('SLUICE_ERR_STORE', 'transient failure (test)', { retriable: true });
const fast: Partial<KeySchedulerOptions<Rec>> = { retryInitialMs: 1, retryMaxMs: 5 };

test('random handler delays: per-key order, exactly once, concurrency limit, batch cap, safe commits', async () => {
  for (let seed = 1; seed <= 6; seed++) {
    const rnd = prng(seed);
    const records = stream(3000, 200, 3, rnd);
    const tracker = new OffsetTracker();
    const completed = new Set<string>();
    const lastSeq = new Map<string, number>();
    const active = new Set<string>();
    const handled = new Map<string, number>();
    let running = 0;
    let maxRunning = 0;
    const s = new KeyScheduler<Rec>({
      concurrency: 8,
      lanes: 32,
      maxBatchSize: 20,
      maxInFlight: 400,
      hashOf,
      handler: async (batch) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        assert.ok(batch.length >= 1 && batch.length <= 20, `seed ${seed}: batch of ${batch.length}`);
        const keys = new Set(batch.map((r) => r.key));
        for (const k of keys) assert.ok(!active.has(k), `seed ${seed}: key ${k} in two running batches`);
        for (const k of keys) active.add(k);
        for (const r of batch) {
          assert.equal(r.seq, (lastSeq.get(r.key) ?? -1) + 1, `seed ${seed}: ${r.key} out of order`);
          lastSeq.set(r.key, r.seq);
        }
        await new Promise((res) => setTimeout(res, rnd() * 2));
        for (const k of keys) active.delete(k);
        running--;
      },
      onComplete: (batch) => {
        for (const r of batch) {
          const id = `${r.partition}/${r.offset}`;
          handled.set(id, (handled.get(id) ?? 0) + 1);
          tracker.complete(String(r.partition), BigInt(r.offset));
          completed.add(id);
        }
        for (const p of [0, 1, 2]) {
          const c = tracker.committable(String(p));
          if (c === undefined) continue;
          for (let o = 0; o < Number(c); o++)
            assert.ok(completed.has(`${p}/${o}`), `seed ${seed}: committable ${c} of partition ${p} passes unfinished offset ${o}`);
        }
      },
    });
    for (const r of records) {
      if (!s.hasCapacity()) await s.waitForCapacity();
      assert.ok(s.inFlight <= 400);
      tracker.handOut(String(r.partition), BigInt(r.offset));
      s.push(r);
    }
    await s.idle();
    assert.equal(handled.size, records.length, `seed ${seed}: every record handled`);
    assert.ok(
      [...handled.values()].every((n) => n === 1),
      `seed ${seed}: exactly once`,
    );
    assert.ok(maxRunning <= 8, `seed ${seed}: ${maxRunning} batches ran at once, limit 8`);
    assert.ok(maxRunning > 3, `seed ${seed}: concurrency went beyond the 3 partitions (${maxRunning})`);
    assert.equal(s.inFlight, 0);
  }
});

test('3 partitions, concurrency 16: 16 batches run at once, from 16 lanes', async () => {
  const g = gate();
  const running: Rec[][] = [];
  const s = new KeyScheduler<Rec>({
    concurrency: 16,
    maxBatchSize: 10,
    maxInFlight: 10_000,
    hashOf,
    handler: async (batch) => {
      running.push(batch);
      await g.wait();
    },
  });
  for (const r of stream(3000, 300)) s.push(r);
  await waitFor(() => s.running === 16, '16 running batches', 5_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(s.running, 16, 'never more than the limit');
  assert.equal(new Set(running.map((b) => laneOf(b[0]!.key, 16))).size, 16);
  g.open();
  await s.idle();
});

test("lanes are not the partitioner's hash: one partition's keys spread over the lanes", () => {
  // Keys of partition 0 of 3 all have murmur2 % 3 == 0; with 12 lanes, murmur2 % 12 would use only
  // lanes 0, 3, 6 and 9, so a consumer owning one partition would get a third of its concurrency.
  const keys = Array.from({ length: 3000 }, (_, i) => Buffer.from(`customer-${i}`)).filter((k) => partitionFor(k, 3) === 0);
  const murmurLanes = new Set(keys.map((k) => (murmur2(k) & 0x7fffffff) % 12));
  const lanes = new Set(keys.map((k) => laneHash(k) % 12));
  assert.equal(murmurLanes.size, 4, 'the trap this guards against');
  assert.equal(lanes.size, 12);
});

test('a retriable failure retries the same batch, in order, while other lanes flow', async () => {
  const lanes = 8;
  const bad = 'key-bad';
  const records: Rec[] = [];
  for (let seq = 0; seq < 5; seq++) records.push({ key: bad, seq, partition: 0, offset: records.length });
  const others = Array.from({ length: 40 }, (_, i) => `key-${i}`).filter((k) => laneOf(k, lanes) !== laneOf(bad, lanes));
  for (const key of others) records.push({ key, seq: 0, partition: 1, offset: records.length });
  const attempts: string[][] = [];
  const doneKeys: string[] = [];
  let failures = 0;
  const retried: number[] = [];
  const s = new KeyScheduler<Rec>({
    ...fast,
    concurrency: 4,
    lanes,
    maxBatchSize: 3,
    maxInFlight: 1000,
    hashOf,
    handler: async (batch) => {
      if (batch[0]!.key === bad) {
        attempts.push(batch.map((r) => `${r.key}#${r.seq}`));
        if (failures < 3) {
          failures++;
          // The other lanes finish while this one is failing: wait for them before failing again.
          if (failures === 3) await waitFor(() => doneKeys.length === others.length, 'other keys to finish', 5_000);
          throw transient();
        }
      }
    },
    onComplete: (batch) => doneKeys.push(...batch.filter((r) => r.key !== bad).map((r) => r.key)),
    onRetry: (_err, attempt) => retried.push(attempt),
  });
  for (const r of records) s.push(r);
  await s.idle();
  assert.deepEqual(retried, [1, 2, 3]);
  assert.deepEqual(
    attempts.slice(0, 4),
    [0, 1, 2, 3].map(() => [`${bad}#0`, `${bad}#1`, `${bad}#2`]),
    'the same batch each time',
  );
  assert.deepEqual(attempts[4], [`${bad}#3`, `${bad}#4`], 'later records only after the failed batch succeeded');
  assert.equal(doneKeys.length, others.length);
  assert.equal(s.failed, undefined);
});

test("a parked key blocks only its lane; its partition's committable stays at the parked record", async () => {
  const lanes = 8;
  const stuck = 'key-stuck';
  const records = stream(1500, 100, 3, prng(7));
  records.splice(
    300,
    0,
    { key: stuck, seq: 0, partition: partitionFor(Buffer.from(stuck), 3), offset: 0 },
    { key: stuck, seq: 1, partition: partitionFor(Buffer.from(stuck), 3), offset: 0 },
  );
  renumber(records);
  const stuckRec = records[300]!;
  const stuckLane = laneOf(stuck, lanes);
  let parked = true;
  const tracker = new OffsetTracker();
  const completed = new Set<Rec>();
  const s = new KeyScheduler<Rec>({
    ...fast,
    concurrency: 4,
    lanes,
    maxBatchSize: 16,
    maxInFlight: 10_000,
    hashOf,
    handler: async (batch) => {
      if (parked && batch.some((r) => r === stuckRec)) throw transient();
    },
    onComplete: (batch) => {
      for (const r of batch) {
        completed.add(r);
        tracker.complete(String(r.partition), BigInt(r.offset));
      }
    },
  });
  for (const r of records) {
    tracker.handOut(String(r.partition), BigInt(r.offset));
    s.push(r);
  }
  const otherLanes = records.filter((r) => laneOf(r.key, lanes) !== stuckLane);
  try {
    await waitFor(() => otherLanes.every((r) => completed.has(r)), 'every other lane to drain', 10_000);
    const stuckAfter = records.slice(301).filter((r) => laneOf(r.key, lanes) === stuckLane);
    assert.ok(
      stuckAfter.length > 0 && stuckAfter.every((r) => !completed.has(r)),
      'nothing queued behind the parked record in its lane ran',
    );
    // The parked batch may also hold earlier records of its lane: commit stops at the first of them.
    const c = tracker.committable(String(stuckRec.partition))!;
    assert.ok(c <= BigInt(stuckRec.offset), `commit ${c} stops at or before the parked record ${stuckRec.offset}`);
    const below = records.filter((r) => r.partition === stuckRec.partition && BigInt(r.offset) < c);
    assert.ok(
      below.every((r) => completed.has(r)),
      'and everything below it was applied',
    );
  } finally {
    parked = false; // never leave a lane retrying forever, even after a failed assertion
    await s.idle();
  }
  assert.equal(completed.size, records.length);
});

test('a non-retriable failure stops the scheduler; the failed records never complete', async () => {
  const poison = 'key-poison';
  const records = stream(600, 50, 3, prng(3));
  records.splice(100, 0, { key: poison, seq: 0, partition: 0, offset: 10_000 });
  const fatal: unknown[] = [];
  const completed = new Set<Rec>();
  let callsAfterFatal = 0;
  const err = new SluiceError('SLUICE_ERR_CODEC_VALUE', 'cannot apply (test)');
  const s = new KeyScheduler<Rec>({
    ...fast,
    concurrency: 4,
    maxBatchSize: 8,
    maxInFlight: 10_000,
    hashOf,
    handler: async (batch) => {
      if (fatal.length > 0) callsAfterFatal++;
      await new Promise((r) => setImmediate(r));
      if (batch.some((r) => r.key === poison)) throw err;
    },
    onComplete: (batch) => batch.forEach((r) => completed.add(r)),
    onFatal: (e) => fatal.push(e),
  });
  for (const r of records) s.push(r);
  await waitFor(() => fatal.length === 1 && s.running === 0, 'the fatal error and the running batches to end', 5_000);
  assert.equal(fatal[0], err);
  assert.equal(s.failed, err);
  assert.equal(callsAfterFatal, 0, 'no batch starts after the failure');
  assert.ok(![...completed].some((r) => r.key === poison));
  assert.ok(completed.size < records.length);
  await s.waitForCapacity(); // does not hang once failed
});

test('back-pressure: hasCapacity turns false at maxInFlight, waitForCapacity resolves when a batch ends', async () => {
  const g = gate();
  const s = new KeyScheduler<Rec>({ concurrency: 2, maxBatchSize: 5, maxInFlight: 50, hashOf, handler: () => g.wait() });
  const recs = stream(50, 20);
  for (const r of recs) s.push(r);
  assert.equal(s.hasCapacity(), false);
  let resolved = false;
  const waiting = s.waitForCapacity().then(() => (resolved = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, false);
  g.open();
  await waiting;
  assert.ok(s.hasCapacity());
  await s.idle();
});

test('drop() removes queued records of revoked partitions; idle() waits for their running batches; abandon() ends retries', async () => {
  const g = gate();
  const handled: Rec[] = [];
  let failP2 = true;
  const s = new KeyScheduler<Rec>({
    ...fast,
    concurrency: 2,
    lanes: 2,
    maxBatchSize: 4,
    maxInFlight: 10_000,
    hashOf,
    handler: async (batch) => {
      if (batch[0]!.partition === 2 && failP2) throw transient();
      await g.wait();
      handled.push(...batch);
    },
  });
  // Partition 0 first (a key lives in one partition, so each key keeps its order): whichever lane
  // starts, its running batch holds a partition-0 record. With random order both running batches
  // could miss partition 0 now and then, and idle() below would rightly be true at once.
  const recs = stream(200, 30, 3, prng(11))
    .map((r) => ({ ...r, partition: r.partition === 2 ? 1 : r.partition }))
    .sort((a, b) => (a.partition === 0 ? 0 : 1) - (b.partition === 0 ? 0 : 1));
  for (const r of recs) s.push(r);
  await waitFor(() => s.running === 2, 'two running batches', 5_000);
  const dropped = s.drop((r) => r.partition === 0);
  assert.ok(dropped.length > 0 && dropped.every((r) => r.partition === 0));
  let idle = false;
  const idleP0 = s.idle((r) => r.partition === 0).then((v) => (idle = v));
  assert.equal(await s.idle((r) => r.partition === 0, 20), false, 'times out while a partition-0 batch runs');
  g.open();
  assert.equal(await idleP0, true);
  assert.ok(idle);
  await s.idle();
  assert.ok(!handled.some((r) => dropped.includes(r)), 'dropped records never ran');
  // A batch retrying for a revoked partition stops when abandoned.
  failP2 = true;
  const p2 = { key: 'k', seq: 0, partition: 2, offset: 0 };
  s.push(p2);
  await waitFor(() => s.running === 1, 'the partition-2 batch to start', 5_000);
  s.abandon((r) => r.partition === 2);
  await s.idle();
  assert.ok(!handled.includes(p2));
  assert.equal(s.failed, undefined, 'abandoning is not a failure');
});
