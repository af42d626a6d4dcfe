/**
 * PostgreSQL through a node-postgres Pool. Each transaction takes one pooled connection. A
 * statement that repeats is prepared under a name derived from its text (node-postgres prepares a
 * named statement once per connection). Temp tables made through once() are remembered per
 * connection, so behind a pooler in transaction mode (which moves a client between server
 * connections) point the sink at the server directly.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { TableRef } from '../../core/change-event.js';
import { introspectPostgres, pgTypes } from '../../metadata/postgres.js';
import { isNoPrimaryKeyError } from '../../metadata/table-errors.js';
import type { TargetConnection, TargetTx } from './types.js';

const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) statementNames.set(text, (name = `sluice_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`));
  return name;
}

class PgTx implements TargetTx {
  readonly readCommitted = true;
  constructor(
    readonly client: pg.PoolClient,
    private readonly made: Set<string>,
  ) {}

  async query<T>(text: string, values?: readonly unknown[], prepared?: boolean): Promise<T[]> {
    const config = { text, values: values as unknown[] | undefined, types: pgTypes, ...(prepared ? { name: statementName(text) } : {}) };
    return (await this.client.query(config)).rows as T[];
  }

  async copyFrom(into: string, chunks: Iterable<string>): Promise<void> {
    // One chunk read ahead: each is on the wire before the next is made, so the server parses
    // while the generator (which may encode rows) makes the next.
    await pipeline(Readable.from(chunks, { highWaterMark: 1 }), this.client.query(copyStreams.from(`COPY ${into} FROM STDIN`)));
  }

  async once(key: string, sql: string): Promise<void> {
    if (this.made.has(key)) return;
    await this.client.query(sql);
    this.made.add(key);
  }

  async savepoint(name: string): Promise<void> {
    await this.client.query(`SAVEPOINT ${name}`);
  }

  async rollbackTo(name: string): Promise<void> {
    // What once() made after the savepoint is gone with it.
    this.made.clear();
    await this.client.query(`ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`);
  }

  async release(name: string): Promise<void> {
    await this.client.query(`RELEASE SAVEPOINT ${name}`);
  }
}

export function postgresConnection(pool: pg.Pool, opts: { ownsPool?: boolean } = {}): TargetConnection {
  /** What once() made on each pooled connection. */
  const made = new WeakMap<pg.PoolClient, Set<string>>();
  return {
    async transaction(fn, opening) {
      const client = await pool.connect();
      let broken: Error | undefined;
      // A checked-out client whose connection dies emits 'error'; unheard, that would crash the
      // process. The failing query rejects anyway, which is how the failure reaches the caller.
      const onError = (e: Error) => {
        broken = e;
      };
      client.on('error', onError);
      let set = made.get(client);
      if (!set) made.set(client, (set = new Set()));
      let begun = false;
      try {
        begun = true; // before the round trip: a failed BEGIN still needs its ROLLBACK
        let opened: Array<Record<string, unknown>> = [];
        if (opening) {
          // A simple-protocol query may hold several statements: BEGIN costs no round trip of its own.
          const results = (await client.query({ text: `BEGIN;\n${opening}`, types: pgTypes })) as unknown as pg.QueryResult[];
          opened = results[results.length - 1]!.rows as Array<Record<string, unknown>>;
        } else {
          await client.query('BEGIN');
        }
        const result = await fn(new PgTx(client, set), opened);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        set.clear(); // a temp table made in this transaction is gone with it
        try {
          if (begun) await client.query('ROLLBACK');
        } catch (e) {
          broken = e as Error; // unusable connection: destroy it instead of returning it to the pool
        }
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },

    async read<T>(text: string, values?: readonly unknown[]) {
      return (await pool.query({ text, values: values as unknown[] | undefined, types: pgTypes })).rows as T[];
    },

    async introspect(ref: TableRef, keyColumns: readonly string[]) {
      try {
        return await introspectPostgres(pool, ref);
      } catch (err) {
        if (isNoPrimaryKeyError(err)) return introspectPostgres(pool, ref, { keyColumns });
        throw err;
      }
    },

    async close() {
      if (opts.ownsPool) await pool.end();
    },
  };
}
