// How the message viewer looks for a table's or a key's records: backwards from each partition's
// end, a window at a time, over a reader faked in memory. A busy partition whose last window holds
// no match is read further while its records are newer than the matches found elsewhere, so a
// quiet partition's week-old matches never hide a minute-old one; the scan stops at its bound and
// says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SCAN, scan, type Found } from '../../src/pipeline/message-controls.js';
import type { ConsumedRecord, OffsetRange, PartitionOffsets } from '../../src/transport/kafka/index.js';

/** Partition → its records (offset = index); `value` is the table's name. */
function fakeReader(log: Map<number, Array<{ table: string; ms: number }>>) {
  const reads: OffsetRange[][] = [];
  return {
    reads,
    read: async (ranges: readonly OffsetRange[]) => {
      reads.push([...ranges]);
      const records: ConsumedRecord[] = ranges.flatMap((r) =>
        log
          .get(r.partition)!
          .slice(Number(r.from), Number(r.to))
          .map((x, i) => ({
            topic: 't',
            partition: r.partition,
            offset: String(Number(r.from) + i),
            key: null,
            value: Buffer.from(x.table),
            headers: {},
            timestamp: String(x.ms),
          })),
      );
      return { records, complete: true };
    },
  };
}

const offsetsOf = (log: Map<number, unknown[]>): PartitionOffsets[] =>
  [...log].map(([partition, rs]) => ({ partition, low: 0n, high: BigInt(rs.length) }));

const keepTable =
  (table: string) =>
  async (records: ConsumedRecord[]): Promise<Found[]> =>
    records
      .filter((r) => r.value!.toString() === table)
      .map((r) => ({
        ms: Number(r.timestamp),
        item: {
          topic: r.topic,
          partition: r.partition,
          offset: r.offset,
          timestamp: new Date(Number(r.timestamp)).toISOString(),
          schemaId: null,
          keyText: '',
          table,
          event: null,
        },
      }));

test("a busy partition is read past its last window while it is newer than the quiet partition's matches", async () => {
  const minute = 60_000;
  const now = Date.parse('2026-12-05T12:00:00Z');
  const log = new Map([
    // Busy: 1,000 records of the last minute; the one redemption is 700 records back.
    [0, Array.from({ length: 1000 }, (_, i) => ({ table: i === 300 ? 'redemption' : 'coupon', ms: now - minute + i * 60 }))],
    // Quiet: 30 redemptions of a week ago.
    [1, Array.from({ length: 30 }, (_, i) => ({ table: 'redemption', ms: now - 7 * 24 * 60 * minute + i }))],
  ]);
  const reader = fakeReader(log);
  const found = await scan(reader, offsetsOf(log), 500n, 20, keepTable('redemption'));
  const newest = found.items.sort((a, b) => b.ms - a.ms)[0]!;
  assert.deepEqual([newest.item.partition, newest.item.offset], [0, '300'], 'the minute-old redemption is found');
  assert.equal(found.complete, true);
  // Round 1: both partitions; round 2: only the busy one, whose records read so far were all newer.
  assert.deepEqual(
    reader.reads.map((rs) => rs.map((r) => `${r.partition}:${r.from}-${r.to}`)),
    [['0:500-1000', '1:0-30'], ['0:0-500']],
  );
});

test('the scan stops at its bound and says it did not read everything', async () => {
  const log = new Map([[0, Array.from({ length: MAX_SCAN + 5_000 }, (_, i) => ({ table: 'coupon', ms: i }))]]);
  const reader = fakeReader(log);
  const found = await scan(reader, offsetsOf(log), 500n, 5, keepTable('redemption'));
  assert.equal(found.items.length, 0);
  assert.equal(found.complete, false);
  assert.equal(found.scanned, MAX_SCAN);
});

test('enough matches in the newest window: one round', async () => {
  const log = new Map([[0, Array.from({ length: 2_000 }, (_, i) => ({ table: 'coupon', ms: i }))]]);
  const reader = fakeReader(log);
  const found = await scan(reader, offsetsOf(log), 10n, 10, keepTable('coupon'));
  assert.deepEqual(
    found.items.map((f) => f.item.offset),
    Array.from({ length: 10 }, (_, i) => String(1990 + i)),
  );
  assert.equal(reader.reads.length, 1);
});
