/** The capture SDK's public types: what a call returns, what onError receives, the counters. */
import type { SluiceError } from '../../core/errors.js';

/** What every call resolves to; the promise never rejects. */
export type CaptureResult = { ok: true } | { ok: false; error: SluiceError };

/** A change as the application handed it over (values as given: bigint, Buffer, Date, string…). */
export interface SdkChange {
  table: string;
  op: 'c' | 'u' | 'd';
  /** The full row image (insert, update). */
  row?: Record<string, unknown>;
  /** The primary-key columns (delete). */
  key?: Record<string, unknown>;
  context?: string;
}

export interface CallOptions {
  /** Free text stored with the change, e.g. the use case or request id that made it. */
  context?: string;
}

export interface TableCapture {
  /** A new row: the full row image, every column (null for NULL). */
  insert(row: Record<string, unknown>, opts?: CallOptions): Promise<CaptureResult>;
  /** A changed row: the full row image after the change. */
  update(row: Record<string, unknown>, opts?: CallOptions): Promise<CaptureResult>;
  /** A deleted row: its primary-key columns. */
  delete(key: Record<string, unknown>, opts?: CallOptions): Promise<CaptureResult>;
}

export interface CaptureStats {
  /** Changes the API accepted (durable on the sluice side). */
  sent: number;
  /** Changes that finally failed (refused, or still failing after the retries); each went to onError. */
  failed: number;
  /** Changes sent again after a retriable failure, once per change per retry. */
  retried: number;
}

export interface Capture {
  /** A handle for one table (`name` or `schema.name`, as the API knows it); cheap, may be kept. */
  table(name: string): TableCapture;
  /** Sends what is queued now and resolves once every change issued before the call is settled. Never rejects. */
  flush(): Promise<void>;
  /** flush(), then every later call resolves `{ok: false}` at once. Never rejects; idempotent. */
  close(): Promise<void>;
  /** A snapshot of the counters. */
  readonly stats: CaptureStats;
}
