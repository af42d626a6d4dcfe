/**
 * Where replication stands, for reconcile's live-data safety (reconcile/diff.ts ReplicationProbe).
 *
 * Position: the highest outbox sequence visible now (0 when the outbox is empty). A change that
 * committed before that read has its outbox row either still there (seq ≤ position) or already
 * relayed and deleted. So "applied past the position" is:
 *   1. no outbox row with seq ≤ position is left: the relay has handed all of them on (it deletes
 *      only after the broker acked them, or, on the direct transport, after the target applied
 *      them: then this step alone suffices);
 *   2. with Kafka, the consumer group's committed offsets have reached the topics' end offsets
 *      read after step 1 (offsets are committed only below the lowest unapplied record).
 * A row committed with a lower seq after the read (docs/guarantees.md: no-high-water-mark) was
 * not visible to the source read
 * either; re-check rounds catch whatever this misses.
 */
import { openLagReader, type KafkaConnectionOptions, type LagReader } from '../transport/kafka/index.js';
import { quoteIdent } from '../capture/outbox/ddl.js';
import type { OutboxDb } from '../capture/outbox/relay.js';
import type { ReplicationProbe } from '../reconcile/diff.js';

export interface ProbeOptions {
  readonly outbox: OutboxDb;
  readonly outboxTable: string;
  readonly kafka?: { readonly conn: KafkaConnectionOptions; readonly groupId: string; readonly topics: readonly string[] };
  readonly pollMs?: number;
  /** An aborted signal ends a wait at once (as not caught up). */
  readonly signal?: AbortSignal;
}

export interface ClosableProbe extends ReplicationProbe {
  close(): Promise<void>;
}

export function outboxProbe(o: ProbeOptions): ClosableProbe {
  const t = quoteIdent(o.outbox.dialect, o.outboxTable);
  const mysql = o.outbox.dialect === 'mysql';
  const positionSql = mysql
    ? `SELECT CAST(COALESCE(MAX(seq), 0) AS CHAR) AS p FROM ${t}`
    : `SELECT coalesce(max(seq), 0)::text AS p FROM ${t}`;
  const pendingSql = mysql ? `SELECT 1 AS x FROM ${t} WHERE seq <= ? LIMIT 1` : `SELECT 1 AS x FROM ${t} WHERE seq <= $1::bigint LIMIT 1`;
  const pollMs = o.pollMs ?? 25;
  const { caughtUpOnKafka, closeKafka } = kafkaWait(o);
  // No outbox table yet (sluice run never started on this source): nothing was ever pending.
  const query = async (sql: string, params?: unknown[]) => {
    try {
      return await o.outbox.query(sql, params);
    } catch (err) {
      if (isMissingTable(err)) return [];
      throw err;
    }
  };
  return {
    async position() {
      const rows = await query(positionSql);
      return BigInt(String(rows[0]?.p ?? '0'));
    },
    async waitApplied(position, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while ((await query(pendingSql, [position.toString()])).length > 0) {
        if (Date.now() >= deadline || o.signal?.aborted) return false;
        await sleep(pollMs);
      }
      return caughtUpOnKafka(deadline);
    },
    close: closeKafka,
  };
}

export interface SlotProbeOptions {
  /** A connection to the source PostgreSQL server (not a replication connection). */
  readonly query: (sql: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>>;
  readonly slot: string;
  readonly kafka?: ProbeOptions['kafka'];
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Log capture: the position is the server's current WAL end; the pipeline has passed it once the
 * slot's confirmed position has (it advances only over what is applied or broker-acknowledged,
 * and over idle WAL), then, with Kafka, once the group has applied up to the topics' ends.
 */
export function slotProbe(o: SlotProbeOptions): ClosableProbe {
  const pollMs = o.pollMs ?? 25;
  const { caughtUpOnKafka, closeKafka } = kafkaWait(o);
  return {
    async position() {
      const rows = await o.query(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS p`);
      return BigInt(String(rows[0]?.p ?? '0'));
    },
    async waitApplied(position, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const rows = await o.query(
          `SELECT pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::text AS p FROM pg_replication_slots WHERE slot_name = $1`,
          [o.slot],
        );
        if (rows[0] && BigInt(String(rows[0].p ?? '0')) >= position) break;
        if (Date.now() >= deadline || o.signal?.aborted) return false;
        await sleep(pollMs);
      }
      return caughtUpOnKafka(deadline);
    },
    close: closeKafka,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** With Kafka: whether the consumer group's committed offsets reach the topics' ends read now, by the deadline. */
function kafkaWait(o: { kafka?: ProbeOptions['kafka']; pollMs?: number; signal?: AbortSignal }) {
  const pollMs = o.pollMs ?? 25;
  let lag: LagReader | undefined;
  return {
    async caughtUpOnKafka(deadline: number): Promise<boolean> {
      if (!o.kafka) return true;
      lag ??= openLagReader(o.kafka.conn, o.kafka.groupId, o.kafka.topics);
      const ends = new Map((await lag.read()).map((p) => [`${p.topic}/${p.partition}`, p.highWatermark]));
      for (;;) {
        const now = await lag.read();
        // high − lag: the group's position (its committed offset, or the low watermark when it never
        // committed: an empty partition is caught up).
        if (now.every((p) => p.highWatermark - p.lag >= (ends.get(`${p.topic}/${p.partition}`) ?? 0n))) return true;
        if (Date.now() >= deadline || o.signal?.aborted) return false;
        await sleep(Math.max(pollMs, 100));
      }
    },
    async closeKafka(): Promise<void> {
      await lag?.close();
    },
  };
}

function isMissingTable(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown } | null;
  return e?.code === '42P01' || e?.code === 'ER_NO_SUCH_TABLE' || e?.errno === 1146;
}
