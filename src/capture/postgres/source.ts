/**
 * The PostgreSQL log source. First, for every table without a finished snapshot, its rows in key
 * order, chunk by chunk (resumable: progress is stored when a chunk is acknowledged); then the
 * slot's changes, one batch per source transaction (or several small ones, `transactions: batch`),
 * in commit order.
 *
 * Positions: a streamed batch's position is its last transaction's end LSN; acknowledging it
 * tells the server that everything up to there may be released. The server learns nothing else:
 * while no batch is outstanding and no transaction is open, a keepalive's WAL end is durable too
 * (nothing of ours lies before it), which is how an idle or filtered-out source still frees WAL.
 *
 * Versions: commit LSN × 2^16 + the change's place in its transaction (lsn.ts); snapshot rows
 * carry a version just below the position streaming starts from, so any streamed change wins.
 */
import type pg from 'pg';
import type { ChangeBatch, Source, SourceDdl } from '../../core/contracts.js';
import type { ChangeEvent } from '../../core/change-event.js';
import { SluiceError } from '../../core/errors.js';
import { retry } from '../../core/retry.js';
import type { Row, TableSchema } from '../../core/table-schema.js';
import { qualifiedName } from '../../core/table-schema.js';
import { readRowsPostgres } from '../../metadata/index.js';
import type { CaptureLogger } from '../connector.js';
import type { ProgressStore, SnapshotProgress } from '../snapshot/progress.js';
import { SnapshotRequests } from '../snapshot/requests.js';
import { changeVersion, formatLsn, parseLsn, snapshotVersion, type Lsn } from './lsn.js';
import { commitTimeText, decodePgOutput, UNCHANGED, type PgOutputMessage, type RelationColumn, type TupleValue } from './pgoutput.js';
import { passesByItself, ReplicationStream } from './replication.js';
import { Spool, type SpoolFile } from './spool.js';
import { readWatermarkedChunk, Window } from './incremental.js';
import { DDL_PREFIX, ddlTable, parseDdlMessage } from './ddl.js';
import { estimateRows, keyTextOf, readChunk } from './snapshot.js';
import { builtinRelationType, relationColumnType, textParser, type TextParser } from './values.js';

export interface PostgresSourceOptions {
  name: string;
  url: string;
  pool: pg.Pool;
  tables: readonly TableSchema[];
  slot: string;
  publication: string;
  /** The slot's confirmed position when the source opened: where streaming resumes. */
  startLsn: Lsn;
  progress: ProgressStore;
  snapshot: 'initial' | 'never';
  snapshotChunkRows: number;
  transactions: 'whole' | 'batch';
  maxTransactionChanges: number;
  batchSize: number;
  statusIntervalMs: number;
  truncate: 'refuse' | 'apply';
  /** Read the DDL the event trigger writes into the log (ddl.ts). */
  ddlMessages?: boolean;
  /** Where transactions streamed while in progress are spooled; absent: protocol 1, no streaming. */
  spoolDir?: string;
  decodingWorkMem?: string;
  log: CaptureLogger;
  /** Snapshot progress for the terminal and metrics. */
  onSnapshotProgress?: (p: { table: string; rows: number; estimate: number; done: boolean }) => void;
}

interface Bound {
  table: TableSchema;
  ref: ChangeEvent['table'];
  /** For each relation column (in the message's order): the table column it fills and its parser. */
  columns: Array<{ name: string; parse: TextParser; key: boolean }>;
}

interface OpenTx {
  xid: number;
  commitLsn: Lsn;
  commitTs: string;
  events: ChangeEvent[];
  seq: number;
  /** Updates whose TOASTed values were not sent: filled from the source before the batch leaves. */
  toast: Array<{ index: number; missing: string[] }>;
  source?: ChangeEvent['source'];
}

type Queued = { batch: ChangeBatch; toast: OpenTx['toast']; durable?: Lsn };
/** A transaction streamed in progress and now committed: read back from its spool file when its turn comes. */
type Spooled = { spooled: SpoolFile; xid: number; commitLsn: Lsn; endLsn: Lsn; commitTs: string };
/** An incremental snapshot chunk whose high watermark the stream has passed: emitted when its turn comes. */
type WindowDue = { window: Window; done: () => Promise<void> };

const snapshotItem = (t: TableSchema) => `snapshot:${qualifiedName(t)}`;

export class PostgresSource implements Source {
  readonly name: string;
  private stream: ReplicationStream | undefined;
  private readonly relations = new Map<number, Bound | null>();
  /** Each relation's column types as its last Relation message sent them (`typeOid:typmod` by column). */
  private readonly relationTypes = new Map<number, Map<string, string>>();
  private readonly byName = new Map<string, TableSchema>();
  private readonly schemaChanges: TableSchema[] = [];
  /** DDL about our tables read from the log, handed to the next batch that leaves. */
  private readonly ddl: SourceDdl[] = [];
  private tx: OpenTx | undefined;
  private readonly queue: Array<Queued | Spooled | WindowDue> = [];
  /** Incremental snapshot chunks read or being read, waiting for the stream to pass their watermark. */
  private readonly windows: Array<{ window: Window; done: () => Promise<void> }> = [];
  /** Every transaction committed before this position has been received. */
  private receivedThrough: Lsn = 0n;
  private incremental: Promise<void> | undefined;
  private readonly spool: Spool | undefined;
  /** Inside a Stream Start … Stream Stop block: the top-level transaction being streamed. */
  private streamXid: number | undefined;
  private queuedEvents = 0;
  private failure: { err: Error; fromConnection: boolean } | undefined;
  private readonly stopping = new AbortController();
  private connection: object | undefined;
  private readonly requests: SnapshotRequests;
  private wake: (() => void) | undefined;
  private stopped = false;
  private paused = false;
  /** Everything up to here is durable downstream; the only position the server is told. */
  private durable: Lsn;
  /** The batch handed out and not yet acknowledged, and what acknowledging it does. */
  private outstanding: { position: string; onAck: () => Promise<void> } | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  backlog = 0;

  constructor(private readonly o: PostgresSourceOptions) {
    this.name = o.name;
    this.requests = new SnapshotRequests(o.progress);
    this.durable = o.startLsn;
    this.spool = o.spoolDir ? new Spool(o.spoolDir) : undefined;
    for (const t of o.tables) this.byName.set(`${t.schema ?? 'public'}.${t.name}`, t);
  }

  async tables(): Promise<TableSchema[]> {
    return [...this.o.tables];
  }

  async *start(): AsyncIterable<ChangeBatch> {
    if (this.o.snapshot === 'initial') {
      const known = await Promise.all(this.o.tables.map((t) => this.o.progress.get(snapshotItem(t))));
      const streamedBefore = known.some((p) => p?.done);
      for (const [i, t] of this.o.tables.entries()) {
        if (streamedBefore && !known[i]) {
          // A table added to a pipeline that already streams: copied by an incremental snapshot,
          // while the other tables keep flowing, instead of holding the stream back.
          await this.o.progress.put(`incremental:${qualifiedName(t)}`, { from: '', rows: 0, done: false });
          await this.o.progress.put(snapshotItem(t), { from: formatLsn(this.durable), rows: 0, done: true, where: 'incremental' });
          this.o.log.info(
            { table: qualifiedName(t) },
            'table added to a running pipeline: copied by an incremental snapshot while streaming',
          );
          continue;
        }
        for await (const b of this.snapshotTable(t)) {
          if (this.stopped) return;
          yield b;
        }
      }
    }
    if (this.stopped) return;
    this.o.log.info({ slot: this.o.slot, from: formatLsn(this.durable) }, 'streaming changes from the replication slot');
    // A slot still held by a process that just died is released within seconds: retried.
    try {
      await this.openStream({ retries: 20, initialMs: 250, maxMs: 3_000 });
    } catch (err) {
      if (this.stopped) return;
      throw err;
    }
    if (this.stopped) {
      // stop() ran while the connection was opening: it had no stream to close.
      await this.stream?.close();
      return;
    }
    // However the consumer leaves (stop, a failure, an abandoned loop), the connection is closed.
    try {
      while (!this.stopped) {
        if (this.failure) {
          if (!this.failure.fromConnection) throw this.failure.err;
          await this.reconnect(this.failure.err);
          continue;
        }
        const next = this.queue.shift();
        if (!next) {
          if (this.paused) this.resume();
          await new Promise<void>((r) => (this.wake = r));
          this.wake = undefined;
          continue;
        }
        if ('spooled' in next) {
          yield* this.replay(next);
          continue;
        }
        if ('window' in next) {
          yield this.windowBatch(next);
          continue;
        }
        this.queuedEvents -= next.batch.events.length;
        this.backlog = this.queuedEvents;
        if (next.toast.length) await this.withSource(() => this.fillToast(next));
        const durable = next.durable;
        this.outstanding = {
          position: next.batch.position,
          onAck: async () => {
            if (durable !== undefined && durable > this.durable) this.durable = durable;
            this.stream?.confirm(this.durable);
          },
        };
        if (this.queuedEvents < this.o.batchSize && this.paused) this.resume();
        yield next.batch;
      }
    } finally {
      clearInterval(this.statusTimer);
      await this.stream?.close();
    }
  }

  private async openStream(policy: { retries: number; initialMs: number; maxMs: number }): Promise<void> {
    // Names this connection in its end callback: a late callback of a replaced one is ignored.
    const connection = {};
    this.connection = connection;
    const stream = await retry(
      () =>
        ReplicationStream.open({
          url: this.o.url,
          slot: this.o.slot,
          publication: this.o.publication,
          from: this.durable,
          streaming: this.spool !== undefined,
          messages: this.o.ddlMessages === true,
          ...(this.o.decodingWorkMem ? { decodingWorkMem: this.o.decodingWorkMem } : {}),
          onFrame: (f) => {
            try {
              if (f.kind === 'keepalive') this.onKeepalive(f.walEnd, f.replyRequested);
              else this.onXLog(f.payload);
            } catch (err) {
              this.fail(err as Error);
            }
          },
          onEnd: (err) => {
            if (err) this.fail(err, connection);
            else this.signal();
          },
        }),
      { ...policy, signal: this.stopping.signal },
    );
    this.stream = stream;
    clearInterval(this.statusTimer);
    this.statusTimer = setInterval(() => {
      this.stream?.confirm(this.durable);
      this.pollIncremental();
    }, this.o.statusIntervalMs);
    this.statusTimer.unref();
  }

  /**
   * The replication connection was lost (a server restart, a failover, a terminated walsender).
   * What was received and not yet handed out is dropped and received again: the server resends
   * every transaction that ends after `durable`, the one position it was ever told. Transactions
   * streamed in progress are streamed again from their start, so their spool files go too.
   * Incremental-snapshot chunks already due stay queued: their rows are versioned below their
   * watermark, so a change streamed again after them still wins.
   */
  private async reconnect(err: Error): Promise<void> {
    this.failure = undefined;
    clearInterval(this.statusTimer);
    await this.stream?.close();
    this.stream = undefined;
    const kept = this.queue.filter((q): q is WindowDue => 'window' in q);
    for (const q of this.queue) if ('spooled' in q) q.spooled.discard();
    this.queue.splice(0, this.queue.length, ...kept);
    this.queuedEvents = 0;
    this.backlog = 0;
    this.tx = undefined;
    this.streamXid = undefined;
    this.spool?.reset();
    this.paused = false;
    this.o.log.warn(
      { slot: this.o.slot, from: formatLsn(this.durable), err: err.message },
      'replication connection lost: reconnecting, resuming from the last durable position',
    );
    // Until the server is back (a restart takes seconds, a failover longer), or the pipeline stops.
    try {
      await this.openStream({ retries: Number.MAX_SAFE_INTEGER, initialMs: 500, maxMs: 10_000 });
    } catch (e) {
      if (this.stopped) return;
      throw e;
    }
    if (!this.stopped) this.o.log.info({ slot: this.o.slot, from: formatLsn(this.durable) }, 'replication reconnected');
  }

  async acknowledge(position: string): Promise<void> {
    const o = this.outstanding;
    if (!o || o.position !== position) {
      throw new SluiceError(
        'SLUICE_ERR_SOURCE',
        `postgres source ${this.name}: acknowledged position ${position} is not the batch in flight (${o?.position ?? 'none'})`,
      );
    }
    this.outstanding = undefined;
    await o.onAck();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    clearInterval(this.statusTimer);
    this.signal();
    await this.stream?.close();
    this.spool?.close();
  }

  // --- snapshot ----------------------------------------------------------------------------------

  private async *snapshotTable(t: TableSchema): AsyncIterable<ChangeBatch> {
    const item = snapshotItem(t);
    let p: SnapshotProgress = (await this.o.progress.get(item)) ?? { from: formatLsn(this.durable), rows: 0, done: false };
    if (p.done) return;
    if (p.rows === 0 && !p.after)
      await this.o.progress.put(item, p); // the version base survives a crash before the first chunk
    else this.o.log.info({ table: qualifiedName(t), after: p.after, rows: p.rows }, 'snapshot resumes after the last durable chunk');
    const version = snapshotVersion(parseLsn(p.from));
    const estimate = Math.max(await estimateRows(this.o.pool, t), p.rows);
    const name = qualifiedName(t);
    this.o.onSnapshotProgress?.({ table: name, rows: p.rows, estimate, done: false });
    const tableRef = ref(t);
    const source = { connector: this.name, position: p.from };
    // The next chunk is read while the current one is applied: the read and the target's work overlap.
    let reading: Promise<Row[]> | undefined = readChunk(this.o.pool, t, p.after, this.o.snapshotChunkRows);
    while (reading) {
      const rows = await reading;
      const last = rows[rows.length - 1];
      const next: SnapshotProgress = last
        ? { from: p.from, after: keyTextOf(t, last), rows: p.rows + rows.length, done: rows.length < this.o.snapshotChunkRows }
        : { ...p, done: true };
      reading = next.done ? undefined : readChunk(this.o.pool, t, next.after, this.o.snapshotChunkRows);
      // A read failing while this chunk is out is reported when its turn comes, not as unhandled.
      reading?.catch(() => {});
      const events: ChangeEvent[] = rows.map((r) => ({ table: tableRef, op: 'r', key: keyOf(t, r), after: r, version, source }));
      const position = `${p.from}#${name}:${next.rows}`;
      this.outstanding = {
        position,
        onAck: async () => {
          await this.o.progress.put(item, next);
          this.o.onSnapshotProgress?.({ table: name, rows: next.rows, estimate: Math.max(estimate, next.rows), done: next.done });
        },
      };
      yield { events, position };
      p = next;
      if (this.stopped) break;
    }
    this.o.log.info({ table: name, rows: p.rows }, 'snapshot finished');
  }

  // --- streaming ---------------------------------------------------------------------------------

  private onKeepalive(walEnd: Lsn, replyRequested: boolean): void {
    // Nothing received is waiting anywhere: all before walEnd is either durable or not ours.
    if (!this.tx && this.queue.length === 0 && !this.outstanding && !this.spool?.open && walEnd > this.durable) this.durable = walEnd;
    if (!this.tx && this.streamXid === undefined) this.passed(walEnd);
    if (replyRequested) this.stream?.confirm(this.durable);
  }

  private onXLog(payload: Buffer): void {
    const m = decodePgOutput(payload, this.streamXid !== undefined);
    switch (m.tag) {
      case 'stream-start':
        this.streamXid = m.xid;
        return;
      case 'stream-stop':
        this.streamXid = undefined;
        return;
      case 'stream-commit': {
        const spooled = this.spool!.take(m.xid);
        if (spooled)
          this.queue.push({ spooled, xid: m.xid, commitLsn: m.commitLsn, endLsn: m.endLsn, commitTs: commitTimeText(m.commitTime) });
        else this.enqueue({ xid: m.xid, commitLsn: m.commitLsn, commitTs: '', events: [], seq: 0, toast: [] }, m.endLsn, true);
        this.passed(m.endLsn);
        this.signal();
        return;
      }
      case 'stream-abort':
        this.spool!.abort(m.xid, m.subXid);
        return;
    }
    if (this.streamXid !== undefined) {
      // Schema messages take effect at once (later changes are described by them); changes wait
      // on disk for their transaction's commit.
      if (m.tag === 'relation') this.onMessage(m);
      else if (m.tag !== 'type') this.spool!.file(this.streamXid).append(payload);
      return;
    }
    this.onMessage(m);
  }

  /** A committed streamed transaction, read back from disk in chunks of maxTransactionChanges. */
  private async *replay(item: Spooled): AsyncIterable<ChangeBatch> {
    const file = item.spooled;
    this.o.log.info(
      { xid: item.xid, messages: file.messages, commit: formatLsn(item.commitLsn) },
      'applying a transaction streamed while in progress, from its spool',
    );
    try {
      let tx: OpenTx = { xid: item.xid, commitLsn: item.commitLsn, commitTs: item.commitTs, events: [], seq: 0, toast: [] };
      const emit = async function* (this: PostgresSource, last: boolean): AsyncIterable<ChangeBatch> {
        const position = last ? formatLsn(item.endLsn) : `${formatLsn(item.commitLsn)}~${tx.seq}`;
        const q: Queued = {
          batch: {
            events: tx.events,
            position,
            ...(last && this.o.transactions === 'whole' ? { atomic: true } : {}),
            ...this.takeSchemaChanges(),
          },
          toast: tx.toast,
          ...(last ? { durable: item.endLsn } : {}),
        };
        if (q.toast.length) await this.withSource(() => this.fillToast(q));
        const durable = q.durable;
        this.outstanding = {
          position,
          onAck: async () => {
            if (durable !== undefined && durable > this.durable) this.durable = durable;
            this.stream?.confirm(this.durable);
          },
        };
        yield q.batch;
        tx = { ...tx, events: [], toast: [] };
      }.bind(this);
      for (const payload of file.read()) {
        if (this.stopped) return;
        const m = decodePgOutput(payload, true);
        if ('xid' in m && m.xid !== undefined && file.abortedSubXids.has(m.xid)) continue;
        if (m.tag === 'relation') {
          this.onMessage(m);
          continue;
        }
        if (m.tag === 'message') {
          this.tx = tx;
          this.onLogMessage(m);
          continue;
        }
        if (m.tag === 'truncate') {
          const batch = this.truncateBatch(tx, m.oids);
          if (!batch) continue;
          if (tx.events.length) yield* emit(false);
          this.outstanding = { position: batch.position, onAck: async () => {} };
          yield batch;
          continue;
        }
        if (m.tag !== 'insert' && m.tag !== 'update' && m.tag !== 'delete') continue;
        const b = this.relations.get(m.oid);
        if (!b) continue;
        this.change(tx, b, m);
        if (tx.events.length >= this.o.maxTransactionChanges) yield* emit(false);
      }
      yield* emit(true);
    } finally {
      this.tx = undefined;
      file.discard();
    }
  }

  private onMessage(m: PgOutputMessage): void {
    switch (m.tag) {
      case 'begin':
        this.tx = { xid: m.xid, commitLsn: m.commitLsn, commitTs: commitTimeText(m.commitTime), events: [], seq: 0, toast: [] };
        return;
      case 'relation':
        this.relations.set(
          m.oid,
          this.bind(m.schema, m.name, m.replicaIdentity, m.columns, this.retyped(m.oid, m.schema, m.name, m.columns)),
        );
        return;
      case 'insert':
      case 'update':
      case 'delete': {
        const b = this.relations.get(m.oid);
        if (!b) return; // a table of the publication sluice was not asked to replicate
        const tx = this.openTx();
        this.change(tx, b, m);
        // A transaction larger than what may be held in memory leaves in chunks (not atomically).
        if (tx.events.length >= this.o.maxTransactionChanges) {
          this.enqueue({ ...tx }, undefined, false);
          tx.events = [];
          tx.toast = [];
        }
        return;
      }
      case 'truncate': {
        const tx = this.openTx();
        const batch = this.truncateBatch(tx, m.oids);
        if (!batch) return;
        // What the transaction changed before the TRUNCATE leaves first (the transaction is split there).
        if (tx.events.length) {
          this.enqueue({ ...tx }, undefined, false);
          tx.events = [];
          tx.toast = [];
        }
        this.queue.push({ batch, toast: [] });
        this.signal();
        return;
      }
      case 'commit': {
        const tx = this.openTx();
        this.tx = undefined;
        this.enqueue(tx, m.endLsn, true);
        this.passed(m.endLsn);
        return;
      }
      case 'message':
        this.onLogMessage(m);
        return;
      default:
        return; // origin, type: nothing to replicate
    }
  }

  /** A transactional logical message; the DDL trigger's are kept for the schema history (ddl.ts). */
  private onLogMessage(m: Extract<PgOutputMessage, { tag: 'message' }>): void {
    if (m.prefix !== DDL_PREFIX || !m.transactional || !this.tx) return;
    const d = parseDdlMessage(m.content);
    const table = d && ddlTable(d, this.byName.values());
    if (!d || !table) return;
    this.ddl.push({ table: qualifiedName(table), tag: d.tag, statement: d.statement, position: formatLsn(this.tx.commitLsn) });
    this.o.log.info({ table: qualifiedName(table), tag: d.tag, at: formatLsn(this.tx.commitLsn) }, 'DDL at the source');
  }

  private openTx(): OpenTx {
    if (!this.tx) throw new SluiceError('SLUICE_ERR_SOURCE', 'pgoutput: a change outside a transaction');
    return this.tx;
  }

  /**
   * The columns whose type (OID or modifier) differs from the previous Relation message of the
   * same relation: an ALTER COLUMN … TYPE. The first message of a relation (after a start, the
   * change may predate it) is compared with the table as introspected, for built-in types: a
   * domain, an enum or an array has no built-in OID to compare and keeps its introspected type.
   */
  private retyped(oid: number, schema: string, name: string, cols: RelationColumn[]): Set<string> {
    const now = new Map(cols.map((c) => [c.name, `${c.typeOid}:${c.typmod}`]));
    const before = this.relationTypes.get(oid);
    this.relationTypes.set(oid, now);
    if (before) return new Set([...now].filter(([col, t]) => before.has(col) && before.get(col) !== t).map(([col]) => col));
    const known = new Map(this.byName.get(`${schema}.${name}`)?.columns.map((c) => [c.name, c.type]));
    return new Set(
      cols
        .filter((c) => {
          const sent = builtinRelationType(c);
          const was = known.get(c.name);
          return sent !== undefined && was !== undefined && JSON.stringify(sent) !== JSON.stringify(was);
        })
        .map((c) => c.name),
    );
  }

  private bind(schema: string, name: string, identity: string, cols: RelationColumn[], retyped: Set<string>): Bound | null {
    let table = this.byName.get(`${schema}.${name}`);
    if (!table) return null;
    const known = new Map(table.columns.map((c) => [c.name, c]));
    const sent = new Set(cols.map((c) => c.name));
    const added = cols.filter((c) => !known.has(c.name));
    const dropped = table.columns.filter((c) => !sent.has(c.name)).map((c) => c.name);
    const changed = cols.filter((c) => retyped.has(c.name) && known.has(c.name));
    if (changed.some((c) => table!.primaryKey.includes(c.name))) {
      throw new SluiceError(
        'SLUICE_ERR_SCHEMA_INCOMPATIBLE',
        `table ${qualifiedName(table)}: the type of key column(s) ${changed.map((c) => c.name).join(', ')} changed at the source; a table's key cannot change while it replicates: re-create the target table and re-snapshot it`,
        { context: { table: qualifiedName(table), field: changed[0]!.name } },
      );
    }
    if (dropped.some((c) => table!.primaryKey.includes(c))) {
      throw new SluiceError(
        'SLUICE_ERR_SCHEMA_INCOMPATIBLE',
        `table ${qualifiedName(table)}: key column(s) ${dropped.join(', ')} are no longer sent by the source; a table's key cannot change while it replicates: re-create the target table and re-snapshot it`,
        { context: { table: qualifiedName(table), field: dropped[0] } },
      );
    }
    if (added.length || dropped.length || changed.length) {
      // The table changed shape: later changes carry the new columns (or the new types, read with
      // their own parsers), and the batch that holds the first of them tells the pipeline to rebind
      // the table first (docs/guarantees.md: schema-changes).
      const columns = cols.map((c) => {
        const k = known.get(c.name);
        if (!k) return { name: c.name, type: relationColumnType(c), nullable: true };
        return retyped.has(c.name) ? { ...k, type: relationColumnType(c) } : k;
      });
      table = { ...table, columns };
      this.byName.set(`${schema}.${name}`, table);
      this.schemaChanges.push(table);
      this.o.log.warn(
        { table: qualifiedName(table), added: added.map((c) => c.name), dropped, retyped: changed.map((c) => c.name) },
        'source table changed shape',
      );
    }
    const keyed = cols
      .filter((c) => c.key)
      .map((c) => c.name)
      .sort();
    if (identity !== 'f' && keyed.join() !== [...table.primaryKey].sort().join()) {
      throw new SluiceError(
        'SLUICE_ERR_SOURCE',
        `table ${qualifiedName(table)}: its replica identity is on (${keyed.join(', ')}), not on the primary key (${table.primaryKey.join(', ')}): ALTER TABLE ${qualifiedName(table)} REPLICA IDENTITY DEFAULT (or FULL)`,
        { context: { table: qualifiedName(table) } },
      );
    }
    const types = new Map(table.columns.map((c) => [c.name, c.type]));
    const pk = table.primaryKey;
    return {
      table,
      ref: ref(table),
      columns: cols.map((c) => ({ name: c.name, parse: textParser(types.get(c.name)!), key: pk.includes(c.name) })),
    };
  }

  /** Schema changes (and DDL) seen since the last batch left, handed to the next one. */
  private takeSchemaChanges(): { schemaChanges?: readonly TableSchema[]; ddl?: readonly SourceDdl[] } {
    return {
      ...(this.schemaChanges.length ? { schemaChanges: this.schemaChanges.splice(0) } : {}),
      ...(this.ddl.length ? { ddl: this.ddl.splice(0) } : {}),
    };
  }

  private change(tx: OpenTx, b: Bound, m: Extract<PgOutputMessage, { tag: 'insert' | 'update' | 'delete' }>): void {
    // One source record per transaction, one table reference per table: shared by its events.
    const source = (tx.source ??= { connector: this.name, position: formatLsn(tx.commitLsn), txId: String(tx.xid), commitTs: tx.commitTs });
    const table = b.ref;
    const from = tx.events.length;
    this.change1(tx, b, m, source, table);
    for (const w of this.windows) {
      if (w.window.table !== b.table && qualifiedName(w.window.table) !== qualifiedName(b.table)) continue;
      for (let i = from; i < tx.events.length; i++) w.window.noteChange(tx.xid, tx.events[i]!.key);
    }
  }

  private change1(
    tx: OpenTx,
    b: Bound,
    m: Extract<PgOutputMessage, { tag: 'insert' | 'update' | 'delete' }>,
    source: ChangeEvent['source'],
    table: ChangeEvent['table'],
  ): void {
    if (m.tag === 'delete') {
      tx.events.push({ table, op: 'd', key: this.keyFrom(b, m.old), source, version: changeVersion(tx.commitLsn, tx.seq++) });
      return;
    }
    const { row, missing } = this.rowFrom(b, m.row);
    const key = keyOf(b.table, row);
    if (m.tag === 'update' && m.old) {
      const oldKey = this.keyFrom(b, m.old);
      // A changed primary key: the old row goes, the new one comes (two keys, two events).
      if (!sameKey(b.table, oldKey, key))
        tx.events.push({ table, op: 'd', key: oldKey, source, version: changeVersion(tx.commitLsn, tx.seq++) });
    }
    if (missing.length) tx.toast.push({ index: tx.events.length, missing });
    tx.events.push({ table, op: m.tag === 'insert' ? 'c' : 'u', key, after: row, source, version: changeVersion(tx.commitLsn, tx.seq++) });
  }

  /**
   * A TRUNCATE of replicated tables: refused (the stream stops there, nothing after it applied)
   * or, with source.truncate: apply, a batch that empties their targets at the TRUNCATE's version.
   */
  private truncateBatch(tx: OpenTx, oids: readonly number[]): ChangeBatch | undefined {
    const tables = oids
      .map((oid) => this.relations.get(oid))
      .filter((b): b is Bound => !!b)
      .map((b) => b.table);
    if (tables.length === 0) return undefined;
    const names = tables.map(qualifiedName);
    if (this.o.truncate !== 'apply') {
      throw new SluiceError(
        'SLUICE_ERR_SOURCE',
        `TRUNCATE of ${names.join(', ')} at ${formatLsn(tx.commitLsn)}: refused (source.truncate is refuse); nothing after it is captured. Set source.truncate: apply to empty the target table(s) too, or empty them yourself and re-snapshot`,
        { context: { table: names[0], configPath: 'source.truncate' } },
      );
    }
    this.o.log.warn({ tables: names, at: formatLsn(tx.commitLsn) }, 'TRUNCATE at the source: the target table(s) are emptied');
    const version = changeVersion(tx.commitLsn, tx.seq++);
    return { events: [], position: `${formatLsn(tx.commitLsn)}~${tx.seq}`, truncate: { tables, version } };
  }

  /** The stream has received every transaction committed before `lsn`: chunks whose watermark that passes are due. */
  private passed(lsn: Lsn): void {
    if (lsn > this.receivedThrough) this.receivedThrough = lsn;
    for (let i = 0; i < this.windows.length; i++) {
      const w = this.windows[i]!;
      if (!w.window.ready || w.window.high! > this.receivedThrough) continue;
      this.windows.splice(i--, 1);
      this.queue.push(w);
      this.signal();
    }
  }

  private windowBatch(due: WindowDue): ChangeBatch {
    const t = due.window.table;
    const events = due.window.events(this.name, t.schema ? { schema: t.schema, name: t.name } : { name: t.name });
    const position = `${formatLsn(this.durable)}#incremental:${qualifiedName(t)}:${due.window.high!.toString(16)}`;
    this.outstanding = { position, onAck: due.done };
    return { events, position };
  }

  /** Runs the incremental snapshots requested in the state store, one table at a time, chunk by chunk. */
  private pollIncremental(): void {
    if (this.incremental || this.stopped || !this.stream) return;
    this.incremental = (async () => {
      for (const req of await this.requests.list()) {
        if (this.stopped) return;
        if (req.state === 'done' || req.state === 'cancelled' || req.state === 'paused') continue;
        const table = this.byName.get(req.table.includes('.') ? req.table : `public.${req.table}`);
        if (!table) {
          this.o.log.warn({ table: req.table }, 'incremental snapshot of a table this pipeline does not replicate: ignored');
          await this.o.progress.put(`incremental:${req.table}`, { from: '', rows: req.rows, done: true });
          continue;
        }
        const item = `incremental:${req.table}`;
        await this.runIncremental(item, req.table, table, (await this.o.progress.get(item))!);
      }
    })()
      .catch((err: Error) =>
        this.o.log.error({ err: err.message }, 'incremental snapshot failed; it resumes from its last chunk at the next poll'),
      )
      .finally(() => {
        this.incremental = undefined;
      });
  }

  private async runIncremental(item: string, name: string, table: TableSchema, start: SnapshotProgress): Promise<void> {
    let p = start;
    this.o.log.info(
      { table: qualifiedName(table), where: p.where, after: p.after, rows: p.rows },
      p.rows ? 'incremental snapshot resumes' : 'incremental snapshot starts',
    );
    while (!p.done && !this.stopped) {
      // A pause or cancel takes effect between chunks: the chunk in flight is finished first.
      const control = await this.requests.controlOf(name);
      if (control === 'pause') {
        this.o.log.info({ table: qualifiedName(table), rows: p.rows }, 'incremental snapshot paused');
        return;
      }
      if (control === 'cancel') {
        await this.requests.cancelled(name, p);
        this.o.log.info({ table: qualifiedName(table), rows: p.rows }, 'incremental snapshot cancelled');
        return;
      }
      const window = new Window(table);
      let acked!: () => void;
      const durable = new Promise<void>((r) => (acked = r));
      const entry = { window, done: async () => {} };
      this.windows.push(entry);
      let r: Awaited<ReturnType<typeof readWatermarkedChunk>>;
      try {
        r = await readWatermarkedChunk(this.o.pool, table, p.where, p.after, this.o.snapshotChunkRows);
      } catch (err) {
        // The window would note changes for ever: closed before the failure is reported.
        this.windows.splice(this.windows.indexOf(entry), 1);
        throw err;
      }
      const last = r.rows[r.rows.length - 1];
      const next: SnapshotProgress = {
        ...p,
        ...(last ? { after: keyTextOf(table, last) } : {}),
        rows: p.rows + r.rows.length,
        done: r.rows.length < this.o.snapshotChunkRows,
      };
      entry.done = async () => {
        await this.o.progress.put(item, next);
        acked();
      };
      window.fill(r);
      // The stream may already be past the watermark (an idle source); otherwise ask for its position.
      if (!this.tx && this.receivedThrough >= r.high) this.passed(this.receivedThrough);
      else this.stream?.confirm(this.durable, true);
      await durable;
      p = next;
    }
    if (p.done) this.o.log.info({ table: qualifiedName(table), rows: p.rows }, 'incremental snapshot finished');
  }

  private rowFrom(b: Bound, values: TupleValue[]): { row: Row; missing: string[] } {
    const row: Row = {};
    const missing: string[] = [];
    for (let i = 0; i < b.columns.length; i++) {
      const c = b.columns[i]!;
      const v = values[i];
      if (v === UNCHANGED) {
        missing.push(c.name);
        row[c.name] = null;
      } else row[c.name] = v === null || v === undefined ? null : c.parse(v);
    }
    return { row, missing };
  }

  private keyFrom(b: Bound, values: TupleValue[]): Row {
    const key: Row = {};
    for (let i = 0; i < b.columns.length; i++) {
      const c = b.columns[i]!;
      if (!c.key) continue;
      const v = values[i];
      if (v === UNCHANGED || v === null || v === undefined)
        throw new SluiceError('SLUICE_ERR_SOURCE', `table ${qualifiedName(b.table)}: the old row image lacks key column ${c.name}`, {
          context: { table: qualifiedName(b.table), field: c.name },
        });
      key[c.name] = c.parse(v);
    }
    return key;
  }

  /**
   * A finished transaction (or a chunk of an oversized one) joins the queue. Small transactions
   * share a batch when `transactions: batch`; a batch that ends at a commit carries that commit's
   * end LSN as the position to confirm once it is durable.
   */
  private enqueue(tx: OpenTx, endLsn: Lsn | undefined, complete: boolean): void {
    if (tx.events.length === 0) {
      // Nothing of ours in it: its end is durable as soon as everything before it is.
      const tail = this.queue[this.queue.length - 1];
      if (endLsn === undefined) return;
      if (tail && 'batch' in tail && tail.durable !== undefined) {
        tail.durable = endLsn;
        tail.batch = { ...tail.batch, position: formatLsn(endLsn) };
        return;
      }
      if (!tail && !this.outstanding) {
        if (endLsn > this.durable) this.durable = endLsn;
        return;
      }
    }
    const position = endLsn !== undefined ? formatLsn(endLsn) : `${formatLsn(tx.commitLsn)}~${tx.seq}`;
    const tail = this.queue[this.queue.length - 1];
    const last = tail && 'batch' in tail ? tail : undefined;
    const join =
      complete &&
      this.o.transactions === 'batch' &&
      last &&
      last.durable !== undefined &&
      last.batch.events.length + tx.events.length <= this.o.batchSize;
    if (join) {
      const base = last.batch.events.length;
      last.batch = { events: [...last.batch.events, ...tx.events], position, ...mergeSchemaChanges(last.batch, this.takeSchemaChanges()) };
      last.toast.push(...tx.toast.map((t) => ({ ...t, index: t.index + base })));
      last.durable = endLsn;
    } else if (tx.events.length > 0 || endLsn !== undefined) {
      this.queue.push({
        batch: {
          events: tx.events,
          position,
          ...(complete && this.o.transactions === 'whole' ? { atomic: true } : {}),
          ...this.takeSchemaChanges(),
        },
        toast: tx.toast,
        ...(endLsn !== undefined ? { durable: endLsn } : {}),
      });
    }
    this.queuedEvents += tx.events.length;
    this.backlog = this.queuedEvents;
    if (this.queuedEvents >= 2 * Math.max(this.o.batchSize, 1) && !this.paused) {
      this.paused = true;
      this.stream?.pause();
    }
    this.signal();
  }

  /** Unchanged TOASTed values were not sent: read them from the source's current row (a key gone since is deleted later in the stream, so its update is dropped). */
  private async fillToast(q: Queued): Promise<void> {
    const events = q.batch.events as ChangeEvent[];
    const drop = new Set<number>();
    const byTable = new Map<TableSchema, Array<{ index: number; missing: string[] }>>();
    for (const t of q.toast) {
      const table = this.byName.get(`${events[t.index]!.table.schema ?? 'public'}.${events[t.index]!.table.name}`)!;
      byTable.set(table, [...(byTable.get(table) ?? []), t]);
    }
    for (const [table, items] of byTable) {
      const rows = await readRowsPostgres(
        this.o.pool,
        table,
        items.map((i) => events[i.index]!.key),
      );
      const current = new Map(rows.map((r) => [JSON.stringify(keyTextOf(table, r)), r]));
      for (const i of items) {
        const e = events[i.index]!;
        const now = current.get(JSON.stringify(keyTextOf(table, e.key)));
        if (!now) {
          drop.add(i.index);
          continue;
        }
        const after = { ...e.after! };
        for (const c of i.missing) after[c] = now[c] ?? null;
        events[i.index] = { ...e, after };
      }
    }
    if (drop.size) q.batch = { ...q.batch, events: events.filter((_, i) => !drop.has(i)) };
    q.toast = [];
  }

  /** A read of the source's tables, retried while the server is unreachable (restarting). */
  private withSource<T>(read: () => Promise<T>): Promise<T> {
    return retry(read, {
      retries: Number.MAX_SAFE_INTEGER,
      initialMs: 500,
      maxMs: 10_000,
      isRetriable: passesByItself,
      signal: this.stopping.signal,
    });
  }

  private resume(): void {
    this.paused = false;
    this.stream?.resume();
  }

  /** `from` is the connection that ended with `err`; a loss of the current connection is retried by reconnecting, anything else ends the source. */
  private fail(err: Error, from?: object): void {
    if (from !== undefined && from !== this.connection) return;
    const fromConnection = from !== undefined && err instanceof SluiceError && err.retriable;
    if (!this.failure || (this.failure.fromConnection && !fromConnection)) this.failure = { err, fromConnection };
    this.signal();
  }

  private signal(): void {
    this.wake?.();
  }
}

function mergeSchemaChanges(
  a: ChangeBatch,
  b: { schemaChanges?: readonly TableSchema[]; ddl?: readonly SourceDdl[] },
): { schemaChanges?: readonly TableSchema[]; ddl?: readonly SourceDdl[] } {
  const all = [...(a.schemaChanges ?? []), ...(b.schemaChanges ?? [])];
  const ddl = [...(a.ddl ?? []), ...(b.ddl ?? [])];
  return { ...(all.length ? { schemaChanges: all } : {}), ...(ddl.length ? { ddl } : {}) };
}

function ref(t: TableSchema): ChangeEvent['table'] {
  return t.schema ? { schema: t.schema, name: t.name } : { name: t.name };
}

function keyOf(t: TableSchema, row: Row): Row {
  const key: Row = {};
  for (const k of t.primaryKey) key[k] = row[k] ?? null;
  return key;
}

function sameKey(t: TableSchema, a: Row, b: Row): boolean {
  return t.primaryKey.every((k) => {
    const x = a[k];
    const y = b[k];
    return Buffer.isBuffer(x) && Buffer.isBuffer(y) ? x.equals(y) : x === y;
  });
}
