/**
 * The one SQL interface the state store is used through. Anything with `query` is an executor
 * (node-postgres' "anything with submit() is a query"): a pool, a PGlite handle, or a transaction.
 *
 * Contract:
 * - values are always bound parameters ($1, $2 …), never spliced into the SQL text;
 * - inside `transaction(fn)` use only the `tx` handed to `fn`: calling the store itself there waits
 *   for the transaction to end (PGlite is one connection) and would deadlock;
 * - `fn` may run more than once when wrapped in `withConflictRetry`, so it must not have side
 *   effects outside the transaction.
 */
import { SluiceError } from '../core/errors.js';

export type SqlDialect = 'postgres' | 'pglite';

export interface SqlExecutor {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface SqlStore extends SqlExecutor {
  readonly dialect: SqlDialect;
  /** Runs `fn` in one transaction (READ COMMITTED); commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** SQLSTATEs after which running the whole transaction again can succeed. */
const CONFLICT_STATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '23505', // unique_violation: a concurrent writer inserted the same key first
]);

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function isConflict(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && CONFLICT_STATES.has(state);
}

/**
 * Runs `store.transaction(fn)`, running it again (up to `attempts` times, with jittered backoff)
 * when it fails on a serialization failure, deadlock or unique violation raised by a concurrent
 * writer. Any other error, or the last conflict, is thrown as is.
 */
export async function withConflictRetry<T>(store: SqlStore, fn: (tx: SqlExecutor) => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.transaction(fn);
    } catch (err) {
      if (!isConflict(err) || attempt >= attempts) throw err;
      const delay = Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Wraps a driver error as SLUICE_ERR_STORE, keeping it as the cause. */
export function storeError(message: string, cause: unknown): SluiceError {
  const state = sqlState(cause);
  // Class 08 (connection), 53 (resources), 57P (shutdown) and conflicts may pass on a retry.
  const retriable =
    state === undefined ? true : state.startsWith('08') || state.startsWith('53') || state.startsWith('57P') || isConflict(cause);
  return new SluiceError('SLUICE_ERR_STORE', message, { cause, retriable });
}
