import assert from 'node:assert/strict';
import { once, EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { formatDuration, formatProgress, startReconcileProgress, type ReconcileProgress } from '../../src/reconcile/progress.js';

const base: ReconcileProgress = { table: 'public.orders', phase: 'checksum', rangesDone: 12, rowsDone: 120_000, rowsEstimate: 1_000_000 };

describe('formatProgress', () => {
  test('shows table, phase, ranges, rows of the estimate with a percentage, the rate and an ETA', () => {
    assert.equal(
      formatProgress(base, 8000),
      'reconcile public.orders  checksum  ranges 12  rows 120000 of 1000000 (12%)  8000 rows/s  ETA 1m50s',
    );
  });

  test('without an estimate: rows done and the rate, no percentage, no ETA', () => {
    const { rowsEstimate: _none, ...p } = base;
    assert.equal(
      formatProgress({ ...p, phase: 'compare' }, 1234.6),
      'reconcile public.orders  compare  ranges 12  rows 120000  1235 rows/s',
    );
    assert.equal(formatProgress({ ...base, rowsEstimate: 0 }, 10), 'reconcile public.orders  checksum  ranges 12  rows 120000  10 rows/s');
  });

  test('no ETA while the rate is 0 (or not a number)', () => {
    assert.equal(formatProgress(base, 0), 'reconcile public.orders  checksum  ranges 12  rows 120000 of 1000000 (12%)  0 rows/s');
    assert.equal(formatProgress(base, Number.NaN), 'reconcile public.orders  checksum  ranges 12  rows 120000 of 1000000 (12%)  0 rows/s');
  });

  test('an estimate that was too low stops at 100% with no ETA', () => {
    assert.equal(
      formatProgress({ ...base, phase: 'recheck', rowsDone: 1_200_000 }, 5000),
      'reconcile public.orders  recheck  ranges 12  rows 1200000 of 1000000 (100%)  5000 rows/s',
    );
  });

  test('ETA in seconds, minutes or hours', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(41.2), '42s');
    assert.equal(formatDuration(110), '1m50s');
    assert.equal(formatDuration(7384), '2h03m');
    assert.equal(
      formatProgress({ ...base, phase: 'repair', rowsDone: 0 }, 100),
      'reconcile public.orders  repair  ranges 12  rows 0 of 1000000 (0%)  100 rows/s  ETA 2h46m',
    );
  });
});

/** A stand-in for stderr that emits 'line' on each write. */
function fakeOut(isTTY: boolean) {
  const emitter = new EventEmitter();
  const writes: string[] = [];
  const out = {
    isTTY,
    write: (s: string) => {
      writes.push(s);
      emitter.emit('line', s);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { out, writes, emitter };
}

/**
 * The next line written. The progress timer is unref'd (it must never keep a process alive), so a
 * ref'd deadline keeps the event loop running while the test waits, and fails the test if no line comes.
 */
async function nextLine(emitter: EventEmitter): Promise<string> {
  let deadline: NodeJS.Timeout | undefined;
  try {
    const [line] = (await Promise.race([
      once(emitter, 'line'),
      new Promise<never>((_, reject) => {
        deadline = setTimeout(() => reject(new Error('no progress line within 5 s')), 5000);
      }),
    ])) as [string];
    return line;
  } finally {
    clearTimeout(deadline);
  }
}

describe('startReconcileProgress', () => {
  test('off a terminal: a line per interval, nothing while there is no progress, a last line at stop', async () => {
    const { out, writes, emitter } = fakeOut(false);
    let current: ReconcileProgress | undefined;
    let calls = 0;
    // The first two samples find no progress yet; the third finds some.
    const stop = startReconcileProgress(() => (++calls >= 3 ? current : undefined), out, 10);
    current = { ...base, rowsEstimate: undefined, rowsDone: 10 };
    const first = await nextLine(emitter);
    assert.equal(calls, 3);
    assert.equal(writes.length, 1);
    assert.match(first, /^reconcile public\.orders {2}checksum {2}ranges 12 {2}rows 10 {2}\d+ rows\/s\n$/);
    current = { ...base, table: 'public.items', rowsDone: 5 };
    stop();
    assert.match(writes.at(-1)!, /^reconcile public\.items .*rows 5 of 1000000 \(0%\)/);
    assert.ok(writes.every((w) => w.endsWith('\n') && !w.includes('\r')));
  });

  test('on a terminal: the line is rewritten in place and ended at stop', async () => {
    const { out, writes, emitter } = fakeOut(true);
    const stop = startReconcileProgress(() => base, out, 10);
    await nextLine(emitter);
    stop();
    assert.ok(writes[0]!.startsWith('\r\x1b[2Kreconcile public.orders'));
    assert.equal(writes.at(-1), '\n');
  });
});
