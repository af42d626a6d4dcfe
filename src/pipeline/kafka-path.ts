/**
 * The Kafka path of a pipeline. Publishing: a source batch becomes one record per change (key =
 * the primary key's bytes, value = the Confluent-framed Avro envelope of its table), sent with
 * acks=all; only when the broker acknowledged the whole batch is the source acknowledged
 * (docs/guarantees.md: ack-after-durable).
 * Applying: the consumer hands per-key-ordered batches; each record is decoded by its record type
 * (several tables share a topic) into a ChangeEvent and the batch is applied in one target
 * transaction; the consumer commits offsets only below what was applied (transport/kafka).
 */
import type avro from 'avsc';
import type { ChangeEvent } from '../core/change-event.js';
import type { Sink, Source, SourceDdl } from '../core/contracts.js';
import type { TableSchema } from '../core/table-schema.js';
import { qualifiedName } from '../core/table-schema.js';
import { AvroSerde, avroType, type AvroWriter } from '../codec/avro-serde.js';
import { envelopeSchema, fromEnvelope, toEnvelope } from '../codec/change-envelope.js';
import { keyEncoder, type KeyEncoder, type KeyEncoding } from '../codec/key-encoding.js';
import { subjectName, type SubjectStrategy } from '../codec/subject-strategy.js';
import { tableRecordName } from '../codec/table-avro-schema.js';
import type { ConsumedRecord, KafkaProducer, ProduceRecord } from '../transport/kafka/index.js';
import type { PipelineStats } from './stats.js';
import { retry } from '../core/retry.js';

export interface RoutedTable {
  table: TableSchema;
  topic: string;
}

export interface KafkaPathOptions {
  serde: AvroSerde;
  tables: readonly RoutedTable[];
  subjectStrategy: SubjectStrategy;
  keyEncoding: KeyEncoding;
  namespace: string;
}

interface Route {
  table: TableSchema;
  topic: string;
  writer: AvroWriter;
  key: KeyEncoder;
}

export class Publisher {
  private readonly routes = new Map<string, Route>();

  constructor(
    private readonly producer: KafkaProducer,
    private readonly opts: KafkaPathOptions,
  ) {}

  /** Registers every table's envelope schema (refused with 409 if incompatible with the subject). */
  async prepare(): Promise<void> {
    for (const { table, topic } of this.opts.tables) await this.route(table, topic);
  }

  /** A table changed shape: its next records are written with its new schema (a new version of its subject). */
  async evolve(table: TableSchema): Promise<void> {
    const old = this.routes.get(qualifiedName(table)) ?? this.routes.get(table.name);
    if (old) await this.route(table, old.topic);
  }

  private async route(table: TableSchema, topic: string): Promise<void> {
    const schema = envelopeSchema(table, { namespace: this.opts.namespace });
    const subject = subjectName(this.opts.subjectStrategy, topic, tableRecordName(table, { namespace: this.opts.namespace }));
    const writer = await this.opts.serde.writer(subject, schema);
    const route = { table, topic, writer, key: keyEncoder(table, this.opts.keyEncoding) };
    this.routes.set(qualifiedName(table), route);
    this.routes.set(table.name, route);
  }

  records(events: readonly ChangeEvent[]): ProduceRecord[] {
    return events.map((e) => {
      const route = this.routes.get(qualifiedName(e.table)) ?? this.routes.get(e.table.name);
      if (!route) throw new Error(`no route for table ${qualifiedName(e.table)}: prepare() was not called with it`);
      return { topic: route.topic, key: route.key(e.key), value: route.writer.encode(toEnvelope(route.table, e)) };
    });
  }

  async publish(events: readonly ChangeEvent[]): Promise<void> {
    await this.producer.send(this.records(events));
  }
}

/**
 * Relays source batches to Kafka until the source ends; acknowledges each after the broker did.
 * A retriable send failure (broker down longer than the producer's own delivery timeout) resends
 * the whole batch, in order, until it passes: records that did reach the broker are duplicates the
 * version guard skips.
 */
export interface PublisherLoopOptions {
  onRetry?: (err: unknown) => void;
  onSchemaChange?: (table: TableSchema, position: string) => Promise<void>;
  /** DDL read from the source's log: recorded in the schema history. */
  onDdl?: (ddl: SourceDdl) => Promise<void>;
  /** Ends the retries of a batch that cannot be published (stop while the broker is down): unacknowledged, it is read again at the next start. */
  signal?: AbortSignal;
}

export async function runPublisher(
  source: Source,
  publisher: Publisher,
  stats: PipelineStats,
  o: PublisherLoopOptions = {},
): Promise<void> {
  const { onRetry, onSchemaChange, onDdl, signal } = o;
  for await (const batch of source.start()) {
    stats.captured += batch.events.length;
    // The consumer (in this process) reads with the new shape before any record of it is sent.
    for (const d of batch.ddl ?? []) await onDdl?.(d);
    for (const t of batch.schemaChanges ?? []) {
      await onSchemaChange?.(t, batch.position);
      await publisher.evolve(t);
    }
    try {
      await retry(
        async () => {
          try {
            await publisher.publish(batch.events);
          } catch (err) {
            onRetry?.(err);
            throw err;
          }
        },
        { retries: Number.MAX_SAFE_INTEGER, initialMs: 500, maxMs: 15_000, ...(signal ? { signal } : {}) },
      );
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    stats.published += batch.events.length;
    await source.acknowledge(batch.position);
  }
}

export interface ApplyHandler {
  (records: ConsumedRecord[]): Promise<void>;
  /** Reads a table's records with its new shape from now on (records written before decode with the new column's default). */
  evolve(table: TableSchema): void;
  /** The handler's decoder, which the message viewer shares so it reads with the same shapes. */
  readonly decoder: RecordDecoder;
}

/** Record values back to change events: by record type (several tables share a topic), read with each table's current shape. */
export interface RecordDecoder {
  decode(values: readonly Buffer[]): Promise<ChangeEvent[]>;
  /** Reads a table's records with its new shape from now on (records written before decode with the new column's default). */
  evolve(table: TableSchema): void;
}

export function recordDecoder(opts: Pick<KafkaPathOptions, 'serde' | 'tables' | 'namespace'>): RecordDecoder {
  const readers = new Map<string, avro.Type>();
  const tables = new Map<string, TableSchema>();
  const evolve = (table: TableSchema) => {
    const type = avroType(envelopeSchema(table, { namespace: opts.namespace }));
    readers.set(type.name!, type);
    tables.set(type.name!, table);
  };
  for (const { table } of opts.tables) evolve(table);
  return {
    decode: async (values) =>
      (await opts.serde.deserializeBatchByRecord(values, readers)).map((d) => fromEnvelope(tables.get(d.name)!, d.value)),
    evolve,
  };
}

/** The consumer's handler: decode by record type, apply as one batch. */
export function applyHandler(sink: Sink, opts: KafkaPathOptions, stats: PipelineStats): ApplyHandler {
  const decoder = recordDecoder(opts);
  const handler = async (records: ConsumedRecord[]) => {
    const events = await decoder.decode(records.filter((r) => r.value !== null).map((r) => r.value!));
    if (events.length === 0) return;
    const res = await sink.apply(events);
    stats.noteApplied(res, events[events.length - 1]!.source.commitTs);
  };
  return Object.assign(handler, { evolve: decoder.evolve, decoder });
}
