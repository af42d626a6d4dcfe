/**
 * Topic set-up and lag, through the driver's admin client.
 *
 * ensureTopics creates missing topics with the configured partition count and never changes an
 * existing one: adding partitions moves keys to other partitions (murmur2 % n changes), which
 * breaks per-key order for records already in flight, and shrinking is impossible. A topic with
 * fewer partitions than configured is reported, not "fixed"; one with more is used as it is (the
 * producer always hashes over the topic's actual partition count, as Java producers do).
 */
import { transportError } from './errors.js';
import { connect, type KafkaConnectionOptions } from './options.js';
import type { DriverAdmin, PartitionLag, TopicPartition } from './types.js';

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor?: number;
  /** Topic-level configs for a topic sluice creates, e.g. { 'min.insync.replicas': '2' }. */
  readonly config?: Readonly<Record<string, string>>;
}

export interface EnsureTopicsResult {
  created: string[];
  /** The actual partition count of every requested topic. */
  partitions: Map<string, number>;
  /** Existing topics with fewer partitions than configured: reported, never altered. */
  underPartitioned: { topic: string; actual: number; configured: number }[];
}

export async function ensureTopics(conn: KafkaConnectionOptions, specs: readonly TopicSpec[]): Promise<EnsureTopicsResult> {
  const { Kafka, kafka } = connect(conn, 'admin');
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    const created: string[] = [];
    if (missing.length > 0) {
      await admin.createTopics(
        missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor ?? 1,
          ...(s.config ? { configEntries: Object.entries(s.config).map(([name, value]) => ({ name, value })) } : {}),
        })),
      );
      created.push(...missing.map((s) => s.topic));
    }
    const counts = await partitionCounts(
      admin,
      specs.map((s) => s.topic),
      created.length > 0 ? 30_000 : 0,
    );
    const underPartitioned = specs
      .filter((s) => (counts.get(s.topic) ?? 0) < s.partitions)
      .map((s) => ({ topic: s.topic, actual: counts.get(s.topic) ?? 0, configured: s.partitions }));
    return { created, partitions: counts, underPartitioned };
  } catch (err) {
    throw transportError(Kafka, 'topic set-up', err, { topics: specs.map((s) => s.topic) });
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * The actual partition count of each topic (absent: the topic does not exist), waiting up to
 * `waitMs` for topics to appear (a just-created topic's metadata propagates asynchronously).
 */
export async function partitionCounts(admin: DriverAdmin, topics: string[], waitMs = 0): Promise<Map<string, number>> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata(topics);
      const counts = new Map(meta.map((t) => [t.name, t.partitions.length]));
      if (topics.every((t) => (counts.get(t) ?? 0) > 0) || Date.now() > deadline) return counts;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Per partition of `topics`: the group's committed offset against the high watermark. Offsets
 * the group never committed count from the partition's low watermark.
 */
export async function fetchLag(conn: KafkaConnectionOptions, groupId: string, topics: readonly string[]): Promise<PartitionLag[]> {
  const reader = openLagReader(conn, groupId, topics);
  try {
    return await reader.read();
  } finally {
    await reader.close();
  }
}

export interface LagReader {
  read(): Promise<PartitionLag[]>;
  close(): Promise<void>;
}

/** fetchLag over one admin connection kept open, for callers that ask often (reconcile's waits). */
export function openLagReader(conn: KafkaConnectionOptions, groupId: string, topics: readonly string[]): LagReader {
  const { Kafka, kafka } = connect(conn, 'lag');
  const admin = kafka.admin();
  let connected: Promise<void> | undefined;
  return {
    async read() {
      try {
        connected ??= admin.connect();
        await connected;
        const committed = new Map<string, bigint>();
        for (const row of await admin.fetchOffsets(groupId, [...topics]))
          committed.set(`${row.topic}/${row.partition}`, BigInt(row.offset));
        const out: PartitionLag[] = [];
        for (const topic of topics) {
          for (const w of await admin.fetchTopicOffsets(topic)) {
            const c = committed.get(`${topic}/${w.partition}`) ?? -1n;
            const high = BigInt(w.high);
            const from = c >= 0n ? c : BigInt(w.low);
            out.push({ topic, partition: w.partition, committed: c, highWatermark: high, lag: high > from ? high - from : 0n });
          }
        }
        return out.sort(byTopicPartition);
      } catch (err) {
        connected = undefined;
        throw transportError(Kafka, 'lag query', err, { groupId });
      }
    },
    async close() {
      if (connected) await admin.disconnect().catch(() => {});
    },
  };
}

export function byTopicPartition(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}
