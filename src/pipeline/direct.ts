/**
 * The direct transport: one process, no broker. Batches from the source are applied to the sink
 * in source order, each chunk in one target transaction with the checkpoint; the source is
 * acknowledged (outbox rows deleted) only after the whole batch is applied. The durable outbox is
 * the buffer: a crash anywhere replays unacknowledged rows, which the version guard makes harmless.
 */
import type { Sink, Source, SourceDdl } from '../core/contracts.js';
import type { TableSchema } from '../core/table-schema.js';
import { retry } from '../core/retry.js';
import type { PipelineStats } from './stats.js';

export interface DirectOptions {
  checkpointName: string;
  batchSize: number;
  stats: PipelineStats;
  onRetry?: (err: unknown) => void;
  /** A source table changed shape: rebind it before the batch (at `position`) that carries the change. */
  onSchemaChange: (table: TableSchema, position: string) => Promise<void>;
  /** DDL read from the source's log: recorded in the schema history. */
  onDdl?: (ddl: SourceDdl) => Promise<void>;
  /** A source TRUNCATE (source.truncate: apply): empty the table's target. */
  truncate: (table: TableSchema, version: bigint) => Promise<void>;
}

export async function runDirect(source: Source, sink: Sink, opts: DirectOptions): Promise<void> {
  for await (const batch of source.start()) {
    opts.stats.captured += batch.events.length;
    for (const d of batch.ddl ?? []) await opts.onDdl?.(d);
    for (const t of batch.schemaChanges ?? []) await opts.onSchemaChange(t, batch.position);
    for (const t of batch.truncate?.tables ?? [])
      await retry(() => opts.truncate(t, batch.truncate!.version), { retries: Number.MAX_SAFE_INTEGER, initialMs: 200, maxMs: 10_000 });
    // A source transaction that must stay whole is one target transaction, whatever its size.
    const size = batch.atomic ? Math.max(batch.events.length, 1) : opts.batchSize;
    for (let i = 0; i < batch.events.length; i += size) {
      const chunk = batch.events.slice(i, i + size);
      const last = i + size >= batch.events.length;
      const res = await retry(
        async () => {
          try {
            return await sink.apply(chunk, last ? { name: opts.checkpointName, position: batch.position } : undefined);
          } catch (err) {
            opts.onRetry?.(err);
            throw err;
          }
        },
        // Transient target failures (restart, deadlock) are retried until they pass, in order.
        { retries: Number.MAX_SAFE_INTEGER, initialMs: 200, maxMs: 10_000 },
      );
      opts.stats.noteApplied(res, chunk[chunk.length - 1]?.source.commitTs);
    }
    await source.acknowledge(batch.position);
  }
}
