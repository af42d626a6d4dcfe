/**
 * The message viewer's reads: the latest records of one of the pipeline's topics, of one table, or
 * of one row's key, decoded through the registry with the same decoder the consumer applies with,
 * each beside the target's current row for its key.
 *
 * A key's records are all in one partition (murmur2 of the key's bytes, as the producer computes
 * it), so only that partition is read. A key's or a table's records are looked for backwards from
 * the end, a window at a time, until `limit` are found or a bound of records was read: the answer
 * then says it is incomplete rather than reading a whole topic for one request.
 */
import { qualifiedName, type ColumnValue, type Row, type TableSchema } from '../core/table-schema.js';
import type { ChangeEvent } from '../core/change-event.js';
import { checkValue, show } from '../core/portable-values.js';
import { readSchemaId } from '../codec/confluent-wire.js';
import { keyEncoder, type KeyEncoding } from '../codec/key-encoding.js';
import { eventJson, rowToJson } from '../apply/index.js';
import { readRows, type DbConnection } from '../metadata/index.js';
import {
  openTopicReader,
  partitionFor,
  type ConsumedRecord,
  type KafkaConnectionOptions,
  type PartitionOffsets,
  type TopicReader,
} from '../transport/kafka/index.js';
import { QueryError, type Controls, type MessageItem, type MessagePage } from '../observe/controls.js';
import type { RecordDecoder } from './kafka-path.js';

/**
 * Records read per partition in the first round when looking for a key's or a table's records;
 * each further round reads twice as many, up to MAX_WINDOW: recent records answer fast, a deep
 * search takes a few rounds rather than forty (a round costs a fetch, 100–200 ms).
 */
const WINDOW = 500n;
const MAX_WINDOW = 5_000n;
/** At most this many records are read, and for at most this long, to answer one request. */
export const MAX_SCAN = 20_000;
const SCAN_DEADLINE_MS = 30_000;

export interface MessageControlsOptions {
  readonly conn: KafkaConnectionOptions;
  readonly routes: ReadonlyArray<{ readonly table: TableSchema; readonly topic: string }>;
  readonly keyEncoding: KeyEncoding;
  readonly decoder: RecordDecoder;
  readonly target: DbConnection;
  /** The target table a source table is applied to. */
  readonly targetOf: (t: TableSchema) => TableSchema | undefined;
}

export function messageControls(o: MessageControlsOptions): NonNullable<Controls['messages']> {
  const topics = [...new Set(o.routes.map((r) => r.topic))].map((topic) => ({
    topic,
    tables: o.routes.filter((r) => r.topic === topic).map((r) => qualifiedName(r.table)),
  }));
  const routeNamed = (name: string) => {
    const exact = o.routes.find((r) => qualifiedName(r.table) === name);
    if (exact || name.includes('.')) return exact;
    const bare = o.routes.filter((r) => r.table.name === name);
    if (bare.length > 1)
      throw new QueryError(`table: "${name}" names ${bare.map((r) => qualifiedName(r.table)).join(' and ')}: give schema.table`, 'table');
    return bare[0];
  };

  return {
    topics,
    async latest(q) {
      const route = q.table !== undefined ? routeNamed(q.table) : undefined;
      if (q.table !== undefined && !route)
        throw new QueryError(
          `table: "${q.table}" is none of this pipeline's tables (${o.routes.map((r) => qualifiedName(r.table)).join(', ')})`,
          'table',
        );
      if (q.topic !== undefined && !topics.some((t) => t.topic === q.topic))
        throw new QueryError(`topic: "${q.topic}" is none of this pipeline's topics (${topics.map((t) => t.topic).join(', ')})`, 'topic');
      if (route && q.topic !== undefined && q.topic !== route.topic)
        throw new QueryError(`topic: table ${qualifiedName(route.table)} is published to ${route.topic}, not ${q.topic}`, 'topic');
      if (q.key !== undefined && !route)
        throw new QueryError('table: a key is looked up in the topic of its table: give the table', 'table');
      const topic = route?.topic ?? q.topic ?? topics[0]!.topic;
      const keyBytes = route && q.key !== undefined ? keyEncoder(route.table, o.keyEncoding)(keyOf(route.table, q.key)) : undefined;

      const reader = await openTopicReader(o.conn, topic);
      try {
        const offsets = await reader.offsets();
        const partitions = keyBytes ? offsets.filter((p) => p.partition === partitionFor(keyBytes, offsets.length)) : offsets;
        const filter = { ...(keyBytes ? { key: keyBytes } : {}), ...(route ? { table: qualifiedName(route.table) } : {}) };
        const window = keyBytes || route ? WINDOW : BigInt(q.limit);
        const found = await scan(reader, partitions, window, q.limit, (records) => describe(records, o, filter));
        return {
          topic,
          partitions: offsets.map((p) => ({ partition: p.partition, low: p.low.toString(), high: p.high.toString() })),
          scanned: found.scanned,
          complete: found.complete,
          messages: await withTargetRows(found.items.sort((a, b) => newestFirst(a.item, b.item)).slice(0, q.limit), o),
        } satisfies MessagePage;
      } finally {
        await reader.close();
      }
    },
  };
}

/**
 * Reads backwards from each partition's end, `window` records in the first round. Once `limit` items are kept,
 * a partition is read further only while everything read of it so far is newer than the
 * limit-th newest item: a busy partition's older records may still be newer than a quiet one's.
 */
export async function scan(
  reader: Pick<TopicReader, 'read'>,
  partitions: readonly PartitionOffsets[],
  window: bigint,
  limit: number,
  keep: (records: ConsumedRecord[]) => Promise<Found[]>,
): Promise<{ items: Found[]; scanned: number; complete: boolean }> {
  const deadline = Date.now() + SCAN_DEADLINE_MS;
  const cursor = new Map(partitions.map((p) => [p.partition, p.high]));
  const oldestRead = new Map<number, number>();
  const items: Found[] = [];
  let scanned = 0;
  let complete = true;
  for (let round = window; ; round = round * 2n < MAX_WINDOW ? round * 2n : MAX_WINDOW) {
    const bar = items.length >= limit ? items.map((i) => i.ms).sort((a, b) => b - a)[limit - 1]! : undefined;
    const open = partitions.filter(
      (p) => cursor.get(p.partition)! > p.low && (bar === undefined || (oldestRead.get(p.partition) ?? Infinity) > bar),
    );
    if (open.length === 0) break;
    if (scanned >= MAX_SCAN || Date.now() > deadline) {
      complete = false;
      break;
    }
    const left = BigInt(Math.ceil((MAX_SCAN - scanned) / open.length));
    const size = round < left ? round : left;
    const ranges = open.map((p) => {
      const to = cursor.get(p.partition)!;
      return { partition: p.partition, from: to - size > p.low ? to - size : p.low, to };
    });
    const got = await reader.read(ranges);
    complete &&= got.complete;
    for (const r of ranges) {
      cursor.set(r.partition, r.from);
      scanned += Number(r.to - r.from);
    }
    for (const r of got.records) oldestRead.set(r.partition, Math.min(oldestRead.get(r.partition) ?? Infinity, Number(r.timestamp)));
    items.push(...(await keep(got.records)));
  }
  return { items, scanned, complete };
}

async function describe(records: ConsumedRecord[], o: MessageControlsOptions, filter: { key?: Buffer; table?: string }): Promise<Found[]> {
  const out: Found[] = [];
  for (const r of records) {
    // Key bytes first: only a matching record is worth decoding.
    if (filter.key && !(r.key !== null && filter.key.equals(r.key))) continue;
    const base = {
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: new Date(Number(r.timestamp)).toISOString(),
      schemaId: schemaIdOf(r.value),
      keyText: keyText(r.key),
    };
    const ms = Number(r.timestamp);
    let f: Found;
    if (r.value === null) f = { ms, item: { ...base, table: null, event: null, error: 'a tombstone (no value)' } };
    else {
      // One record at a time: a record no table reads is shown with its error, the others still decode.
      const decoded = await o.decoder.decode([r.value]).then(
        (events) => events[0]!,
        (err: Error) => err,
      );
      f =
        decoded instanceof Error
          ? { ms, item: { ...base, table: null, event: null, error: decoded.message } }
          : { ms, item: { ...base, table: qualifiedName(decoded.table), event: eventJson(decoded) }, event: decoded };
    }
    // Tables sharing a topic can have equal key bytes (id 7 of two tables): a key's records are its
    // table's, and one with its key that cannot be decoded is shown with the reason.
    if (!filter.table || f.item.table === filter.table || (filter.key && f.item.table === null)) out.push(f);
  }
  return out;
}

/** A record as shown, with the change it decoded to (kept for the target-row lookup, not sent). */
export interface Found {
  /** The record's timestamp (ms). */
  readonly ms: number;
  readonly item: MessageItem;
  readonly event?: ChangeEvent;
}

async function withTargetRows(found: Found[], o: MessageControlsOptions): Promise<MessageItem[]> {
  const byTable = new Map<string, { table: TableSchema; keys: Row[] }>();
  for (const { item, event } of found) {
    const route = event && o.routes.find((r) => qualifiedName(r.table) === item.table);
    const target = route && o.targetOf(route.table);
    if (!event || !target) continue;
    const entry = byTable.get(item.table!) ?? { table: target, keys: [] };
    entry.keys.push(event.key);
    byTable.set(item.table!, entry);
  }
  const rows = new Map<string, Map<string, Row>>();
  for (const [name, { table, keys }] of byTable) {
    const found = await readRows(o.target, table, keys);
    rows.set(name, new Map(found.map((row) => [keyId(table, row), row])));
  }
  return found.map(({ item, event }) => {
    const table = item.table ? byTable.get(item.table)?.table : undefined;
    if (!event || !table) return item;
    return { ...item, targetRow: rowToJson(rows.get(item.table!)!.get(keyId(table, event.key))) ?? null };
  });
}

function keyId(table: TableSchema, row: Row): string {
  return JSON.stringify(rowToJson(Object.fromEntries(table.primaryKey.map((k) => [k, row[k] ?? null]))));
}

/** The key as the user gave it (an object, or a bare value for a one-column key) in portable values. */
function keyOf(table: TableSchema, given: unknown): Row {
  const obj =
    given !== null && typeof given === 'object' && !Array.isArray(given)
      ? (given as Record<string, unknown>)
      : table.primaryKey.length === 1
        ? { [table.primaryKey[0]!]: given }
        : undefined;
  if (!obj) throw new QueryError(`key: table ${qualifiedName(table)} has a key of ${table.primaryKey.join(', ')}: give an object`, 'key');
  const key: Record<string, ColumnValue> = {};
  for (const k of table.primaryKey) {
    const col = table.columns.find((c) => c.name === k)!;
    if (obj[k] === undefined || obj[k] === null) throw new QueryError(`key: column "${k}" of ${qualifiedName(table)} is missing`, 'key');
    try {
      key[k] = checkValue(col.type, typedText(col.type.kind, obj[k]), { fromApplication: true });
    } catch (err) {
      throw new QueryError(`key: column "${k}": ${(err as Error).message} (got ${show(obj[k])})`, 'key');
    }
  }
  return key;
}

/** A key typed into a query string arrives as text or a JSON number: the form the column's kind takes. */
function typedText(kind: string, v: unknown): unknown {
  if (typeof v === 'number' && (kind === 'string' || kind === 'uuid')) return String(v);
  if (typeof v !== 'string') return v;
  if ((kind === 'float32' || kind === 'float64') && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  if (kind === 'boolean' && (v === 'true' || v === 'false')) return v === 'true';
  return v;
}

function schemaIdOf(value: Buffer | null): number | null {
  if (!value) return null;
  try {
    return readSchemaId(value);
  } catch {
    return null;
  }
}

function keyText(key: Buffer | null): string {
  if (!key) return '';
  const text = key.toString('utf8');
  // eslint-disable-next-line no-control-regex -- printable text is shown as it is, anything else as hex
  return /^[^\u0000-\u001f\ufffd]*$/.test(text) ? text : `0x${key.toString('hex')}`;
}

function newestFirst(a: MessageItem, b: MessageItem): number {
  const [x, y] = [BigInt(a.offset), BigInt(b.offset)];
  return b.timestamp.localeCompare(a.timestamp) || a.partition - b.partition || (y > x ? 1 : y < x ? -1 : 0);
}
