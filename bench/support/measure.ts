// Shared by the benchmarks: the median of a few rounds, a rate timer, and the apply benches' rows.
import type { Row } from '../../src/core/table-schema.js';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Items per second for `n` items handled by `fn`. */
export async function timed(n: number, fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** `n` rows of the apply benches' 10-column table; `round` changes every non-key value. */
export function makeRows(n: number, round: number): Row[] {
  return Array.from({ length: n }, (_, i) => ({
    id: BigInt(i + 1),
    account: i % 1000,
    counter: BigInt(i) * 1_000_003n + BigInt(round),
    code: `CODE-${i}-${round}`,
    note: i % 3 ? null : `note ${i} round ${round}`,
    amount: `${i % 100000}.${String(i % 100).padStart(2, '0')}`,
    ratio: i / 7 + round,
    created_at: `2024-03-01T10:${String(i % 60).padStart(2, '0')}:00.${String(i % 1_000_000).padStart(6, '0')}Z`,
    active: i % 2 === 0,
    valid_from: i % 5 ? '2024-03-01' : null,
  }));
}
