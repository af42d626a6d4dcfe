/**
 * Which offset of each partition is safe to commit when records complete out of order.
 *
 * Records are handed out in offset order and may complete in any order (different keys run in
 * parallel). The committed offset is the next record a restarted consumer reads, so it must be the
 * LOWEST offset not yet completed: every record below it is applied. The highest completed offset
 * would skip whatever below it is still running (docs/guarantees.md: lowest-unfinished-offset).
 * With nothing outstanding, it is the last handed-out offset + 1, "last applied + 1"
 * (docs/guarantees.md: explicit-commit). Offsets need not be contiguous (compaction,
 * transaction markers): only handed-out offsets count.
 *
 * Pure: no Kafka, no timers. Partitions are opaque string keys (the consumer uses "topic/partition").
 */

interface PartitionState {
  /** Handed-out offsets in increasing order; entries before `head` are completed and dropped. */
  queue: bigint[];
  head: number;
  /** Handed out, not yet completed. */
  outstanding: Set<bigint>;
  last: bigint;
}

export class OffsetTracker {
  readonly #parts = new Map<string, PartitionState>();

  /**
   * Records that `offset` was handed out. Returns false, and tracks nothing, when it is not above
   * the last handed-out offset of the partition: a re-fetch of a record already handed out.
   */
  handOut(partition: string, offset: bigint): boolean {
    let s = this.#parts.get(partition);
    if (!s) {
      s = { queue: [], head: 0, outstanding: new Set(), last: offset - 1n };
      this.#parts.set(partition, s);
    }
    if (offset <= s.last) return false;
    s.queue.push(offset);
    s.outstanding.add(offset);
    s.last = offset;
    return true;
  }

  /** Marks a handed-out record as applied. Returns false for an offset not outstanding (stale or unknown). */
  complete(partition: string, offset: bigint): boolean {
    const s = this.#parts.get(partition);
    if (!s || !s.outstanding.delete(offset)) return false;
    while (s.head < s.queue.length && !s.outstanding.has(s.queue[s.head]!)) s.head++;
    if (s.head > 1024 && s.head * 2 > s.queue.length) {
      s.queue = s.queue.slice(s.head);
      s.head = 0;
    }
    return true;
  }

  /**
   * The offset to commit: the lowest outstanding offset, or last handed-out + 1 when none is
   * outstanding; undefined before anything was handed out.
   */
  committable(partition: string): bigint | undefined {
    const s = this.#parts.get(partition);
    if (!s) return undefined;
    return s.head < s.queue.length ? s.queue[s.head]! : s.last + 1n;
  }

  /** The next offset expected from the fetcher (last handed-out + 1), if any was handed out. */
  nextOffset(partition: string): bigint | undefined {
    const s = this.#parts.get(partition);
    return s ? s.last + 1n : undefined;
  }

  outstanding(partition: string): number {
    return this.#parts.get(partition)?.outstanding.size ?? 0;
  }

  /** Forgets a partition (revoked): later completions of its records are ignored. */
  reset(partition: string): void {
    this.#parts.delete(partition);
  }

  partitions(): string[] {
    return [...this.#parts.keys()];
  }
}
