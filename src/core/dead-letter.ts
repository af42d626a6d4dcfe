/**
 * A dead letter as every layer sees it: the sink's store (apply/), the `sluice dlq` commands and
 * the dashboard's wire form (observe/, through JsonSafe), one list of fields.
 */
export type DeadLetterStatus = 'open' | 'parked' | 'replayed' | 'skipped';

export interface DeadLetterRecord {
  readonly id: number;
  /** The key's canonical text (apply/key-text.ts). */
  readonly keyText: string;
  readonly version: bigint;
  readonly status: DeadLetterStatus;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  /** Times it was tried: 1 when it first failed, +1 per failed replay (0 for a parked event). */
  readonly attempts: number;
  /** "YYYY-MM-DDTHH:MM:SS.ffffffZ" */
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Events parked behind it (its key's later events; meaningful for open dead letters). */
  readonly parked: number;
}

export interface DrainResult {
  /** Events the version guard applied. */
  readonly applied: number;
  /** Events the version guard skipped (the target already had that version or a newer one). */
  readonly skipped: number;
  /** Stored events that were applied or skipped (now `replayed`). */
  readonly released: number;
  /** Set when an event failed again: it is the key's open dead letter, `parked` events wait behind it. */
  readonly open?: { readonly id: number; readonly errorCode: string; readonly errorMessage: string; readonly parked: number };
}

/** The JSON form of a record: bigints as decimal strings. */
export type JsonSafe<T> = { readonly [K in keyof T]: T[K] extends bigint ? string : T[K] };
