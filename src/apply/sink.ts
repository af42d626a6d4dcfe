/**
 * The sink engine, the same for every dialect: binds source tables to target tables, plans a
 * batch, and runs it in one target transaction together with its checkpoint. The dialect
 * (dialects/) builds the SQL and encodes values; the driver (drivers/) runs transactions, COPY
 * streams and prepared statements; plan.ts decides how each table's changes are loaded and
 * execute.ts loads them.
 *
 * A batch, in stream order:
 *   - an event of a key with an open or parked dead letter is parked (stored behind it);
 *   - an event that cannot be applied as it is (bad key, incomplete row image, a value that does
 *     not fit its column) is dead-lettered and its key parked for the rest of the batch;
 *   - the others collapse per key to the newest version (a row image is complete, so the newest
 *     is the row's state); the older ones count as skipped;
 *   - the newest of each key is loaded under the version guard (skipped when the target already
 *     has that version or a newer one, tombstones included), in the sink's key order.
 * A poison failure inside the database (constraint, range, trigger) rolls the transaction back
 * and the batch runs again, this time in halves under savepoints until each poison event is
 * alone: it is dead-lettered, the rest applies, and nothing is applied twice (one transaction).
 * A transient failure rolls back and throws a retriable SluiceError; anything else throws a
 * non-retriable one. Either way the checkpoint moved only if the batch committed.
 */
import { channel } from 'node:diagnostics_channel';
import { OPS, type ChangeEvent, type TableRef } from '../core/change-event.js';
import type { ApplyResult, Sink } from '../core/contracts.js';
import { SluiceError } from '../core/errors.js';
import { qualifiedName, type Row, type TableSchema } from '../core/table-schema.js';
import { ValueError } from '../core/portable-values.js';
import type { DeadLetters, DeadLetterDetail, DeadLetterSummary, DrainResult, ListDeadLettersOptions } from './dead-letters.js';
import type { Change, DeadLetterInsert, DeadLetterRow, Query, SinkDialect, TableBinding } from './dialects/types.js';
import type { TargetConnection, TargetTx } from './drivers/types.js';
import { LoadExecutor, fits, type OnBadValue } from './execute.js';
import { NewKeysPolicy } from './new-keys.js';
import { newKeysCandidate, plan, type Load } from './plan.js';
import { batchError, errorCodeOf, errorMessageOf } from './errors.js';
import { eventFromJson, eventToJson } from './event-json.js';
import { keyOrder, keyTexter } from './key-text.js';
import { checkTargetTable } from './table-check.js';
import { columnDdl } from './column-ddl.js';
import { qualifiedMysql, qualifiedPg, quoteMysql, quotePg } from '../metadata/index.js';

export type TableResolver = (source: TableRef) => TableRef;

export interface SqlSinkOptions {
  /** Source tables whose events this sink applies (more can be added with prepare()). */
  readonly tables?: readonly TableSchema[];
  /** Maps a source table to its target table (default: the same schema and name). */
  readonly resolveTable?: TableResolver;
  /** evolve() adds a source's new columns to the target table (config: target.evolve). */
  readonly evolve?: boolean;
}

/**
 * Published on `sluice:apply:batch` after every committed batch; `sluice:apply:dead-letter`
 * carries each event dead-lettered by it ({ table, keyText, version, errorCode, errorMessage }).
 */
export interface ApplyBatchMessage extends ApplyResult {
  readonly dialect: string;
  readonly events: number;
  readonly ms: number;
  /** The batch ran a second time, isolating poison events. */
  readonly isolated: boolean;
}

const batchChannel = channel('sluice:apply:batch');
const deadLetterChannel = channel('sluice:apply:dead-letter');

/** An event resolved against its binding: the very Change loaded, unless it has a problem. */
interface PlanItem extends Change {
  /** Why the event cannot be applied as it is. */
  readonly problem?: string;
}

const SEP = '\u0000';
const VERSION_LIMIT = 2n ** 63n;
/** The savepoint each poison-isolating step runs under. */
const ISOLATE = 'sluice_isolate';

/** Key texts written from the source's row and deleted (no source row), by SqlSink.repair. */
export interface RepairResult {
  readonly upserted: readonly string[];
  readonly deleted: readonly string[];
}

export class SqlSink implements Sink {
  readonly deadLetters: DeadLetters;
  private readonly dialect: SinkDialect;
  private readonly conn: TargetConnection;
  /** Reads outside a transaction. */
  private readonly reader: Query;
  private readonly newKeys = new NewKeysPolicy();
  private readonly evolveTarget: boolean;
  private readonly resolve: TableResolver;
  private readonly bySource = new Map<string, TableBinding>();
  private readonly byName = new Map<string, TableBinding[]>();
  private readonly byTarget = new Map<string, TableBinding>();
  private ready: Promise<void> | undefined;
  private nextId = 1;
  /** Tables given but not bound yet (bound by the next prepare(), apply() or checkpoint()). */
  private pendingTables: TableSchema[];

  constructor(dialect: SinkDialect, conn: TargetConnection, opts: SqlSinkOptions = {}) {
    this.dialect = dialect;
    this.conn = conn;
    this.reader = { query: (sql, params) => conn.read(sql, params) };
    this.resolve = opts.resolveTable ?? ((t) => ({ ...(t.schema ? { schema: t.schema } : {}), name: t.name }));
    this.evolveTarget = opts.evolve ?? false;
    const initial = opts.tables ?? [];
    this.deadLetters = {
      list: (o) => this.listDeadLetters(o),
      show: (id) => this.showDeadLetter(id),
      replay: (id) => this.replay(id),
      skip: (id) => this.skip(id),
    };
    this.pendingTables = [...initial];
  }

  /** Creates the state tables and binds every table given so far to its target (introspected). */
  async prepare(tables: readonly TableSchema[] = []): Promise<void> {
    this.pendingTables.push(...tables);
    await this.ensureReady();
  }

  private ensureReady(): Promise<void> {
    if (this.pendingTables.length === 0 && this.ready) return this.ready;
    const tables = this.pendingTables.splice(0);
    const prev = this.ready ?? this.conn.transaction((tx) => this.dialect.state.ensure(tx));
    const next = prev.then(async () => {
      for (const t of tables) await this.bind(t);
    });
    // A failed preparation is tried again on the next call rather than cached.
    this.ready = next.catch((err: unknown) => {
      this.ready = undefined;
      this.pendingTables.unshift(...tables.filter((t) => !this.bySource.has(qualifiedName(t))));
      // A driver error (the target unreachable) becomes a SluiceError the retry helper understands.
      throw batchError(err, this.dialect.classify(err), 'Preparing the sink (state tables, target tables)');
    });
    return this.ready;
  }

  private async bind(source: TableSchema): Promise<void> {
    const sourceName = qualifiedName(source);
    if (this.bySource.has(sourceName)) return;
    if (source.primaryKey.length === 0) {
      throw new SluiceError('SLUICE_ERR_SCHEMA_INVALID', `Table ${sourceName} has no key columns: sluice applies changes by key`, {
        context: { table: sourceName },
      });
    }
    const ref = this.resolve({ ...(source.schema ? { schema: source.schema } : {}), name: source.name });
    const target = await this.conn.introspect(ref, source.primaryKey);
    const targetName = qualifiedName(target);
    checkTargetTable(source, target);
    const keyColumns = source.primaryKey.map((k) => {
      const c = source.columns.find((x) => x.name === k);
      if (!c)
        throw new SluiceError('SLUICE_ERR_SCHEMA_INVALID', `Key column "${k}" is not a column of ${sourceName}`, {
          context: { table: sourceName, field: k },
        });
      return c;
    });
    const binding: TableBinding = {
      source,
      target,
      targetName,
      columns: source.columns,
      keyColumns,
      keyText: keyTexter(source),
      compareKeys: keyOrder(source),
      id: this.nextId++,
    };
    if (this.byTarget.has(targetName)) {
      throw new SluiceError(
        'SLUICE_ERR_CONFIG',
        `Source tables ${qualifiedName(this.byTarget.get(targetName)!.source)} and ${sourceName} both map to target table ${targetName}`,
        { context: { table: targetName } },
      );
    }
    const ensureTable = this.dialect.state.ensureTable;
    if (ensureTable) await this.conn.transaction((tx) => ensureTable(tx, targetName));
    this.bySource.set(sourceName, binding);
    this.byTarget.set(targetName, binding);
    const list = this.byName.get(source.name) ?? [];
    list.push(binding);
    this.byName.set(source.name, list);
  }

  /**
   * A source table changed shape while the pipeline runs (log capture saw new or dropped columns):
   * rebind it. Columns the target lacks are added first when the sink was created with
   * `evolve` (nullable: rows applied before the change have no value for them); without it the
   * binding stays as it was and the table's changes carrying the new column are dead-lettered,
   * each naming the column, while other tables keep flowing.
   */
  async evolve(source: TableSchema): Promise<boolean> {
    await this.ensureReady();
    const old = this.bySource.get(qualifiedName(source));
    if (!old) return false;
    const missing = source.columns.filter((c) => !old.target.columns.some((t) => t.name === c.name));
    if (missing.length > 0) {
      if (!this.evolveTarget) return false;
      const mysql = this.dialect.dialect === 'mysql';
      const table = mysql ? qualifiedMysql(old.target) : qualifiedPg(old.target);
      const adds = missing.map(
        (c) =>
          `ADD COLUMN ${mysql ? quoteMysql(c.name) : `IF NOT EXISTS ${quotePg(c.name)}`} ${columnDdl(c.type, this.dialect.dialect)} NULL`,
      );
      await this.conn.transaction((tx) => tx.query(`ALTER TABLE ${table} ${adds.join(', ')}`));
    }
    this.bySource.delete(qualifiedName(source));
    this.byTarget.delete(old.targetName);
    this.byName.set(
      source.name,
      (this.byName.get(source.name) ?? []).filter((b) => b !== old),
    );
    await this.bind(source);
    return true;
  }

  /**
   * A source TRUNCATE: empties the table's target in one transaction, its keys' versions kept as
   * tombstones at `version` so a replayed older change cannot bring a row back.
   */
  async truncate(source: TableSchema, version: bigint): Promise<void> {
    await this.ensureReady();
    const binding = this.bindingFor(source);
    if (!binding)
      throw new SluiceError('SLUICE_ERR_CONFIG', `No table is configured for ${qualifiedName(source)}`, {
        context: { table: qualifiedName(source) },
      });
    await this.conn.transaction((tx) => this.dialect.state.truncateTable(tx, binding, version));
  }

  /** The target table a source table is applied to, as introspected (after prepare()). */
  targetOf(table: TableRef): TableSchema | undefined {
    return this.bindingFor(table)?.target;
  }

  private bindingFor(table: TableRef): TableBinding | undefined {
    const exact = this.bySource.get(qualifiedName(table));
    if (exact) return exact;
    const named = this.byName.get(table.name);
    return named?.length === 1 && (!table.schema || !named[0]!.source.schema) ? named[0] : undefined;
  }

  // --- planning (pure) ----------------------------------------------------------------------------

  private planItem(event: ChangeEvent): PlanItem {
    const binding = this.bindingFor(event.table);
    if (!binding) {
      throw new SluiceError('SLUICE_ERR_CONFIG', `No table is configured for events of ${qualifiedName(event.table)}`, {
        context: { table: qualifiedName(event.table) },
      });
    }
    let version: bigint;
    if (typeof event.version === 'bigint') version = event.version;
    else if (typeof event.version === 'number' && Number.isSafeInteger(event.version)) version = BigInt(event.version);
    else version = -1n;
    const deleted = event.op === 'd';
    let keyText: string;
    try {
      keyText = binding.keyText(event.key ?? {});
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      return {
        event,
        binding,
        version,
        keyText: `invalid:${safeJson(event.key)}`.slice(0, this.dialect.maxKeyTextLength),
        deleted,
        problem: err.message,
      };
    }
    const problem = this.problemOf(event, binding, keyText, version);
    return problem ? { event, binding, keyText, version, deleted, problem } : { event, binding, keyText, version, deleted };
  }

  private problemOf(event: ChangeEvent, b: TableBinding, keyText: string, version: bigint): string | undefined {
    if (!OPS.includes(event.op)) return `unknown op ${JSON.stringify(event.op)}`;
    if (version < 0n || version >= VERSION_LIMIT) return `version ${String(event.version)} is not a bigint from 0 to 2^63-1`;
    if (keyText.length > this.dialect.maxKeyTextLength)
      return `key text is ${keyText.length} characters, the state tables hold ${this.dialect.maxKeyTextLength}`;
    if (event.op === 'd') return undefined;
    const after = event.after;
    if (!after || typeof after !== 'object') return `a "${event.op}" event needs the row image (after)`;
    for (const c of b.columns) if (!(c.name in after)) return `the row image lacks column "${c.name}"`;
    if (Object.keys(after).length !== b.columns.length) {
      const extra = Object.keys(after).filter((k) => !b.columns.some((c) => c.name === k));
      return `the row image has column${extra.length > 1 ? 's' : ''} ${extra.map((e) => `"${e}"`).join(', ')} that table ${b.targetName} is not configured with`;
    }
    // The same key values give the same key text: only a row image whose key values are not the
    // very same (another spelling, another type) needs its own text to compare.
    const key = event.key as Row | undefined;
    if (key && b.keyColumns.every((c) => key[c.name] === after[c.name])) return undefined;
    try {
      if (b.keyText(after) !== keyText) return "the row image's key differs from the event's key";
    } catch (err) {
      if (err instanceof ValueError) return `row image: ${err.message}`;
      throw err;
    }
    return undefined;
  }

  private deadLetter(
    item: { event: ChangeEvent; binding: TableBinding; keyText: string; version: bigint },
    status: 'open' | 'parked',
    error?: { code: string; message: string },
  ): DeadLetterInsert {
    return {
      tableName: item.binding.targetName,
      keyText: item.keyText,
      version: item.version < 0n ? 0n : item.version,
      eventJson: eventToJson(item.event),
      errorCode: error?.code ?? null,
      errorMessage: error?.message ?? null,
      status,
    };
  }

  // --- apply --------------------------------------------------------------------------------------

  async apply(events: readonly ChangeEvent[], checkpoint?: { name: string; position: string }): Promise<ApplyResult> {
    const started = performance.now();
    await this.ensureReady();
    const items = events.map((e) => this.planItem(e));
    const what = `Applying a batch of ${events.length} event${events.length === 1 ? '' : 's'}`;
    let isolated = false;
    let outcome: { result: ApplyResult; dls: DeadLetterInsert[] };
    // The dead-letter check opens the transaction (sent with its BEGIN where the driver can).
    const opening = items.length > 0 ? this.dialect.state.anyBlocked : undefined;
    try {
      outcome = await this.conn.transaction((tx, opened) => this.run(tx, opened, items, checkpoint, false), opening);
    } catch (err) {
      const cls = this.dialect.classify(err);
      if (cls !== 'poison') throw batchError(err, cls, what);
      isolated = true;
      try {
        outcome = await this.conn.transaction((tx, opened) => this.run(tx, opened, items, checkpoint, true), opening);
      } catch (err2) {
        throw batchError(err2, this.dialect.classify(err2), what);
      }
    }
    // Published once committed (a rolled-back attempt published nothing).
    if (deadLetterChannel.hasSubscribers) {
      for (const d of outcome.dls)
        if (d.status === 'open')
          deadLetterChannel.publish({
            table: d.tableName,
            keyText: d.keyText,
            version: d.version,
            errorCode: d.errorCode,
            errorMessage: d.errorMessage,
          });
    }
    if (batchChannel.hasSubscribers) {
      batchChannel.publish({
        ...outcome.result,
        dialect: this.dialect.dialect,
        events: events.length,
        ms: performance.now() - started,
        isolated,
      } satisfies ApplyBatchMessage);
    }
    return outcome.result;
  }

  /**
   * The batch's changes per table, at most one per key (its newest), given the keys parked behind a
   * dead letter (table + SEP + key text → the newest version stored for them): a change of such a
   * key is parked too, and an event with a problem is dead-lettered and blocks its key.
   */
  private group(
    items: readonly PlanItem[],
    blocked: Map<string, bigint>,
  ): { perTable: Map<TableBinding, Change[]>; dls: DeadLetterInsert[]; skipped: number; deadLettered: number } {
    const dls: DeadLetterInsert[] = [];
    let skipped = 0;
    let deadLettered = 0;
    // Per table, so the common case (nothing blocked) makes no "table + key" string per change.
    const newest = new Map<TableBinding, Map<string, PlanItem>>();
    for (const item of items) {
      const k = blocked.size > 0 || item.problem !== undefined ? item.binding.targetName + SEP + item.keyText : '';
      const stored = blocked.size > 0 ? blocked.get(k) : undefined;
      if (stored !== undefined) {
        if (item.version > stored) {
          dls.push(this.deadLetter(item, 'parked'));
          blocked.set(k, item.version);
          deadLettered++;
        } else {
          // Already stored behind the dead letter (a replayed batch), or older than what is: the
          // guard would skip it when the key is released, so it is not stored twice.
          skipped++;
        }
      } else if (item.problem !== undefined) {
        dls.push(this.deadLetter(item, 'open', { code: 'SLUICE_INVALID_EVENT', message: item.problem }));
        blocked.set(k, item.version);
        deadLettered++;
      } else {
        let byKey = newest.get(item.binding);
        if (!byKey) newest.set(item.binding, (byKey = new Map()));
        const prev = byKey.get(item.keyText);
        if (prev === undefined) byKey.set(item.keyText, item);
        else {
          skipped++; // superseded within the batch (or an equal-version duplicate)
          if (item.version > prev.version) byKey.set(item.keyText, item);
        }
      }
    }
    const perTable = new Map<TableBinding, Change[]>();
    for (const [binding, byKey] of newest) perTable.set(binding, [...byKey.values()]);
    return { perTable, dls, skipped, deadLettered };
  }

  private async run(
    tx: TargetTx,
    opened: ReadonlyArray<Record<string, unknown>>,
    items: readonly PlanItem[],
    checkpoint: { name: string; position: string } | undefined,
    careful: boolean,
  ): Promise<{ result: ApplyResult; dls: DeadLetterInsert[] }> {
    let blocked = new Map<string, bigint>();
    const any = opened[0]?.any;
    if (any === true || Number(any) === 1) {
      const keys = new Map<string, string[]>();
      for (const i of items) {
        const list = keys.get(i.binding.targetName);
        if (list) list.push(i.keyText);
        else keys.set(i.binding.targetName, [i.keyText]);
      }
      const found = await this.dialect.state.blockedKeys(tx, keys);
      blocked = new Map(found.map((r) => [r.tableName + SEP + r.keyText, r.maxVersion]));
    }
    const { perTable, dls, ...counts } = this.group(items, blocked);
    let { skipped, deadLettered } = counts;
    let applied = 0;
    // A change whose value does not fit its column is poison for that event alone: dead-lettered,
    // its rows never sent.
    let bad = 0;
    const onBad: OnBadValue = (change, err) => {
      dls.push(this.deadLetter(change, 'open', { code: errorCodeOf(err), message: err.message }));
      deadLettered++;
      bad++;
    };
    const executor = new LoadExecutor(tx, this.dialect, this.newKeys);
    for (const [binding, all] of perTable) {
      // One lock order for every sink: concurrent batches touching the same keys queue instead of
      // deadlocking on each other's version rows.
      all.sort((a, b) => binding.compareKeys(a.keyText, b.keyText));
      if (careful) {
        const changes = all.filter((c) => fits(this.dialect, c, onBad));
        const r = await this.isolate(tx, executor, binding, changes, dls);
        applied += r.applied;
        deadLettered += r.poisoned;
        skipped += changes.length - r.applied - r.poisoned;
        continue;
      }
      const before = bad;
      const n = await executor.run(this.plan(tx, binding, all, true), onBad);
      applied += n;
      skipped += all.length - n - (bad - before);
    }
    if (dls.length > 0) await this.dialect.state.insertDeadLetters(tx, dls);
    if (checkpoint) await this.dialect.state.writeCheckpoint(tx, checkpoint.name, checkpoint.position);
    return { result: { applied, skipped, deadLettered }, dls };
  }

  /** How a table's changes are loaded; `newKeys`: whether a new-keys attempt may be made (the back-off asked only then). */
  private plan(tx: TargetTx, binding: TableBinding, changes: readonly Change[], newKeys: boolean): Load {
    const caps = this.dialect.loads;
    const attempt = newKeys && newKeysCandidate(changes, caps) && this.newKeys.shouldTry(tx, binding);
    return plan(binding, changes, caps, { newKeys: attempt });
  }

  /** Applies `changes` (all known to encode) under a savepoint, splitting in halves around poison events. */
  private async isolate(
    tx: TargetTx,
    executor: LoadExecutor,
    binding: TableBinding,
    changes: readonly Change[],
    dls: DeadLetterInsert[],
  ): Promise<{ applied: number; poisoned: number }> {
    if (changes.length === 0) return { applied: 0, poisoned: 0 };
    await tx.savepoint(ISOLATE);
    try {
      const applied = await executor.run(this.plan(tx, binding, changes, false), rethrow);
      await tx.release(ISOLATE);
      return { applied, poisoned: 0 };
    } catch (err) {
      if (this.dialect.classify(err) !== 'poison') throw err;
      await tx.rollbackTo(ISOLATE);
      if (changes.length === 1) {
        const c = changes[0]!;
        dls.push(this.deadLetter(c, 'open', { code: errorCodeOf(err), message: errorMessageOf(err) }));
        return { applied: 0, poisoned: 1 };
      }
      const mid = changes.length >> 1;
      const a = await this.isolate(tx, executor, binding, changes.slice(0, mid), dls);
      const b = await this.isolate(tx, executor, binding, changes.slice(mid), dls);
      return { applied: a.applied + b.applied, poisoned: a.poisoned + b.poisoned };
    }
  }

  /**
   * Repair (reconcile): sets the rows of these keys to the source's current values, or deletes
   * them where the source has none, without ever overwriting a newer replicated change.
   *
   * In one transaction: lock the keys' version rows (apply waits on them), then read the source
   * (`readSource`, after the lock: whatever replication applied before it is at least as old as
   * what is read), then write through the dialect's guarded statement while keeping each key's
   * stored version. A replicated change applied later carries a newer version than the stored one
   * and still applies after the repair; an older one is skipped as before.
   */
  async repair(
    table: TableRef,
    keys: readonly Row[],
    readSource: (keys: readonly Row[]) => Promise<readonly Row[]>,
  ): Promise<RepairResult> {
    await this.ensureReady();
    const binding = this.bindingFor(table);
    if (!binding)
      throw new SluiceError('SLUICE_ERR_CONFIG', `No table is configured for ${qualifiedName(table)}`, {
        context: { table: qualifiedName(table) },
      });
    const byText = new Map<string, Row>();
    for (const k of keys) byText.set(binding.keyText(k), k);
    const texts = [...byText.keys()].sort(binding.compareKeys);
    if (texts.length === 0) return { upserted: [], deleted: [] };
    return this.inTransaction(`Repairing ${texts.length} row${texts.length === 1 ? '' : 's'} of ${binding.targetName}`, async (tx) => {
      const stored = await this.dialect.state.lockVersions(tx, binding.targetName, texts);
      const current = new Map<string, Row>();
      for (const row of await readSource(texts.map((t) => byText.get(t)!))) current.set(binding.keyText(row), row);
      const changes: Change[] = texts.map((keyText) => {
        const row = current.get(keyText);
        const version = stored.get(keyText) ?? -1n;
        const event: ChangeEvent = {
          table: binding.source,
          op: row ? 'u' : 'd',
          key: byText.get(keyText)!,
          ...(row ? { after: row } : {}),
          source: { connector: 'reconcile', position: '0' },
          version,
        };
        const change: Change = { event, binding, keyText, version, deleted: !row };
        return change;
      });
      // One below the stored version, so the guarded write passes and puts the stored one back.
      await this.dialect.state.setVersions(tx, binding.targetName, texts, -2n);
      await new LoadExecutor(tx, this.dialect, this.newKeys).run(this.plan(tx, binding, changes, false), rethrow);
      return {
        upserted: changes.filter((c) => !c.deleted).map((c) => c.keyText),
        deleted: changes.filter((c) => c.deleted).map((c) => c.keyText),
      };
    });
  }

  async checkpoint(name: string): Promise<string | undefined> {
    await this.ensureReady();
    try {
      return await this.dialect.state.readCheckpoint(this.reader, name);
    } catch (err) {
      throw batchError(err, this.dialect.classify(err), `Reading checkpoint ${name}`);
    }
  }

  async close(): Promise<void> {
    await this.conn.close();
  }

  // --- dead letters -------------------------------------------------------------------------------

  private tableFilter(table: string | undefined): string | undefined {
    if (table === undefined) return undefined;
    if (this.byTarget.has(table)) return table;
    const b = this.bySource.get(table) ?? (this.byName.get(table)?.length === 1 ? this.byName.get(table)![0] : undefined);
    return b ? b.targetName : table;
  }

  private summary(r: DeadLetterRow): DeadLetterSummary {
    return {
      id: r.id,
      table: r.tableName,
      keyText: r.keyText,
      version: r.version,
      status: r.status,
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
      attempts: r.attempts,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      parked: r.parked,
    };
  }

  private decode(r: DeadLetterRow): ChangeEvent {
    return eventFromJson(r.eventJson, (t) => this.bindingFor(t)?.source);
  }

  private async listDeadLetters(o: ListDeadLettersOptions = {}): Promise<DeadLetterSummary[]> {
    await this.ensureReady();
    const status = o.status === 'all' ? undefined : (o.status ?? 'open');
    const rows = await this.dialect.state.listDeadLetters(this.reader, {
      limit: o.limit ?? 100,
      ...(status ? { status } : {}),
      ...(o.afterId !== undefined ? { afterId: o.afterId } : {}),
      ...(o.table !== undefined ? { tableName: this.tableFilter(o.table)! } : {}),
    });
    return rows.map((r) => this.summary(r));
  }

  private async showDeadLetter(id: number): Promise<DeadLetterDetail | undefined> {
    await this.ensureReady();
    const row = await this.dialect.state.getDeadLetter(this.reader, id, false);
    if (!row) return undefined;
    const parked =
      row.status === 'open'
        ? await this.inTransaction(`Reading dead letter ${id}`, (tx) => this.dialect.state.parkedBehind(tx, row.tableName, row.keyText))
        : [];
    return {
      ...this.summary(row),
      event: this.decode(row),
      parkedEvents: parked.map((p) => ({ id: p.id, version: p.version, op: this.decode(p).op })),
    };
  }

  /** Applies the open dead letter `id`, then the events parked behind its key, in order. */
  private async replay(id: number): Promise<DrainResult> {
    await this.ensureReady();
    return this.inTransaction(`Replaying dead letter ${id}`, async (tx) => {
      const head = await this.openHead(tx, id, 'replay');
      const parked = await this.dialect.state.parkedBehind(tx, head.tableName, head.keyText);
      return this.drain(tx, [head, ...parked]);
    });
  }

  /** Drops the open dead letter `id` and applies the events parked behind its key, in order. */
  private async skip(id: number): Promise<DrainResult> {
    await this.ensureReady();
    return this.inTransaction(`Skipping dead letter ${id}`, async (tx) => {
      const head = await this.openHead(tx, id, 'skip');
      await this.dialect.state.setDeadLetterStatus(tx, head.id, 'skipped');
      const parked = await this.dialect.state.parkedBehind(tx, head.tableName, head.keyText);
      return this.drain(tx, parked);
    });
  }

  private async inTransaction<T>(what: string, fn: (tx: TargetTx) => Promise<T>): Promise<T> {
    try {
      return await this.conn.transaction((tx) => fn(tx));
    } catch (err) {
      throw batchError(err, this.dialect.classify(err), what);
    }
  }

  private async openHead(tx: TargetTx, id: number, action: string): Promise<DeadLetterRow> {
    const head = await this.dialect.state.getDeadLetter(tx, id, true);
    if (!head) throw new SluiceError('SLUICE_ERR_CONFIG', `There is no dead letter ${id}`, { context: { deadLetter: id } });
    if (head.status !== 'open') {
      throw new SluiceError(
        'SLUICE_ERR_CONFIG',
        `Dead letter ${id} is ${head.status}; only an open dead letter can be ${action === 'replay' ? 'replayed' : 'skipped'}`,
        { context: { deadLetter: id } },
      );
    }
    return head;
  }

  /**
   * Applies stored events of one key in order, each under the version guard. The first one that
   * fails again becomes (or stays) the key's open dead letter; the ones after it stay parked.
   */
  private async drain(tx: TargetTx, rows: readonly DeadLetterRow[]): Promise<DrainResult> {
    const result: { applied: number; skipped: number; released: number; open?: DrainResult['open'] } = {
      applied: 0,
      skipped: 0,
      released: 0,
    };
    const executor = new LoadExecutor(tx, this.dialect, this.newKeys);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const event = this.decode(row);
      let failure: { code: string; message: string } | undefined;
      let item: PlanItem | undefined;
      try {
        item = this.planItem(event);
      } catch (err) {
        if (!(err instanceof SluiceError)) throw err;
        failure = { code: err.code, message: err.message };
      }
      if (item?.problem !== undefined) failure = { code: 'SLUICE_INVALID_EVENT', message: item.problem };
      if (!failure && item) {
        await tx.savepoint(ISOLATE);
        try {
          let bad: ValueError | undefined;
          const n = await executor.run(this.plan(tx, item.binding, [item], false), (_c, err) => {
            bad = err;
          });
          await tx.release(ISOLATE);
          if (bad) failure = { code: errorCodeOf(bad), message: (bad as ValueError).message };
          else {
            result.applied += n;
            result.skipped += 1 - n;
          }
        } catch (err) {
          if (this.dialect.classify(err) !== 'poison') throw err;
          await tx.rollbackTo(ISOLATE);
          failure = { code: errorCodeOf(err), message: errorMessageOf(err) };
        }
      }
      if (failure) {
        await this.dialect.state.setDeadLetterStatus(tx, row.id, 'open', failure);
        result.open = { id: row.id, errorCode: failure.code, errorMessage: failure.message, parked: rows.length - i - 1 };
        return result;
      }
      await this.dialect.state.setDeadLetterStatus(tx, row.id, 'replayed');
      result.released++;
    }
    return result;
  }
}

/** For loads whose changes were checked to encode already, or where a value that does not fit fails the transaction. */
const rethrow: OnBadValue = (_change, err) => {
  throw err;
};

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
  } catch {
    return String(v);
  }
}
