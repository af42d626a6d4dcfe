// OffsetTracker: the committable offset is the lowest offset not yet completed, never the highest
// completed one, and "last applied + 1" when nothing is outstanding
// (docs/guarantees.md: lowest-unfinished-offset, explicit-commit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OffsetTracker } from '../../src/transport/kafka/offset-tracker.js';
import { prng } from '../support/prng.js';

test('nothing handed out: nothing to commit', () => {
  assert.equal(new OffsetTracker().committable('t/0'), undefined);
});

test('out-of-order completion: committable stays at the lowest unfinished offset', () => {
  const t = new OffsetTracker();
  for (let o = 10n; o < 15n; o++) assert.ok(t.handOut('t/0', o));
  assert.equal(t.committable('t/0'), 10n);
  t.complete('t/0', 13n);
  t.complete('t/0', 14n);
  assert.equal(t.committable('t/0'), 10n, 'offsets 13 and 14 are done but 10..12 are not: committing 15 would skip them');
  t.complete('t/0', 10n);
  assert.equal(t.committable('t/0'), 11n);
  t.complete('t/0', 12n);
  assert.equal(t.committable('t/0'), 11n);
  t.complete('t/0', 11n);
  assert.equal(t.committable('t/0'), 15n, 'all done: last applied + 1');
  assert.equal(t.outstanding('t/0'), 0);
});

test('offset gaps (compaction, transaction markers) are skipped over', () => {
  const t = new OffsetTracker();
  for (const o of [5n, 9n, 12n]) t.handOut('t/0', o);
  t.complete('t/0', 9n);
  assert.equal(t.committable('t/0'), 5n);
  t.complete('t/0', 5n);
  assert.equal(t.committable('t/0'), 12n);
  t.complete('t/0', 12n);
  assert.equal(t.committable('t/0'), 13n);
});

test('a re-fetched offset is refused; completing an unknown or stale offset does nothing', () => {
  const t = new OffsetTracker();
  t.handOut('t/0', 1n);
  t.handOut('t/0', 2n);
  assert.equal(t.handOut('t/0', 2n), false);
  assert.equal(t.handOut('t/0', 1n), false);
  assert.equal(t.complete('t/0', 7n), false);
  assert.equal(t.complete('t/0', 1n), true);
  assert.equal(t.complete('t/0', 1n), false, 'completed twice');
  t.reset('t/0');
  assert.equal(t.complete('t/0', 2n), false, 'after a revoke the partition is forgotten');
  assert.equal(t.committable('t/0'), undefined);
});

test('partitions are independent', () => {
  const t = new OffsetTracker();
  t.handOut('t/0', 0n);
  t.handOut('t/1', 100n);
  t.complete('t/1', 100n);
  assert.equal(t.committable('t/0'), 0n);
  assert.equal(t.committable('t/1'), 101n);
  assert.deepEqual(t.partitions().sort(), ['t/0', 't/1']);
});

test('random completion orders: committable never passes an unfinished record', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rnd = prng(seed);
    const t = new OffsetTracker();
    const all: bigint[] = [];
    const open: bigint[] = [];
    const done = new Set<bigint>();
    let next = BigInt(Math.floor(rnd() * 1000));
    // Hand-outs interleaved with completions in random order, like fetches overlapping applies.
    for (let step = 0; step < 1500; step++) {
      if (rnd() < 0.5 || open.length === 0) {
        next += 1n + BigInt(Math.floor(rnd() * 3)); // occasional gaps
        assert.ok(t.handOut('p', next));
        all.push(next);
        open.push(next);
      } else {
        const [o] = open.splice(Math.floor(rnd() * open.length), 1);
        t.complete('p', o!);
        done.add(o!);
      }
      const c = t.committable('p')!;
      const lowestOpen = open.length > 0 ? open.reduce((a, b) => (a < b ? a : b)) : next + 1n;
      assert.equal(c, lowestOpen, `seed ${seed} step ${step}`);
      // The trap: the highest completed + 1 would pass records still running.
      if (step % 25 === 0) for (const h of all) if (h < c) assert.ok(done.has(h), `seed ${seed}: committable ${c} passes unfinished ${h}`);
    }
  }
});
