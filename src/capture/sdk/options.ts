/** createCapture's options and their defaults. */
import type { Logger } from 'pino';
import type { SluiceError } from '../../core/errors.js';
import type { SdkChange } from './types.js';

/** The pino methods the SDK uses (a pino Logger fits). */
export type CaptureLogger = Pick<Logger, 'warn' | 'error' | 'debug'>;

export interface CaptureOptions {
  /** Base URL of the capture API (`http://127.0.0.1:8080`); changes go to `<url>/v1/changes`. */
  url: string;
  /** Bearer token, when the API is configured with one. Never logged. */
  token?: string;
  /** Times a request is sent again after a network error, a timeout, 408, 429 or 5xx (default 5). 4xx is final. */
  retries?: number;
  /** First backoff ceiling in ms, doubled per retry with full jitter (default 100). */
  retryInitialMs?: number;
  /** Largest backoff ceiling in ms (default 5000). */
  retryMaxMs?: number;
  /** Per request, including reading the answer (default 30 000). */
  timeoutMs?: number;
  /** Most changes per request (default 500); more queued changes go in the following requests, in order. */
  maxBatch?: number;
  /** How long a change may wait for others to join its request, in ms (default 0: those issued in the same tick). */
  lingerMs?: number;
  /**
   * Called once per final failure with the error and the changes it concerns (for a refused change,
   * just that change). An exception it throws, or a promise it rejects, is logged and swallowed.
   */
  onError?: (err: SluiceError, changes: SdkChange[]) => void;
  /** Final failures are logged at warn (retries at debug); omitted: nothing is logged. */
  logger?: CaptureLogger;
}

export const DEFAULTS = {
  retries: 5,
  retryInitialMs: 100,
  retryMaxMs: 5_000,
  timeoutMs: 30_000,
  maxBatch: 500,
  lingerMs: 0,
} as const;
