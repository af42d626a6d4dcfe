/**
 * When the sink tries a table's changes as plain writes of new keys before the guarded statement
 * (plan.ts `newKeys`, execute.ts). The attempt only succeeds when no key of the batch has been seen
 * before: a backfill, an initial load, an insert-only table such as a history or event log. There
 * it halves the database's work. Anywhere else it fails on the first key that exists, is undone by
 * its savepoint, and the guarded statement runs instead.
 *
 * So a table whose attempts fail is tried less and less often (after n misses in a row, the next
 * 2^n candidate batches skip the attempt, at most MAX_WAIT), and one success makes it try every time
 * again. A failed attempt costs little when it fails early, which is the common case: keys are
 * written in key order, keys seen before usually sort first, and a batch of updates fails on its
 * first row. The cap is low so that inserts after a long run of updates are noticed soon: a late
 * failure wastes at most one batch's work in MAX_WAIT + 1.
 *
 * Each attempt is a subtransaction. A transaction holding more than 64 of them (PostgreSQL's
 * per-backend cache) makes every other backend's snapshot checks slower until it ends, so one
 * transaction makes at most MAX_PER_TRANSACTION attempts.
 */
import type { TableBinding } from './dialects/types.js';
import type { TargetTx } from './drivers/types.js';

const MAX_WAIT = 16;
export const MAX_PER_TRANSACTION = 16;

export class NewKeysPolicy {
  readonly #tables = new WeakMap<TableBinding, { misses: number; wait: number }>();
  readonly #attempts = new WeakMap<TargetTx, number>();

  /** Whether this candidate should be tried as new keys; counts the attempt if so. */
  shouldTry(tx: TargetTx, binding: TableBinding): boolean {
    const t = this.#tables.get(binding);
    if (t && t.wait > 0) {
      t.wait--;
      return false;
    }
    const n = this.#attempts.get(tx) ?? 0;
    if (n >= MAX_PER_TRANSACTION) return false;
    this.#attempts.set(tx, n + 1);
    return true;
  }

  record(binding: TableBinding, succeeded: boolean): void {
    if (succeeded) {
      this.#tables.delete(binding);
      return;
    }
    const misses = (this.#tables.get(binding)?.misses ?? 0) + 1;
    this.#tables.set(binding, { misses, wait: Math.min(2 ** misses, MAX_WAIT) });
  }
}
