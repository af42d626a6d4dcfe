/**
 * How one table's changes in a batch are loaded: decided here, from their number, their mix of
 * upserts and deletes, the table's columns and what the dialect can do, without a database.
 * execute.ts carries the decision out.
 *
 *   inline   up to `inlineMax` changes: their rows are one JSON parameter of the guarded
 *            statement itself (one round trip, no stage). Measured: COPY costs two round trips
 *            (start, then data) and a stage used in a transaction is truncated at its commit (a
 *            file operation that 16 concurrent small batches queued on); from about a hundred
 *            rows on, COPY's cheaper parsing wins. Not for a table with json columns (their text
 *            would have to be spliced into the JSON).
 *   stage    COPY into a temp stage table, then the guarded statement over it.
 *   newKeys  from `newKeysMin` upserts and no delete, while the sink's back-off allows
 *            (new-keys.ts): COPY straight into the version table and the target, plain writes
 *            undone at the first key that exists, then loaded as `stage`. Measured on 200k
 *            inserted rows in 20k-row batches (bench/apply-postgres.ts, 2 cores, 2026-12-05, a
 *            shared host): 1.6–2.5× the guarded statement alone in the same run (58–129k
 *            against 33–77k rows/s).
 *   rows     a dialect without COPY (MariaDB): multi-row statements with bound parameters.
 */
import type { Change, TableBinding } from './dialects/types.js';

/** What a dialect can do to load a table's changes. */
export interface LoadCapabilities {
  /** COPY and a stage table (the PostgreSQL family); without it every load is `rows`. */
  readonly stage: boolean;
  /** Up to this many changes travel inline (0: never). */
  readonly inlineMax: number;
  /** From this many upserts, new keys are tried (Infinity: never). */
  readonly newKeysMin: number;
}

/** Which halves of the guarded statement a load needs: one with only upserts or only deletes skips the other's scan and join. */
export type ApplyShape = 'both' | 'upserts' | 'deletes';

interface LoadOf<K extends string> {
  readonly kind: K;
  readonly binding: TableBinding;
  /** At most one per key, in the binding's key order. */
  readonly changes: readonly Change[];
}

export type Load =
  | (LoadOf<'inline'> & { readonly shape: ApplyShape })
  | (LoadOf<'stage'> & { readonly shape: ApplyShape })
  | LoadOf<'newKeys'>
  | LoadOf<'rows'>;

export function applyShape(changes: readonly Change[]): ApplyShape {
  let dels = 0;
  for (const c of changes) if (c.deleted) dels++;
  return dels === 0 ? 'upserts' : dels === changes.length ? 'deletes' : 'both';
}

/** Whether these changes could be loaded as new keys (the sink's back-off then has the last word). */
export function newKeysCandidate(changes: readonly Change[], caps: LoadCapabilities): boolean {
  return caps.stage && changes.length >= caps.newKeysMin && changes.every((c) => !c.deleted);
}

/** `newKeys`: the sink's back-off allows an attempt now (asked only of a candidate). */
export function plan(binding: TableBinding, changes: readonly Change[], caps: LoadCapabilities, opts: { newKeys: boolean }): Load {
  if (!caps.stage) return { kind: 'rows', binding, changes };
  if (opts.newKeys && newKeysCandidate(changes, caps)) return { kind: 'newKeys', binding, changes };
  const shape = applyShape(changes);
  if (changes.length <= caps.inlineMax && !binding.columns.some((c) => c.type.kind === 'json')) {
    return { kind: 'inline', binding, changes, shape };
  }
  return { kind: 'stage', binding, changes, shape };
}
