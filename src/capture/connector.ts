/**
 * What a source connector is: a config spec (zod, with a `connector` literal) and `open`, which
 * turns the parsed options into a running Source. The pipeline picks the connector by name from
 * connectors.ts and never knows which one it runs; a new connector is one folder here and one
 * line in that table.
 *
 * Contract of `open`: everything it starts is released by `opened.close()` (or by the Source's
 * `stop` for its own loop); it fails fast, with a SluiceError naming the config key, when the
 * source cannot be used (missing rights, settings, tables).
 */
import type { z } from 'zod';
import type { Source } from '../core/contracts.js';
import type { TableSchema } from '../core/table-schema.js';
import type { DbConnection } from '../metadata/index.js';
import type { SqlStore } from '../state/index.js';
import type { CapturedChange } from './api/types.js';

export interface CaptureLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ConnectorContext {
  /** The pipeline's name: names the relay, the replication slot, progress records. */
  readonly pipeline: string;
  /** The configured tables as introspected, in config order. */
  readonly tables: readonly TableSchema[];
  /** The source database, when the config names one (`source.connection`). */
  readonly database?: DbConnection;
  /** The state store (opened on first use: embedded PGlite takes seconds and memory). */
  state(): Promise<SqlStore>;
  /** Where acknowledged batches went: applied to the target, or acknowledged by the broker. */
  readonly transport: 'direct' | 'kafka';
  readonly log: CaptureLogger;
}

/** Makes changes posted to the capture API durable; resolves `{ published: false }` when stored but not yet acknowledged downstream in time. */
export type AcceptChanges = (changes: CapturedChange[], ackTimeoutMs: number) => Promise<void | { published: false }>;

export interface SnapshotGauge {
  readonly table: string;
  readonly rows: number;
  /** The planner's estimate of the table's rows (at least `rows`). */
  readonly estimate: number;
  readonly done: boolean;
}

export interface SourceGauges {
  /** Bytes of WAL (or binlog) the server keeps for this pipeline, as last read. */
  readonly retainedBytes?: number;
  readonly snapshots: readonly SnapshotGauge[];
}

export interface OpenedSource {
  readonly source: Source;
  /** Changes waiting at the source, when it can tell. */
  backlog(): number;
  /** What the source can tell about itself beyond its backlog (log capture: WAL it holds, snapshots). */
  gauges?(): SourceGauges;
  /** Present on connectors that take changes over HTTP (the `api` key's server mounts it). */
  readonly accept?: AcceptChanges;
  /** Releases what `open` started (connections, servers); called after `source.stop()`. */
  close(): Promise<void>;
}

/** A prerequisite the source does not meet, with what fixes it (`sluice check` prints these). */
export interface SourceProblem {
  readonly configPath?: string;
  readonly message: string;
  readonly fix: string;
}

export interface SourceConnector<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly spec: S;
  open(options: z.infer<S>, ctx: ConnectorContext): Promise<OpenedSource>;
  /** What `open` would refuse, without creating anything. */
  check?(options: z.infer<S>, ctx: Pick<ConnectorContext, 'pipeline' | 'tables' | 'database'>): Promise<SourceProblem[]>;
}

export function defineConnector<S extends z.ZodType>(c: SourceConnector<S>): SourceConnector<S> {
  return c;
}
