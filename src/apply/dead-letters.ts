/**
 * The dead-letter store as the `sluice dlq list|show|replay|skip` commands see it.
 *
 * A dead letter is an event that failed for a non-transient reason (status `open`), stored with
 * its error; the later events of its key are stored behind it (status `parked`) and not applied,
 * so the key's order holds. Replaying applies the dead letter and then the parked events, in
 * order; skipping drops it (status `skipped`) and applies the parked events. Either way an event
 * that fails again becomes the key's open dead letter and those after it stay parked. Applied
 * events end as `replayed` (whether the version guard applied or skipped them).
 */
import type { ChangeEvent, Op } from '../core/change-event.js';
import type { DeadLetterRecord, DeadLetterStatus, DrainResult } from '../core/dead-letter.js';

export type { DeadLetterStatus, DrainResult };

export interface DeadLetterSummary extends DeadLetterRecord {
  /** The target table, "schema.name". */
  readonly table: string;
}

export interface DeadLetterDetail extends DeadLetterSummary {
  readonly event: ChangeEvent;
  readonly parkedEvents: ReadonlyArray<{ readonly id: number; readonly version: bigint; readonly op: Op }>;
}

export interface ListDeadLettersOptions {
  /** Target table ("schema.name") or a configured source table name. */
  readonly table?: string;
  /** Default 'open'. */
  readonly status?: DeadLetterStatus | 'all';
  /** Default 100. */
  readonly limit?: number;
  /** Only ids greater than this (paging). */
  readonly afterId?: number;
}

export interface DeadLetters {
  list(opts?: ListDeadLettersOptions): Promise<DeadLetterSummary[]>;
  show(id: number): Promise<DeadLetterDetail | undefined>;
  replay(id: number): Promise<DrainResult>;
  skip(id: number): Promise<DrainResult>;
}
