// Per-table lag at each stage, from a tracker fed changes by hand on a clock the test moves: each
// stage reads the source commit time of the oldest change waiting there, a table with nothing
// waiting shows 0 while another waits, an idle source shows 0 an hour after its last change, and
// /metrics exports the gauge by table and stage.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeBatch, Source } from '../../src/core/contracts.js';
import type { ChangeEvent } from '../../src/core/change-event.js';
import { PipelineTracker } from '../../src/observe/tracker.js';
import { pipelineMetrics } from '../../src/observe/metrics.js';
import { parsePrometheus, sampleValue } from './prometheus-text.js';

const T0 = Date.parse('2024-05-01T12:00:00.000Z');
const at = (seconds: number) => T0 + seconds * 1000;

function change(table: string, id: number, committedAt: number): ChangeEvent {
  return {
    table: { schema: 'public', name: table },
    op: 'c',
    key: { id },
    after: { id },
    source: { connector: 'test', position: String(id), commitTs: new Date(committedAt).toISOString() },
    version: BigInt(id),
  };
}

function clock(): { now: () => number; set(ms: number): void } {
  let ms = T0;
  return { now: () => ms, set: (v) => void (ms = v) };
}

const lagOf = (t: PipelineTracker, table: string) => t.tableStatus().find((s) => s.table === table)!.stageLagSeconds;

/** A source whose batches the test hands over one by one, and which remembers what it was told to free. */
function handFedSource(batches: ChangeBatch[]): Source {
  return {
    name: 'hand-fed',
    tables: async () => [],
    start: () => ({
      [Symbol.asyncIterator]: () => ({
        next: async () => (batches.length ? { done: false, value: batches.shift()! } : { done: true, value: undefined }),
      }),
    }),
    acknowledge: async () => {},
    stop: async () => {},
  };
}

describe('lag per table at each stage', () => {
  test('direct transport: applied and captured from the oldest change waiting; 0 once applied and while idle', () => {
    const c = clock();
    const t = new PipelineTracker({ tables: ['public.coupon', 'public.shop'], sampleEveryMs: 0, now: c.now });
    try {
      assert.deepEqual(lagOf(t, 'public.coupon'), { captured: 0, published: null, applied: 0 });

      // Two changes committed at 0 s and 1 s, read at 3 s; a third committed at 10 s, read at 10.5 s.
      c.set(at(3));
      const first = [change('coupon', 1, at(0)), change('coupon', 2, at(1))];
      t.noteCaptured(first);
      c.set(at(10.5));
      const third = [change('coupon', 3, at(10))];
      t.noteCaptured(third);

      c.set(at(20));
      assert.deepEqual(lagOf(t, 'public.coupon'), { captured: 3, published: null, applied: 20 });
      // The history the charts draw carries the same stage lags.
      assert.deepEqual(t.sample().tables['public.coupon']!.stages, { captured: 3, published: null, applied: 20 });
      // Nothing of shop waits: its stages show 0 while coupon's grow.
      assert.deepEqual(lagOf(t, 'public.shop'), { captured: 0, published: null, applied: 0 });

      // The first change applied: the second (committed at 1 s, read at 3 s) is now the oldest waiting.
      t.noteApplied(first.slice(0, 1), 5);
      assert.deepEqual(lagOf(t, 'public.coupon'), { captured: 2, published: null, applied: 19 });
      t.noteApplied(first.slice(1), 5);
      assert.deepEqual(lagOf(t, 'public.coupon'), { captured: 0.5, published: null, applied: 10 });

      t.noteApplied(third, 5);
      assert.deepEqual(lagOf(t, 'public.coupon'), { captured: 0, published: null, applied: 0 });
      // An hour of silence is not an hour of lag.
      c.set(at(3600));
      assert.deepEqual(lagOf(t, 'public.coupon'), { captured: 0, published: null, applied: 0 });
    } finally {
      t.close();
    }
  });

  test('Kafka transport: published until the broker acknowledges, then applied', async () => {
    const c = clock();
    const t = new PipelineTracker({ tables: ['public.coupon'], sampleEveryMs: 0, now: c.now });
    const b1: ChangeBatch = { events: [change('coupon', 1, at(0)), change('coupon', 2, at(0))], position: 'p1' };
    const b2: ChangeBatch = { events: [change('coupon', 3, at(4))], position: 'p2' };
    const src = t.observeSource(handFedSource([b1, b2]), { published: true });
    const batches = src.start()[Symbol.asyncIterator]();
    try {
      c.set(at(1));
      await batches.next();
      c.set(at(5));
      await batches.next();

      c.set(at(8));
      // Nothing reached the broker yet: every change waits to be published, none to be applied.
      assert.deepEqual(lagOf(t, 'public.coupon'), { captured: 1, published: 8, applied: 0 });

      await src.acknowledge('p1');
      assert.deepEqual(lagOf(t, 'public.coupon'), { captured: 1, published: 4, applied: 8 });

      // The consumer applies the first batch before the broker acknowledged the second.
      t.noteApplied(b1.events, 5);
      assert.deepEqual(lagOf(t, 'public.coupon'), { captured: 1, published: 4, applied: 0 });

      // A consumer may apply a change before its publish is acknowledged: it waits nowhere then.
      t.noteApplied(b2.events, 5);
      assert.deepEqual(lagOf(t, 'public.coupon'), { captured: 0, published: 4, applied: 0 });
      await src.acknowledge('p2');
      assert.deepEqual(lagOf(t, 'public.coupon'), { captured: 0, published: 0, applied: 0 });
    } finally {
      t.close();
    }
  });

  test('a change without a commit time waits from the moment it was read', () => {
    const c = clock();
    const t = new PipelineTracker({ tables: ['public.coupon'], sampleEveryMs: 0, now: c.now });
    try {
      const e = { ...change('coupon', 1, at(0)), source: { connector: 'test', position: '1' } };
      c.set(at(2));
      t.noteCaptured([e]);
      c.set(at(7));
      assert.deepEqual(lagOf(t, 'public.coupon'), { captured: 0, published: null, applied: 5 });
    } finally {
      t.close();
    }
  });

  test('/metrics: sluice_table_stage_lag_seconds by table and stage', async () => {
    const c = clock();
    const t = new PipelineTracker({ tables: ['public.coupon', 'public.shop'], sampleEveryMs: 0, now: c.now });
    try {
      c.set(at(2));
      t.noteCaptured([change('coupon', 1, at(0))]);
      c.set(at(30));
      const m = pipelineMetrics({
        pipeline: 'stage-lag',
        stats: { captured: 1, published: 0, applied: 0, skipped: 0, deadLettered: 0, backlog: 0, lagMs: () => 0 },
        tracker: t,
      });
      const samples = parsePrometheus(await m.metrics());
      const v = (table: string, stage: string) =>
        sampleValue(samples, 'sluice_table_stage_lag_seconds', { pipeline: 'stage-lag', table, stage });
      assert.equal(v('public.coupon', 'captured'), 2);
      assert.equal(v('public.coupon', 'applied'), 30);
      assert.equal(v('public.shop', 'applied'), 0);
      // Without Kafka there is no published stage to report.
      assert.equal(
        samples.some((s) => s.name === 'sluice_table_stage_lag_seconds' && s.labels.stage === 'published'),
        false,
      );
    } finally {
      t.close();
    }
  });
});
