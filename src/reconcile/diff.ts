/**
 * The diff of one table: find the keys whose rows differ between source and target, reading
 * every row once on each side inside the databases and streaming rows only where they differ.
 *
 *   1. Walk the source's key index from the last range's end: the next range is the next `limit`
 *      keys (sized so a range takes about `rangeMs`). Where the engine allows, the walk and the
 *      range's checksum are one statement (nextRangeSums); otherwise rangeEnd finds the end first.
 *   2. Checksum the range (count + sum of row hashes) on the source; read the source position;
 *      once replication has applied past it, checksum it on the target. The source walks up to
 *      AHEAD ranges in front of the target, which compares LANES ranges at once, so the two
 *      databases work at the same time.
 *   3. A range that differs is checksummed again per bucket on both sides (one statement each):
 *      an even grid over an integer key (keyGrid), else every bucketRows-th key as a start. Once
 *      drift was seen, the next ranges are bucketed at once; once two ranges in a row differed, a
 *      range the source read whole meanwhile skips its whole comparison. Buckets that differ are
 *      merged row by row: (key, row hash) streamed from both sides in key order; adjacent
 *      differing buckets are merged as one interval.
 *   4. The first range starts below the lowest key and the last one is open above, so target rows
 *      outside the source's key span are found as extra.
 * When most buckets of the ranges seen so far differ (a target far behind, an empty target), the
 * rest of the table is streamed and merged directly: checksumming it first would only add work.
 */
import { compareKeys, type KeyTexts } from './keys.js';
import {
  bucketStarts,
  bucketSums,
  fusedWalk,
  integerKey,
  keyGrid,
  nextRangeSums,
  rangeEnd,
  rowHashes,
  type BucketSum,
  type KeyGrid,
  type KeyHash,
  type KeyRange,
} from './queries.js';
import type { DriftKind } from './report.js';
import type { Side } from './side.js';

export interface Candidate {
  readonly key: KeyTexts;
  readonly kind: DriftKind;
  /** Row hashes as first seen (undefined: no row on that side). */
  readonly source?: bigint;
  readonly target?: bigint;
}

/** Where replication stands, so the target is read only after it caught up with the source read. */
export interface ReplicationProbe {
  /** The source's position now (e.g. the highest outbox sequence that is visible). */
  position(): Promise<bigint>;
  /** Resolves true once everything up to `position` is applied on the target, false after `timeoutMs`. */
  waitApplied(position: bigint, timeoutMs: number): Promise<boolean>;
}

export interface DiffOptions {
  /** Target duration of one range's checksum query. */
  readonly rangeMs: number;
  /** Rows of the first range, and the fewest of any but the last (ranges then adapt to rangeMs). */
  readonly initialRows: number;
  readonly minRows: number;
  /** Rows per bucket: the unit a differing range is narrowed to before rows are streamed. */
  readonly bucketRows: number;
  /**
   * Rows per bucket of an even grid over an integer key (keyGrid): arithmetic buckets cost about
   * the same however many there are, so they can be smaller and leave fewer rows to stream.
   */
  readonly gridBucketRows: number;
  /** Rows per page when streaming (key, row hash). */
  readonly pageRows: number;
  readonly waitTimeoutMs: number;
  /** Stop collecting candidates beyond this many (the table is then reported as overflowing). */
  readonly maxCandidates: number;
}

export const DIFF_DEFAULTS: DiffOptions = {
  rangeMs: 100,
  initialRows: 20_000,
  minRows: 1000,
  bucketRows: 100,
  gridBucketRows: 20,
  pageRows: 5000,
  waitTimeoutMs: 60_000,
  maxCandidates: 100_000,
};

export interface DiffProgress {
  ranges: number;
  rangesDiffering: number;
  sourceRows: number;
  targetRows: number;
  rowsCompared: number;
  /** Range walks that found the target still behind after waitTimeoutMs. */
  waitTimeouts: number;
  waitMs: number;
  phase: 'checksum' | 'compare';
}

export interface DiffResult extends DiffProgress {
  readonly candidates: Candidate[];
  /** More candidates than maxCandidates: counts beyond are in `overflowCounts`, keys are not kept. */
  readonly overflow: boolean;
  readonly overflowCounts: Record<DriftKind, number>;
}

const MAX_LIMIT = 2_000_000;
/** Ranges the source may have checksummed beyond the one the target is comparing. */
const AHEAD = 2;
/**
 * Ranges compared on the target at once (range i waits for range i - LANES): while one lane's
 * statement runs, the other's results are parsed and its merges issued, so the target database
 * is not left waiting on this process between statements (bench/reconcile.ts, one run each way:
 * narrow 0.1% scattered 1.65 → 1.62, wide 1.36 → 1.29; no drift unchanged).
 */
const LANES = 2;

interface Buckets {
  readonly starts: KeyTexts[];
  readonly grid?: KeyGrid;
}

export async function diffTable(
  source: Side,
  target: Side,
  probe: ReplicationProbe | undefined,
  opts: DiffOptions,
  progress?: (p: DiffProgress) => void,
): Promise<DiffResult> {
  const cmp = compareKeys(source.keyColumns);
  const res: DiffProgress = {
    ranges: 0,
    rangesDiffering: 0,
    sourceRows: 0,
    targetRows: 0,
    rowsCompared: 0,
    waitTimeouts: 0,
    waitMs: 0,
    phase: 'checksum',
  };
  const candidates: Candidate[] = [];
  const overflowCounts: Record<DriftKind, number> = { missing: 0, extra: 0, different: 0 };
  const note = (c: Candidate) => {
    if (candidates.length < opts.maxCandidates) candidates.push(c);
    else overflowCounts[c.kind]++;
  };
  let bucketsSeen = 0;
  let bucketsDiffering = 0;

  const waitFor = async () => {
    if (!probe) return;
    const pos = await probe.position();
    const t0 = performance.now();
    if (!(await probe.waitApplied(pos, opts.waitTimeoutMs))) res.waitTimeouts++;
    res.waitMs += performance.now() - t0;
  };

  /** Whether each recent range differed (bucketedFirst decides from it). */
  const recent: boolean[] = [];
  const noteRange = (differed: boolean) => {
    recent.push(differed);
    if (recent.length > 4) recent.shift();
  };
  // An integer key is bucketed by arithmetic (keyGrid), costing a few percent over a whole-range
  // checksum: bucket at once as soon as drift was seen nearby. Other keys need their bucket starts
  // walked and searched (far dearer): only once most recent ranges differ.
  const cheapBuckets = integerKey(source);
  const driftRun = () => recent.length >= 2 && recent.slice(-2).every(Boolean);
  const bucketedFirst = () =>
    cheapBuckets ? recent.slice(-2).some(Boolean) : recent.length >= 2 && recent.filter(Boolean).length * 2 > recent.length;

  /** Where a range's buckets start: an even grid over an integer key, else every bucketRows-th key. */
  const planBuckets = async (range: KeyRange, rows: number): Promise<Buckets> =>
    (await keyGrid(source, range, rows, opts.gridBucketRows)) ?? { starts: await bucketStarts(source, range, opts.bucketRows) };

  /** Compares one checksummed range on the target and merges what differs. */
  const finishRange = async (range: KeyRange, given: Buckets | undefined, first: Map<number, BucketSum>) => {
    const bucketed = given !== undefined;
    let starts = given?.starts ?? [];
    let grid = given?.grid;
    let src = first;
    let tgt: Map<number, BucketSum>;
    if (bucketed) {
      await waitFor();
      tgt = await bucketSums(target, range, starts, grid);
    } else {
      // Read whole, it is compared whole, unless the last two ranges both differed since it was
      // read (the source walks ahead): drift that dense will be in this one too, and comparing it
      // whole first would only read the target twice. (After one differing range it is a guess
      // that costs a source read whenever the drift was clustered in that range.)
      const whole = driftRun() ? undefined : await waitFor().then(() => bucketSums(target, range, [], undefined));
      if (whole && sameSum(src.get(0), whole.get(0))) {
        res.targetRows += whole.get(0)?.rows ?? 0;
        bucketsSeen += 1;
        res.ranges++;
        noteRange(false);
        progress?.(res);
        return;
      }
      // The range differs: checksum it again per bucket, the target once replication caught up.
      ({ starts, grid } = await planBuckets(range, src.get(0)?.rows ?? 0));
      src = await bucketSums(source, range, starts, grid);
      await waitFor();
      tgt = await bucketSums(target, range, starts, grid);
    }
    let differing = 0;
    /** Differing runs of buckets, each with the most rows either side holds in it. */
    const intervals: Array<{ range: KeyRange; rows: number }> = [];
    let open: { lower?: KeyRange['lower']; rows: number } | undefined;
    const buckets = starts.length + 1;
    for (let i = 0; i < buckets; i++) {
      const s = src.get(i);
      const t = tgt.get(i);
      res.targetRows += t?.rows ?? 0;
      if (!sameSum(s, t)) {
        differing++;
        if (!open)
          open =
            i === 0
              ? { ...(range.lower ? { lower: range.lower } : {}), rows: 0 }
              : { lower: { key: starts[i - 1]!, inclusive: true }, rows: 0 };
        open.rows += Math.max(s?.rows ?? 0, t?.rows ?? 0);
      } else if (open) {
        intervals.push({
          range: { ...(open.lower ? { lower: open.lower } : {}), upper: { key: starts[i - 1]!, inclusive: false } },
          rows: open.rows,
        });
        open = undefined;
      }
    }
    if (open)
      intervals.push({
        range: { ...(open.lower ? { lower: open.lower } : {}), ...(range.upper ? { upper: range.upper } : {}) },
        rows: open.rows,
      });
    noteRange(differing > 0);
    bucketsSeen += buckets;
    bucketsDiffering += differing;
    res.ranges++;
    if (differing > 0) res.rangesDiffering++;
    // Merged off the range walk's path (its own sessions), so the next ranges need not wait; in
    // batches that fit one page, so each batch is one statement per side.
    for (const batch of batches(intervals, opts.pageRows)) {
      merges = merges.then(() => mergeRanges(batch).then(() => undefined));
      merges.catch(() => {});
    }
    progress?.(res);
  };

  /** Streams (key, row hash) of some ranges from both sides in key order and merges them. */
  const mergeRanges = async (ranges: readonly KeyRange[]): Promise<{ source: number; target: number }> => {
    const counted = { source: 0, target: 0 };
    const src = pager(source, ranges, opts.pageRows);
    const tgt = pager(target, ranges, opts.pageRows);
    let [s, t] = await Promise.all([src.next(), tgt.next()]);
    while (s || t) {
      const d = !s ? 1 : !t ? -1 : cmp(s.key, t.key);
      if (d < 0) {
        note({ key: s!.key, kind: 'missing', source: s!.hash });
        s = await src.next();
      } else if (d > 0) {
        note({ key: t!.key, kind: 'extra', target: t!.hash });
        t = await tgt.next();
      } else {
        if (s!.hash !== t!.hash) note({ key: s!.key, kind: 'different', source: s!.hash, target: t!.hash });
        [s, t] = await Promise.all([src.next(), tgt.next()]);
      }
      if (d <= 0) counted.source++;
      if (d >= 0) counted.target++;
      res.rowsCompared++;
    }
    return counted;
  };

  let after: KeyTexts | undefined;
  let limit = opts.initialRows;
  const fused = fusedWalk(source);
  const ahead: Promise<void>[] = [];
  const lanes: Promise<void>[] = Array.from({ length: LANES }, () => Promise.resolve());
  let dispatched = 0;
  let merges: Promise<void> = Promise.resolve();
  try {
    for (;;) {
      if (res.ranges >= 4 && bucketsDiffering > bucketsSeen / 2) {
        // Most of what was seen differs: merge the rest of the table directly.
        await Promise.all(lanes);
        await merges;
        res.phase = 'compare';
        await waitFor();
        const n = await mergeRanges([after ? { lower: { key: after, inclusive: false } } : {}]);
        res.ranges++;
        res.rangesDiffering++;
        res.sourceRows += n.source;
        res.targetRows += n.target;
        break;
      }
      const t0 = performance.now();
      // A range is checksummed whole first (the same work as a plain checksum of its rows); per
      // bucket only when it differs, or at once when drift was seen nearby (bucketedFirst).
      const bucketed = bucketedFirst();
      let end: KeyTexts | undefined;
      let src: Map<number, BucketSum> | undefined;
      if (!bucketed && fused) {
        const r = await nextRangeSums(source, after, limit);
        end = r.end;
        src = new Map(r.sum ? [[0, r.sum]] : []);
      } else end = await rangeEnd(source, after, limit);
      const final = end === undefined;
      const range: KeyRange = {
        ...(after ? { lower: { key: after, inclusive: false } } : {}),
        ...(end ? { upper: { key: end, inclusive: true } } : {}),
      };
      const buckets = bucketed ? await planBuckets(range, limit) : undefined;
      src ??= await bucketSums(source, range, buckets?.starts ?? [], buckets?.grid);
      for (const v of src.values()) res.sourceRows += v.rows;
      const ms = performance.now() - t0;
      // Next range sized for rangeMs, changing by at most 4× per step.
      limit = Math.round(Math.min(MAX_LIMIT, Math.max(opts.minRows, limit * Math.min(4, Math.max(0.25, opts.rangeMs / Math.max(ms, 1))))));
      const checked = src;
      const lane = dispatched++ % LANES;
      const done = lanes[lane]!.then(() => finishRange(range, buckets, checked));
      lanes[lane] = done;
      // Awaited below (or by a later turn); until then a failure must not count as unhandled.
      done.catch(() => {});
      ahead.push(done);
      if (final) break;
      after = end;
      // The source walks on while the target catches up, at most AHEAD ranges in front, so neither
      // database waits for the other's slower query.
      if (ahead.length > AHEAD) await ahead.shift();
    }
    await Promise.all(lanes);
    await merges;
  } finally {
    // On a failure the other lane and the merges may still be running: nothing may query the
    // sides once this returns (the caller closes them).
    await Promise.allSettled(lanes);
    await merges.catch(() => {});
  }
  return { ...res, candidates, overflow: Object.values(overflowCounts).some((n) => n > 0), overflowCounts };
}

/** Pages of (key, row hash) from `ranges`, the next page requested as soon as one is handed out. */
function pager(side: Side, ranges: readonly KeyRange[], pageRows: number) {
  let page: KeyHash[] = [];
  let i = 0;
  let next: Promise<KeyHash[]> | undefined = rowHashes(side, ranges, undefined, pageRows);
  next.catch(() => {});
  return {
    async next(): Promise<KeyHash | undefined> {
      if (i < page.length) return page[i++];
      if (!next) return undefined;
      page = await next;
      i = 0;
      next = page.length < pageRows ? undefined : rowHashes(side, ranges, page[page.length - 1]!.key, pageRows);
      next?.catch(() => {});
      return page.length ? page[i++] : undefined;
    },
  };
}

/** Intervals grouped so each group's rows fit in `rows` (an interval larger than that goes alone). */
function batches(intervals: ReadonlyArray<{ range: KeyRange; rows: number }>, rows: number): KeyRange[][] {
  const out: KeyRange[][] = [];
  let cur: KeyRange[] = [];
  let n = 0;
  for (const iv of intervals) {
    if (cur.length && n + iv.rows >= rows) {
      out.push(cur);
      cur = [];
      n = 0;
    }
    cur.push(iv.range);
    n += iv.rows;
  }
  if (cur.length) out.push(cur);
  return out;
}

function sameSum(a: BucketSum | undefined, b: BucketSum | undefined): boolean {
  return (a?.rows ?? 0) === (b?.rows ?? 0) && (a?.sum ?? 0n) === (b?.sum ?? 0n);
}
