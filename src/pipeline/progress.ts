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
  return `captured ${stats.captured}  applied ${stats.applied}  skipped ${stats.skipped}  dead ${stats.deadLettered}  backlog ${stats.backlog}  ${tail}`;
}

export function startProgress(stats: PipelineStats, out: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr, everyMs?: number): () => void {
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
