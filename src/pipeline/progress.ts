/**
 * One live line of progress: on a terminal it is rewritten in place (log entries are printed above
 * it, see observe/logger.ts); elsewhere (CI, a log file) it is printed every few seconds so the log
 * stays readable.
 */
import { drawLiveLine, endLiveLine } from '../observe/logger.js';
import type { PipelineStats } from './stats.js';

/**
 * With nothing applied for this long and nothing waiting at the source, the line says the
 * pipeline is idle instead of repeating the lag of the last change it applied, which says nothing
 * about now.
 */
export const IDLE_AFTER_MS = 2000;

export interface ProgressState {
  /** Rows each running snapshot had copied at the previous line, for its rate. */
  snapshotRows?: Map<string, number>;
  snapshotAt?: number;
  handled: number;
  handledChangedAt: number;
  lastApplied: number;
  lastAt: number;
}

export function progressState(stats: PipelineStats, now = Date.now()): ProgressState {
  return { handled: handledOf(stats), handledChangedAt: now, lastApplied: stats.applied, lastAt: now };
}

/** The line for `now`, advancing `state` (the rate is over the time since the previous line). */
export function progressLine(stats: PipelineStats, state: ProgressState, now = Date.now()): string {
  const rate = ((stats.applied - state.lastApplied) * 1000) / Math.max(1, now - state.lastAt);
  state.lastApplied = stats.applied;
  state.lastAt = now;
  const handled = handledOf(stats);
  if (handled !== state.handled) {
    state.handled = handled;
    state.handledChangedAt = now;
  }
  const idle = stats.backlog === 0 && now - state.handledChangedAt >= IDLE_AFTER_MS;
  const tail = idle ? 'lag 0  idle, caught up' : `lag ${formatMs(stats.lagMs())}  ${Math.round(rate)}/s`;
  const line = `captured ${stats.captured}  applied ${stats.applied}  skipped ${stats.skipped}  dead ${stats.deadLettered}  backlog ${stats.backlog}  ${tail}`;
  const snap = snapshotPart(stats, state, now);
  return snap ? `${line}  ${snap}` : line;
}

/**
 * The running snapshots: "snapshot public.coupon 45% 9000/20000 3200 rows/s ETA 4 s" (the table
 * closest to done first; others counted). The estimate is the planner's, so a percentage may pass
 * 100 before the last chunk.
 */
function snapshotPart(stats: PipelineStats, state: ProgressState, now: number): string {
  const running = stats.snapshots.filter((s) => !s.done);
  const before = state.snapshotRows ?? new Map<string, number>();
  const elapsedMs = now - (state.snapshotAt ?? now);
  state.snapshotRows = new Map(stats.snapshots.map((s) => [s.table, s.rows]));
  state.snapshotAt = now;
  const first = running[0];
  if (!first) return '';
  const rate = elapsedMs > 0 ? ((first.rows - (before.get(first.table) ?? first.rows)) * 1000) / elapsedMs : 0;
  const pct = first.estimate > 0 ? `${Math.floor((first.rows * 100) / first.estimate)}% ` : '';
  const eta = rate > 0 && first.estimate > first.rows ? `  ETA ${formatMs(Math.round(((first.estimate - first.rows) / rate) * 1000))}` : '';
  const more = running.length > 1 ? ` (+${running.length - 1} more)` : '';
  return `snapshot ${first.table} ${pct}${first.rows}/${first.estimate} ${Math.round(rate)} rows/s${eta}${more}`;
}

export function startProgress(
  stats: PipelineStats,
  out: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
  everyMs?: number,
): () => void {
  const tty = out.isTTY === true;
  const interval = everyMs ?? (tty ? 500 : 5000);
  const state = progressState(stats);
  const render = () => {
    const line = progressLine(stats, state);
    if (tty) drawLiveLine(out, line);
    else out.write(`${line}\n`);
  };
  const timer = setInterval(render, interval);
  timer.unref();
  return () => {
    clearInterval(timer);
    render();
    if (tty) endLiveLine();
  };
}

function handledOf(stats: PipelineStats): number {
  return stats.applied + stats.skipped + stats.deadLettered;
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
