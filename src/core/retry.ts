/**
 * The one retry loop: exponential backoff with full jitter, only for errors the caller classifies
 * as retriable (a SluiceError's `retriable`, by default), the last failure kept as the cause.
 * Programming errors (TypeError, RangeError) are never retried.
 */
import { SluiceError } from './errors.js';

export interface RetryOptions {
  retries: number;
  initialMs?: number;
  maxMs?: number;
  isRetriable?: (err: unknown) => boolean;
  signal?: AbortSignal;
}

export function defaultIsRetriable(err: unknown): boolean {
  if (err instanceof TypeError || err instanceof RangeError) return false;
  return err instanceof SluiceError ? err.retriable : false;
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const initial = opts.initialMs ?? 100;
  const max = opts.maxMs ?? 5_000;
  const isRetriable = opts.isRetriable ?? defaultIsRetriable;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.retries || !isRetriable(err) || opts.signal?.aborted) throw err;
      const ceiling = Math.min(max, initial * 2 ** attempt);
      await pause(Math.random() * ceiling, opts.signal);
      if (opts.signal?.aborted) throw err;
    }
  }
}

/** Waits `ms`, or less when `signal` aborts meanwhile. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
