/**
 * Counters a running pipeline keeps about itself: what was captured, published, applied, skipped
 * and dead-lettered, and how far the target is behind the source (commit to apply).
 */
export class PipelineStats {
  captured = 0;
  published = 0;
  applied = 0;
  skipped = 0;
  deadLettered = 0;
  /** Source commit time (ms since epoch) of the newest change applied. */
  lastAppliedCommitMs: number | undefined;
  /** When that change was applied. */
  lastAppliedAtMs: number | undefined;
  /** Changes waiting at the source (outbox rows not yet relayed), when the source can tell. */
  backlog = 0;
  /** Tables whose initial snapshot runs or ran in this process: rows copied of the estimate. */
  snapshots: ReadonlyArray<{ table: string; rows: number; estimate: number; done: boolean }> = [];
  readonly startedAt = Date.now();

  noteApplied(n: { applied: number; skipped: number; deadLettered: number }, commitTs: string | undefined): void {
    this.applied += n.applied;
    this.skipped += n.skipped;
    this.deadLettered += n.deadLettered;
    if (commitTs) {
      const ms = Date.parse(commitTs);
      if (!Number.isNaN(ms)) this.lastAppliedCommitMs = ms;
    }
    this.lastAppliedAtMs = Date.now();
  }

  /** Replication lag: commit-to-apply delay of the newest applied change, 0 when idle and caught up. */
  lagMs(): number {
    if (this.lastAppliedCommitMs === undefined || this.lastAppliedAtMs === undefined) return 0;
    return Math.max(0, this.lastAppliedAtMs - this.lastAppliedCommitMs);
  }
}
