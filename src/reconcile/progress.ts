/**
 * One live progress line for a long reconcile run, like pipeline/progress.ts: on a terminal it is
 * rewritten in place (every 0.5 s); elsewhere (CI, a log file) a line is printed every 5 s.
 * The run owns the figures; this only samples them through `get`, so it never slows the run.
 */

export interface ReconcileProgress {
  /** The table being reconciled now. */
  table: string;
  /** Key ranges of this table checksummed so far. */
  rangesDone: number;
  /** Rows of this table read so far (the rate and ETA are computed from it). */
  rowsDone: number;
  /** Rows expected in this table (e.g. from pg_class.reltuples); approximate, may be exceeded. */
  rowsEstimate?: number;
  phase: 'checksum' | 'compare' | 'recheck' | 'repair';
}

/**
 * Starts sampling `get` and printing a line; returns `stop`, which prints a last line (and ends
 * the line on a terminal). Nothing is printed while `get` returns undefined. The rate is rows per
 * second over the last interval; when the table changes, it counts from 0 for the new table.
 */
export function startReconcileProgress(
  get: () => ReconcileProgress | undefined,
  out: NodeJS.WriteStream = process.stderr,
  everyMs?: number,
): () => void {
  const tty = out.isTTY === true;
  const interval = everyMs ?? (tty ? 500 : 5000);
  let lastTable: string | undefined;
  let lastRows = 0;
  let lastAt = Date.now();
  let printed = false;
  const render = () => {
    const p = get();
    const now = Date.now();
    if (!p) {
      lastAt = now;
      return;
    }
    const base = p.table === lastTable ? lastRows : 0;
    const rate = (Math.max(0, p.rowsDone - base) * 1000) / Math.max(1, now - lastAt);
    lastTable = p.table;
    lastRows = p.rowsDone;
    lastAt = now;
    const line = formatProgress(p, rate);
    printed = true;
    if (tty) out.write(`\r\x1b[2K${line}`);
    else out.write(`${line}\n`);
  };
  const timer = setInterval(render, interval);
  timer.unref();
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    render();
    if (tty && printed) out.write('\n');
  };
}

/**
 * `reconcile public.orders  checksum  ranges 12  rows 120000 of 1000000 (12%)  8000 rows/s  ETA 1m50s`.
 * Percentage and ETA only with an estimate; the percentage stops at 100 when the estimate was low,
 * and the ETA is left out when the rate is 0 or the estimate is already reached.
 */
export function formatProgress(p: ReconcileProgress, ratePerSec: number): string {
  const parts = [`reconcile ${p.table}`, p.phase, `ranges ${p.rangesDone}`];
  const est = p.rowsEstimate;
  const hasEstimate = est !== undefined && Number.isFinite(est) && est > 0;
  if (hasEstimate) {
    const pct = Math.min(100, Math.floor((p.rowsDone * 100) / est));
    parts.push(`rows ${p.rowsDone} of ${Math.round(est)} (${pct}%)`);
  } else {
    parts.push(`rows ${p.rowsDone}`);
  }
  const rate = Number.isFinite(ratePerSec) && ratePerSec > 0 ? ratePerSec : 0;
  parts.push(`${Math.round(rate)} rows/s`);
  if (hasEstimate && rate > 0 && p.rowsDone < est) parts.push(`ETA ${formatDuration((est - p.rowsDone) / rate)}`);
  return parts.join('  ');
}

/** 42 → "42s", 110 → "1m50s", 7384 → "2h03m". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
