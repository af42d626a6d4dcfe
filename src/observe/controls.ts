/**
 * What the observe server may read and do in a running pipeline. The pipeline builds it at start-up
 * from its own parts (sink, state store, registry, reconcile) and hands it over, so observe/ never
 * imports the pipeline, the sink or reconcile: every capability is a plain function here.
 */
import type { DeadLetterRecord, DrainResult, JsonSafe } from '../core/dead-letter.js';

/** One row of the topology: a source table, where it travels and where it lands. */
export interface TopologyEdge {
  /** Source table ("schema.name" or "name"). */
  readonly table: string;
  /** Kafka topic (absent with the direct transport). */
  readonly topic?: string;
  /** Target table as the sink names it. */
  readonly target: string;
}

/** A dead letter as listed (values that are bigint in the store travel as strings). */
export type DeadLetterItem = JsonSafe<DeadLetterRecord & { readonly table: string }>;

export interface DeadLetterView extends DeadLetterItem {
  /** The change as stored (op, key, row image, source position), JSON-safe. */
  readonly event: unknown;
  readonly parkedEvents: ReadonlyArray<{ readonly id: number; readonly version: string; readonly op: string }>;
  /** The target's current row for the key, or null when the target has none. */
  readonly targetRow: Record<string, unknown> | null;
}

export type DrainOutcome = DrainResult;

export interface ReconcileState {
  /** A run started from the dashboard (or the schedule) is in progress. */
  readonly running: boolean;
  readonly startedAt?: string;
  readonly lastError?: string;
  /** Id of the report the last finished run stored. */
  readonly lastReportId?: number;
}

export interface SubjectVersions {
  readonly subject: string;
  readonly versions: readonly number[];
}

export type SnapshotState = 'waiting' | 'running' | 'paused' | 'cancelled' | 'done';

/** A snapshot of one table: the initial one the source ran when it first started, or a requested re-read. */
export interface SnapshotItem {
  /** schema.table */
  readonly table: string;
  readonly kind: 'initial' | 'incremental';
  readonly state: SnapshotState;
  readonly rows: number;
  /** Rows the snapshot is expected to copy (the planner's estimate), null when unknown (a filtered re-read, a table never analyzed). */
  readonly estimate: number | null;
  readonly where?: string;
}

/** A snapshot request refused for the state it is in (resume of a request not paused, a second start of a running one). */
export class SnapshotStateError extends Error {
  override readonly name = 'SnapshotStateError';
}

/** A portable column type as the source reported it, e.g. `{"kind":"int64"}` or `{"kind":"decimal","precision":10,"scale":2}`. */
export type ColumnTypeView = { readonly kind: string } & Readonly<Record<string, unknown>>;

/** One change of a source table's shape, as recorded when the pipeline rebound the table. */
export interface SchemaChangeItem {
  /** schema.table */
  readonly table: string;
  /** The source position from which changes carry the new shape. */
  readonly position: string;
  readonly added: ReadonlyArray<{ readonly name: string; readonly type: ColumnTypeView }>;
  readonly dropped: readonly string[];
  readonly retyped: ReadonlyArray<{ readonly name: string; readonly from: ColumnTypeView; readonly to: ColumnTypeView }>;
  /** Whether the target gained the added columns (target.evolve). */
  readonly targetEvolved: boolean;
  /** The DDL statement, on an entry that records one (a source that writes DDL into its log). */
  readonly ddl?: { readonly tag: string; readonly statement: string };
  readonly recordedAt: string | null;
}

/** A query of the message viewer that cannot be answered as asked: 400, naming the field. */
export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

export interface MessageQuery {
  /** One of the pipeline's topics; absent: the table's topic. */
  readonly topic?: string;
  /** A source table ("t" or "schema.t"): only its records. */
  readonly table?: string;
  /** The primary key of one row of `table` (column → value; a single-column key may be given bare). */
  readonly key?: unknown;
  readonly limit: number;
}

/** One Kafka record, decoded through the registry and tied to its table and the target's row. */
export interface MessageItem {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** The record's timestamp, ISO 8601. */
  readonly timestamp: string;
  /** The registry id of the schema the value was written with; null for a value not framed for the registry. */
  readonly schemaId: number | null;
  /** The record's key as text (UTF-8 where printable, else hex). */
  readonly keyText: string;
  /** The source table (schema.table); null when no configured table reads the record. */
  readonly table: string | null;
  /** The decoded change (op, key, row image, version, source position), JSON-safe; null when it cannot be decoded. */
  readonly event: unknown;
  /** Why the record could not be decoded. */
  readonly error?: string;
  /** The target's current row for the record's key; null when the target has none. Absent for a record not decoded. */
  readonly targetRow?: Record<string, unknown> | null;
}

export interface MessagePage {
  readonly topic: string;
  readonly partitions: ReadonlyArray<{ readonly partition: number; readonly low: string; readonly high: string }>;
  /** Records read to answer (a key's or a table's records are looked for back to a bound). */
  readonly scanned: number;
  /** False when the scan stopped at its bound (20,000 records, 30 s) before it could say no newer match is left, or a read timed out. */
  readonly complete: boolean;
  /** Newest first. */
  readonly messages: readonly MessageItem[];
}

/** A readiness probe: resolves when its part is reachable, throws with the reason when not. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

export interface Controls {
  readonly pipeline: string;
  readonly transport: 'direct' | 'kafka';
  readonly topology: readonly TopologyEdge[];
  readonly checks?: readonly ReadinessCheck[];
  readonly deadLetters?: {
    list(opts: { status?: string; table?: string; limit?: number }): Promise<DeadLetterItem[]>;
    show(id: number): Promise<DeadLetterView | undefined>;
    replay(id: number): Promise<DrainOutcome>;
    skip(id: number): Promise<DrainOutcome>;
  };
  readonly reconcile?: {
    state(): ReconcileState;
    /** Starts a run unless one is running; false when one was. */
    start(opts: { repair: boolean }): boolean;
    reports(limit: number): Promise<unknown[]>;
    report(id: number): Promise<unknown | undefined>;
  };
  readonly snapshots?: {
    /** The tables a request may name (schema.table), in config order. */
    readonly tables: readonly string[];
    /** The configured table a name ("t" or "schema.t") means, as schema.table; undefined when it is none. */
    tableNamed(name: string): string | undefined;
    list(): Promise<SnapshotItem[]>;
    /** Requests an incremental snapshot; throws SnapshotStateError while one of the table waits, runs or is paused. */
    start(table: string, where?: string): Promise<SnapshotItem>;
    pause(table: string): Promise<SnapshotItem>;
    resume(table: string): Promise<SnapshotItem>;
    cancel(table: string): Promise<SnapshotItem>;
  };
  readonly schemaHistory?: {
    /** The source tables (schema.table), in config order. */
    readonly tables: readonly string[];
    /** The configured table a name ("t" or "schema.t") means, as schema.table; undefined when it is none. */
    tableNamed(name: string): string | undefined;
    /** Oldest first; one table's entries when `table` is given. */
    list(table?: string): Promise<SchemaChangeItem[]>;
  };
  readonly messages?: {
    /** The pipeline's topics and the source tables routed to each. */
    readonly topics: ReadonlyArray<{ readonly topic: string; readonly tables: readonly string[] }>;
    /** Throws QueryError for a query that names no configured topic, table or a key that does not fit. */
    latest(q: MessageQuery): Promise<MessagePage>;
  };
  readonly registry?: {
    subjects(): Promise<SubjectVersions[]>;
    schema(subject: string, version: number): Promise<unknown>;
  };
}
