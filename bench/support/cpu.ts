// Machine-wide CPU accounting for a benchmark window (Linux /proc/stat; elsewhere: undefined), so
// a rate can be set against what the machine had: on a small machine the database, the broker and
// sluice share the cores, and a ratio that stops scaling is either waiting or out of CPU.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

interface Ticks {
  busy: number;
  total: number;
}

function ticks(): Ticks | undefined {
  try {
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest is in user)
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - f[3]! - f[4]!, total };
  } catch {
    return undefined;
  }
}

export interface CpuWindow {
  /** Cores of the host running the benchmark. */
  readonly cores: number;
  /** Share of all cores busy (any process) during the window, 0–1. */
  readonly busy: number;
  /** Core-seconds used during the window: by every process, and by this one (sluice and the bench). */
  readonly coreSeconds: number;
  readonly thisProcessCoreSeconds: number;
}

/** Starts a window; the returned function ends it. */
export function cpuWindow(): () => CpuWindow | undefined {
  const t0 = ticks();
  const p0 = process.cpuUsage();
  return () => {
    const t1 = ticks();
    if (!t0 || !t1 || t1.total === t0.total) return undefined;
    const p = process.cpuUsage(p0);
    const cores = cpus().length;
    const busy = (t1.busy - t0.busy) / (t1.total - t0.total);
    // /proc/stat counts USER_HZ ticks summed over cores: total ticks / cores = elapsed ticks.
    const elapsedS = (t1.total - t0.total) / cores / 100;
    return { cores, busy, coreSeconds: busy * cores * elapsedS, thisProcessCoreSeconds: (p.user + p.system) / 1e6 };
  };
}
