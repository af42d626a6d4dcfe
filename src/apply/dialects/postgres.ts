/**
 * PostgreSQL through a node-postgres Pool. Each transaction takes one pooled connection; a batch
 * is COPYed (pg-copy-streams) into a per-connection temp stage table, then applied by the one
 * guarded statement of pg-family.ts, in slices so that JS encodes the next slice while the server
 * applies this one. The stage is created once per connection and is empty at every transaction
 * start (ON COMMIT DELETE ROWS; a rollback empties it too). A temp table needs session pooling:
 * behind a pooler in transaction mode, point the sink at the server directly.
 *
 * A table's changes in a batch of at most SMALL_BATCH skip the stage: they are one JSON parameter
 * of the same guarded statement, kept prepared per connection like the small statements every
 * batch repeats (the staged form never is: see pgSharedParts.applyStaged).
 *
 * Before the guarded statement, a staged batch may be tried as new keys (new-keys.ts): a large
 * slice COPYed straight into the version table and the target, a smaller one inserted from the
 * stage, both plain writes undone at the first key that exists. Measured on 200k inserted rows
 * (bench/apply-postgres.ts; 2 cores, PostgreSQL 15, 2026-11): 160–180k rows/s against 98–102k for
 * the guarded statement alone.
 *
 * Measured (bench/apply-postgres.ts, 200k rows × 10 columns, one connection): loading the stage
 * with COPY is ≈2× loading it with multi-row INSERT … VALUES (`stageLoad: 'insert'`, kept for
 * comparison). The guard's own write (one version row per key) costs about as much as
 * the row itself, which is what separates the sink from a plain COPY (see the bench's output).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { TableRef } from '../../core/change-event.js';
import { introspectPostgres, pgTypes } from '../../metadata/postgres.js';
import { isNoPrimaryKeyError } from '../../metadata/table-errors.js';
import { NewKeysPolicy } from './new-keys.js';
import {
  PG_NEW_KEYS_ROLLBACK,
  PG_RELEASE,
  PG_ROLLBACK_TO,
  PG_SAVEPOINT,
  PG_STATE_LOCK_SQL,
  applyShape,
  copyChunks,
  encodeCopyLine,
  encodeInlineRow,
  encodeStageParams,
  isInline,
  pgEnsureTableState,
  pgStateDdl,
  pgStateNames,
  pgSharedParts,
  pgTableSql,
  rowChunks,
  stageInsertStatements,
  versionChunks,
} from './pg-family.js';
import type { Change, DialectTx, SinkDialect, TableBinding } from './types.js';

export interface PostgresDialectOptions {
  /** Schema for sluice's own tables (default: the connection's search_path, usually public). */
  readonly stateSchema?: string;
  /** How a batch reaches the stage table: COPY (default, fastest) or multi-row INSERT. */
  readonly stageLoad?: 'copy' | 'insert';
  /** Try a staged batch as plain writes of new keys before the guarded statement (new-keys.ts; default true). */
  readonly newKeys?: boolean;
  /** End the pool on close(). */
  readonly ownsPool?: boolean;
}

/** Statement names by text: node-postgres prepares a named statement once per connection. */
const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) statementNames.set(text, (name = `sluice_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`));
  return name;
}

/**
 * Up to this many changes of a table, no stage: the rows travel as one JSON parameter of the
 * guarded statement itself (PgTableSql.inline; a table with json columns: one multi-row INSERT
 * into the stage). COPY costs two round trips (start, then data) and a stream, and a stage used
 * in a transaction is truncated at its commit (a file operation that 16 concurrent small batches
 * queued on); from about a hundred rows on, COPY's cheaper parsing wins.
 */
const SMALL_BATCH = 64;

/**
 * From this many upserts of a table in a slice, new keys are tried by COPY into the tables
 * themselves (applyStaged). That costs six round trips (a savepoint, two COPYs, its release)
 * against the stage's three, so it pays only where the rows' own cost dominates.
 */
const DIRECT_MIN = 2000;

/**
 * A transaction whose BEGIN is sent with its first statement when that statement has no
 * parameters (a simple-protocol query may hold several statements; an extended one may not): a
 * batch opens with the dead-letter check (blockedKeys), so BEGIN costs no round trip of its own.
 * Anything that talks to the connection outside query() calls begin() first.
 */
class PgTx implements DialectTx {
  #begun = false;
  constructor(readonly client: pg.PoolClient) {}

  get begun(): boolean {
    return this.#begun;
  }

  async begin(): Promise<void> {
    if (this.#begun) return;
    this.#begun = true; // before the round trip: a failed BEGIN still needs its ROLLBACK
    await this.client.query('BEGIN');
  }

  async query<T>(text: string, values?: readonly unknown[], repeated?: boolean): Promise<T[]> {
    if (!this.#begun && !values?.length) {
      this.#begun = true;
      const results = (await this.client.query({ text: `BEGIN;\n${text}`, types: pgTypes })) as unknown as pg.QueryResult[];
      return results[results.length - 1]!.rows as T[];
    }
    await this.begin();
    const config = { text, values: values as unknown[] | undefined, types: pgTypes, ...(repeated ? { name: statementName(text) } : {}) };
    return (await this.client.query(config)).rows as T[];
  }
}

export function postgresDialect(pool: pg.Pool, opts: PostgresDialectOptions = {}): SinkDialect {
  const names = pgStateNames(opts.stateSchema);
  const stageLoad = opts.stageLoad ?? 'copy';
  /** Stage tables known to exist on each pooled connection. */
  const stages = new WeakMap<pg.PoolClient, Set<string>>();
  const poolQuery = async <T>(text: string, values?: readonly unknown[]): Promise<T[]> =>
    (await pool.query({ text, values: values as unknown[] | undefined, types: pgTypes })).rows as T[];
  const loadStage = async (tx: DialectTx, binding: TableBinding, changes: readonly Change[], fresh: boolean): Promise<void> => {
    // Inline rows travel with the statement itself (applyStaged): no stage.
    if (isInline(changes[0])) return;
    await (tx as PgTx).begin();
    const { client } = tx as PgTx;
    const sql = pgTableSql(binding, names);
    let have = stages.get(client);
    if (!have) stages.set(client, (have = new Set()));
    if (!have.has(sql.stage)) {
      await client.query(sql.createStage);
      have.add(sql.stage);
    }
    // Empty at a transaction's start (ON COMMIT DELETE ROWS; a rollback empties it too).
    if (!fresh) await client.query(sql.truncateStage);
    if (changes.length === 0) return;
    // Each change is a COPY line (a string) or a parameter list, by how encode() chose.
    if (typeof changes[0]!.encoded === 'string') {
      const stream = client.query(copyStreams.from(`COPY ${sql.stageColumns} FROM STDIN`));
      await pipeline(Readable.from(copyChunks(changes)), stream);
    } else {
      // A small batch's statement text depends only on its row count: prepared, it is parsed
      // and planned once per count and connection.
      const prepare = changes.length <= SMALL_BATCH;
      for (const st of stageInsertStatements(sql, changes)) await tx.query(st.text, st.values, prepare);
    }
  };
  const shared = pgSharedParts(names, poolQuery);
  const newKeys = opts.newKeys === false ? undefined : new NewKeysPolicy();
  /**
   * Slices to try as new keys, decided once in stageChanges and carried out in applyStaged: by
   * COPY into the tables (their stage load skipped) or from the stage.
   */
  const attempts = new WeakMap<readonly Change[], 'copy' | 'stage'>();

  const transaction = async <T>(fn: (tx: DialectTx) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    let broken: Error | undefined;
    // A checked-out client whose connection dies emits 'error'; unheard, that would crash the
    // process. The failing query rejects anyway, which is how the failure reaches the caller.
    const onError = (e: Error) => {
      broken = e;
    };
    client.on('error', onError);
    const tx = new PgTx(client);
    try {
      const result = await fn(tx);
      if (tx.begun) await client.query('COMMIT');
      return result;
    } catch (err) {
      // A stage created in this transaction is gone with it.
      stages.delete(client);
      try {
        if (tx.begun) await client.query('ROLLBACK');
      } catch (e) {
        broken = e as Error; // unusable connection: destroy it instead of returning it to the pool
      }
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  };

  return {
    dialect: 'postgres',
    maxKeyTextLength: 2000,

    async ensureState() {
      await transaction(async (tx) => {
        await tx.query(PG_STATE_LOCK_SQL);
        for (const ddl of pgStateDdl(names, opts.stateSchema)) await tx.query(ddl);
      });
    },

    async ensureTableState(tableName: string) {
      await transaction(async (tx) => {
        await tx.query(PG_STATE_LOCK_SQL);
        await pgEnsureTableState(tx, names, tableName);
      });
    },

    async introspectTarget(ref: TableRef, keyColumns: readonly string[]) {
      try {
        return await introspectPostgres(pool, ref);
      } catch (err) {
        if (isNoPrimaryKeyError(err)) return introspectPostgres(pool, ref, { keyColumns });
        throw err;
      }
    },

    transaction,
    savepoint: async (tx) => void (await tx.query(PG_SAVEPOINT)),
    rollbackToSavepoint: async (tx) => {
      // A stage created after the savepoint is gone with it: create it again if needed.
      stages.delete((tx as PgTx).client);
      await tx.query(PG_ROLLBACK_TO);
      await tx.query(PG_RELEASE);
    },
    releaseSavepoint: async (tx) => void (await tx.query(PG_RELEASE)),

    encode: (change, batchSize) => {
      if (stageLoad === 'copy' && (batchSize ?? Infinity) > SMALL_BATCH) encodeCopyLine(change);
      else if (stageLoad === 'copy' && pgTableSql(change.binding, names).inline) encodeInlineRow(change);
      else encodeStageParams(change);
    },

    async stageChanges(tx, binding, changes, fresh) {
      if (newKeys && changes.length > 0 && !isInline(changes[0]) && newKeys.shouldTry(tx, binding)) {
        const copy = changes.length >= DIRECT_MIN && typeof changes[0]!.encoded === 'string' && applyShape(changes) === 'upserts';
        attempts.set(changes, copy ? 'copy' : 'stage');
        if (copy) return; // applyStaged COPYs them straight into the tables
      }
      await loadStage(tx, binding, changes, fresh);
    },

    async applyChanges(tx, binding, changes, fresh) {
      if (changes.length === 0) return 0;
      await this.stageChanges!(tx, binding, changes, fresh);
      return this.applyStaged!(tx, binding, changes);
    },

    ...shared,
    /**
     * A staged batch is first tried as plain writes of new keys (new-keys.ts says when): a large
     * slice of upserts by COPY straight into the version table and the target (no stage; its
     * stage load was skipped), any other as plain INSERTs from the stage. When the attempt fails,
     * usually because some key exists, it is undone and the guarded statement decides key by key.
     */
    async applyStaged(tx, binding, changes) {
      const attempt = attempts.get(changes);
      if (!attempt) return shared.applyStaged(tx, binding, changes);
      attempts.delete(changes);
      const { client } = tx as PgTx;
      await (tx as PgTx).begin();
      const sql = pgTableSql(binding, names);
      try {
        if (attempt === 'copy') {
          await client.query('SAVEPOINT sluice_new_keys');
          await pipeline(Readable.from(versionChunks(changes)), client.query(copyStreams.from(sql.copyVersions)));
          await pipeline(Readable.from(rowChunks(changes)), client.query(copyStreams.from(sql.copyTarget)));
          await client.query('RELEASE SAVEPOINT sluice_new_keys');
        } else {
          await client.query(sql.newKeys[applyShape(changes)]);
        }
        newKeys!.record(binding, true);
        return changes.length;
      } catch {
        newKeys!.record(binding, false);
      }
      // Whatever failed the attempt (a unique violation, that is a key that exists; a bad value;
      // something COPY alone refuses, such as a target under row-level security), undoing it
      // leaves the guarded statement to apply the slice, or to fail it as it would have anyway.
      // Should the undo itself fail, the connection is gone: that error is the one to report.
      await client.query(PG_NEW_KEYS_ROLLBACK);
      if (attempt === 'copy') await loadStage(tx, binding, changes, false);
      return shared.applyStaged(tx, binding, changes);
    },
    async close() {
      if (opts.ownsPool) await pool.end();
    },
  };
}
