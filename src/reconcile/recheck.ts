/**
 * Live-data safety: a row the diff found different may only be behind. Each round reads the
 * candidates again on the source, reads the source position, waits until replication has applied
 * past it, then reads them on the target:
 *   - equal now                                   → it was lag: dropped, never reported;
 *   - different, and both sides exactly as the
 *     round before (same row hashes), in `stable`
 *     rounds in a row                             → confirmed: replication passed it and it stayed
 *                                                   (two rounds, so a value that changes and comes
 *                                                   back between two reads is not taken as stable);
 *   - changed on either side                      → another round; after the last, in flight.
 * A round whose wait timed out cannot confirm anything (the target may simply be behind).
 */
import type { KeyTexts } from './keys.js';
import type { Candidate, ReplicationProbe } from './diff.js';
import { hashesForKeys } from './queries.js';
import type { DriftKind } from './report.js';
import type { Side } from './side.js';

export interface RecheckOptions {
  readonly rounds: number;
  /** Consecutive unchanged rounds that confirm a difference. */
  readonly stable: number;
  readonly waitTimeoutMs: number;
  /** Keys per statement. */
  readonly batch: number;
}

export interface RecheckResult {
  readonly confirmed: Array<{ key: KeyTexts; kind: DriftKind }>;
  readonly inFlight: KeyTexts[];
  readonly rounds: number;
  readonly waitTimeouts: number;
  readonly waitMs: number;
}

const SEP = '\u0000';
const id = (k: KeyTexts) => k.join(SEP);

export async function recheck(
  source: Side,
  target: Side,
  probe: ReplicationProbe | undefined,
  candidates: readonly Candidate[],
  opts: RecheckOptions,
): Promise<RecheckResult> {
  let open = candidates.map((c) => ({ key: c.key, source: c.source, target: c.target, stable: 0 }));
  const confirmed: RecheckResult['confirmed'] = [];
  let rounds = 0;
  let waitTimeouts = 0;
  let waitMs = 0;
  while (open.length > 0 && rounds < opts.rounds) {
    rounds++;
    const keys = open.map((c) => c.key);
    let caughtUp = true;
    let src: Map<string, bigint>;
    let tgt: Map<string, bigint>;
    if (probe) {
      src = await readHashes(source, keys, opts.batch);
      const t0 = performance.now();
      caughtUp = await probe.waitApplied(await probe.position(), opts.waitTimeoutMs);
      waitMs += performance.now() - t0;
      if (!caughtUp) waitTimeouts++;
      tgt = await readHashes(target, keys, opts.batch);
    } else {
      // No source position to wait for: both sides are read at once.
      [src, tgt] = await Promise.all([readHashes(source, keys, opts.batch), readHashes(target, keys, opts.batch)]);
    }
    const next: typeof open = [];
    for (const c of open) {
      const s = src.get(id(c.key));
      const t = tgt.get(id(c.key));
      if (s === t) continue;
      const stable = caughtUp && s === c.source && t === c.target ? c.stable + 1 : 0;
      if (stable >= opts.stable)
        confirmed.push({ key: c.key, kind: s === undefined ? 'extra' : t === undefined ? 'missing' : 'different' });
      else next.push({ key: c.key, source: s, target: t, stable });
    }
    open = next;
  }
  return { confirmed, inFlight: open.map((c) => c.key), rounds, waitTimeouts, waitMs };
}

async function readHashes(side: Side, keys: readonly KeyTexts[], batch: number): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (let i = 0; i < keys.length; i += batch) {
    for (const r of await hashesForKeys(side, keys.slice(i, i + batch))) out.set(id(r.key), r.hash);
  }
  return out;
}
