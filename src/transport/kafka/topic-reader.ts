/**
 * Reading a topic's records at chosen offsets, for a person rather than for apply: the dashboard's
 * message viewer. Neither driver's KafkaJS-style API fetches without a group, so the reader joins a
 * throwaway group of its own (a fresh id; nothing commits for it, so the broker forgets the group
 * once the reader leaves) and never touches the pipeline's group or its offsets. Callers ask for
 * ranges from a partition's current low watermark up: kafkajs commits the offset it resets to when
 * a seek lands below the log's start, which only retention acting mid-request can cause
 * (docs/guarantees.md: reader-commits-nothing). Each partition is paused
 * until a range asks for it, sought to the range's start, and paused again once the range is read.
 * Its principal needs Read on groups prefixed `sluice-reader-` where the cluster has ACLs.
 */
import { randomUUID } from 'node:crypto';
import { SluiceError } from '../../core/errors.js';
import { toRecord } from './consumer.js';
import { transportError } from './errors.js';
import { connect, type KafkaConnectionOptions } from './options.js';
import type { ConsumedRecord, DriverEachBatchPayload, TopicPartition } from './types.js';

/** Offsets [from, to) of one partition. */
export interface OffsetRange {
  readonly partition: number;
  readonly from: bigint;
  readonly to: bigint;
}

export interface PartitionOffsets {
  readonly partition: number;
  /** The oldest offset still held. */
  readonly low: bigint;
  /** The offset the next record will get. */
  readonly high: bigint;
}

export interface TopicReader {
  readonly topic: string;
  /** The reader's own group, which never commits. */
  readonly groupId: string;
  offsets(): Promise<PartitionOffsets[]>;
  /**
   * The records in the ranges, in offset order per partition. Offsets with no record (compacted
   * away, transaction markers) are waited for until `waitMs`: what arrived is returned then, with
   * `complete: false`.
   */
  read(ranges: readonly OffsetRange[]): Promise<{ records: ConsumedRecord[]; complete: boolean }>;
  close(): Promise<void>;
}

export const READER_GROUP_PREFIX = 'sluice-reader-';

interface Pending {
  readonly ranges: Map<number, { next: bigint; readonly to: bigint; readonly out: ConsumedRecord[] }>;
  settle(): void;
}

export async function openTopicReader(
  conn: KafkaConnectionOptions,
  topic: string,
  o: { waitMs?: number; assignMs?: number } = {},
): Promise<TopicReader> {
  const waitMs = o.waitMs ?? 10_000;
  const { Kafka, kafka } = connect(conn, 'reader');
  const admin = kafka.admin();
  let assigned: TopicPartition[] = [];
  let crashed: unknown;
  let onAssigned: (() => void) | undefined;
  let onJoinFailed: ((err: unknown) => void) | undefined;
  let pending: Pending | undefined;
  const groupId = `${READER_GROUP_PREFIX}${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    fromBeginning: false,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    rebalanceTimeout: 30_000,
    maxBatchSize: 500,
    // kafkajs waits this long between fetches while every partition is paused: a seek is taken
    // up at the next fetch, so the default (5 s) would be each read's floor.
    maxWaitTimeInMs: 100,
    onRevoke: async () => {
      assigned = [];
    },
    onAssign: (tps) => {
      assigned = tps;
      // Nothing is fetched until a range asks for a partition.
      consumer.pause(tps);
      onAssigned?.();
    },
    onCrash: (err) => {
      crashed = err;
      onJoinFailed?.(err);
      pending?.settle();
    },
  });
  const eachBatch = async ({ batch, resolveOffset, isStale }: DriverEachBatchPayload) => {
    // A fetch sent before the seek: its offsets are not the ones asked for.
    if (isStale()) return;
    const r = pending?.ranges.get(batch.partition);
    if (!r) return;
    for (const m of batch.messages) {
      const offset = BigInt(m.offset);
      if (offset < r.next) continue;
      // Past the range: the offsets before `to` that were not delivered hold no record (compacted, a transaction marker).
      if (offset >= r.to) {
        r.next = r.to;
        break;
      }
      r.out.push(toRecord(batch, m));
      r.next = offset + 1n;
      resolveOffset(m.offset);
    }
    // The partition's end is before the range's end when its last offsets hold no record (a
    // driver that does not know the high watermark gives a negative one).
    const high = BigInt(batch.highWatermark);
    if (r.next >= r.to || (high >= 0n && high <= r.next)) {
      r.next = r.to;
      consumer.pause([{ topic, partition: batch.partition }]);
      pending?.settle();
    }
  };
  try {
    await admin.connect();
    await consumer.connect();
    await consumer.subscribe([topic]);
    const joined = new Promise<void>((resolve, reject) => {
      onAssigned = resolve;
      onJoinFailed = reject;
    });
    await consumer.run({ eachBatch, partitionsConsumedConcurrently: 1 });
    await within(joined, o.assignMs ?? 60_000, `no partition of ${topic} was assigned to the reader`);
    if (crashed) throw crashed;
  } catch (err) {
    await consumer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
    throw transportError(Kafka, 'topic read', err, { topic });
  }

  return {
    topic,
    groupId,
    async offsets() {
      try {
        return (await admin.fetchTopicOffsets(topic))
          .map((w) => ({ partition: w.partition, low: BigInt(w.low), high: BigInt(w.high) }))
          .sort((a, b) => a.partition - b.partition);
      } catch (err) {
        throw transportError(Kafka, 'topic offsets', err, { topic });
      }
    },
    async read(ranges) {
      if (crashed) throw transportError(Kafka, 'topic read', crashed, { topic });
      const wanted = ranges.filter((r) => r.to > r.from);
      if (wanted.length === 0) return { records: [], complete: true };
      for (const r of wanted) {
        if (!assigned.some((a) => a.partition === r.partition))
          throw new SluiceError('SLUICE_ERR_TRANSPORT', `partition ${r.partition} of ${topic} is not assigned to the reader`, {
            context: { topic, partition: r.partition },
          });
      }
      const p: Pending = {
        ranges: new Map(wanted.map((r) => [r.partition, { next: r.from, to: r.to, out: [] as ConsumedRecord[] }])),
        settle: () => {},
      };
      const done = () => crashed !== undefined || [...p.ranges.values()].every((r) => r.next >= r.to);
      const settled = new Promise<void>((resolve) => {
        p.settle = () => {
          if (done()) resolve();
        };
      });
      pending = p;
      try {
        for (const r of wanted) {
          consumer.seek({ topic, partition: r.partition, offset: r.from.toString() });
          consumer.resume([{ topic, partition: r.partition }]);
        }
        const complete = await within(settled, waitMs).then(
          () => true,
          () => false,
        );
        if (crashed) throw transportError(Kafka, 'topic read', crashed, { topic });
        return { records: [...p.ranges.values()].flatMap((r) => r.out), complete };
      } finally {
        pending = undefined;
        consumer.pause(wanted.map((r) => ({ topic, partition: r.partition })));
      }
    },
    async close() {
      await consumer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
    },
  };
}

function within(p: Promise<void>, ms: number, what = 'timed out'): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
