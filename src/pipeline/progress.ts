/**
 * One live line of progress: on a terminal it is rewritten in place; elsewhere (CI, a log file)
 * it is printed every few seconds so the log stays readable.
 */
import type { PipelineStats } from './stats.js';

export function startProgress(stats: PipelineStats, out: NodeJS.WriteStream = process.stderr, everyMs?: number): () => void {
  const tty = out.isTTY === true;
  const interval = everyMs ?? (tty ? 500 : 5000);
  let lastApplied = stats.applied;
  let lastAt = Date.now();
  const render = () => {
    const now = Date.now();
    const rate = ((stats.applied - lastApplied) * 1000) / Math.max(1, now - lastAt);
    lastApplied = stats.applied;
    lastAt = now;
    const line = `captured ${stats.captured}  applied ${stats.applied}  skipped ${stats.skipped}  dead ${stats.deadLettered}  backlog ${stats.backlog}  lag ${formatMs(stats.lagMs())}  ${Math.round(rate)}/s`;
    if (tty) out.write(`\r\x1b[2K${line}`);
    else out.write(`${line}\n`);
  };
  const timer = setInterval(render, interval);
  timer.unref();
  return () => {
    clearInterval(timer);
    render();
    if (tty) out.write('\n');
  };
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
