// Concurrent apply batches on MariaDB do not deadlock on each other. Several batches at once over
// overlapping keys, each in random order, with inserts, updates and deletes: each transaction
// locks the rows it needs in one order every transaction shares, and takes no gap locks, so one
// waits for another instead of both waiting in a cycle. Every transient failure is counted by cause
// on the sluice:apply:retry channel; the test counts the deadlocks the sink throws and those the
// channel reports, and wants none, and the target to end at each key's newest change.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createSink, type SqlSink } from '../../src/apply/index.js';
import { APPLY_RETRY_CHANNEL, type ApplyRetryMessage } from '../../src/apply/drivers/mysql.js';
import type { ChangeEvent } from '../../src/core/change-event.js';
import { isSluiceError } from '../../src/core/errors.js';
import { introspect, readRows } from '../../src/metadata/index.js';
import { MYSQL_WHAT, mysqlAvailable, scratchMysql, type ScratchMysql } from '../support/databases.js';
import { prng } from '../support/prng.js';
import { skipUnless } from '../support/services.js';

const WORKERS = 6;
const ROUNDS = 12;
const KEYS = 300;
const PER_BATCH = 80;

describe('MariaDB apply under concurrency', { skip: skipUnless(await mysqlAvailable(), MYSQL_WHAT) }, () => {
  let db: ScratchMysql;
  let sink: SqlSink;
  before(async () => {
    db = await scratchMysql({ connectionLimit: WORKERS + 2 });
    await db.pool.query('CREATE TABLE t (id bigint PRIMARY KEY, v bigint NOT NULL, note varchar(64) NULL)');
    // Half the keys exist before: batches mix updates of existing rows with inserts into the gaps.
    await db.pool.query(`INSERT INTO t (id, v) VALUES ${Array.from({ length: KEYS / 2 }, (_, i) => `(${i * 2 + 1}, 0)`).join(',')}`);
    const table = await introspect({ dialect: 'mysql', connection: db.pool }, { name: 't' });
    sink = createSink({ dialect: 'mysql', connection: db.pool, tables: [table] });
    await sink.prepare();
  });
  after(async () => {
    await sink?.close();
    await db?.drop();
  });

  test(`${WORKERS} concurrent batches over overlapping keys in random order: no deadlock`, { timeout: 300_000 }, async () => {
    const rnd = prng(20261205);
    let version = 0n;
    const newest = new Map<number, ChangeEvent>();
    const batches: ChangeEvent[][][] = Array.from({ length: WORKERS }, () => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (let w = 0; w < WORKERS; w++) {
        const keys = new Set<number>();
        while (keys.size < PER_BATCH) keys.add(1 + Math.floor(rnd() * KEYS));
        const batch = [...keys].map((id): ChangeEvent => {
          const v = ++version;
          const del = rnd() < 0.2;
          const e: ChangeEvent = {
            table: { name: 't' },
            op: del ? 'd' : 'u',
            key: { id: BigInt(id) },
            ...(del ? {} : { after: { id: BigInt(id), v, note: `w${w}r${r}` } }),
            source: { connector: 'test', position: String(v) },
            version: v,
          };
          if ((newest.get(id)?.version ?? -1n) < v) newest.set(id, e);
          return e;
        });
        batches[w]!.push(batch);
      }
    }

    const thrown = new Map<string, number>();
    const reported = new Map<string, number>();
    const onRetry = (m: unknown) => {
      const { cause } = m as ApplyRetryMessage;
      reported.set(cause, (reported.get(cause) ?? 0) + 1);
    };
    subscribe(APPLY_RETRY_CHANNEL, onRetry);
    try {
      await Promise.all(
        batches.map(async (mine) => {
          for (const batch of mine) {
            // As the pipeline does: a retriable failure applies the same batch again.
            for (let attempt = 1; ; attempt++) {
              try {
                await sink.apply(batch);
                break;
              } catch (err) {
                if (!isSluiceError(err) || !err.retriable || attempt === 20) throw err;
                const errno = (err.cause as { errno?: number } | undefined)?.errno;
                const cause = errno === 1213 ? 'deadlock' : errno === 1205 ? 'lock_wait_timeout' : 'other';
                thrown.set(cause, (thrown.get(cause) ?? 0) + 1);
              }
            }
          }
        }),
      );
    } finally {
      unsubscribe(APPLY_RETRY_CHANNEL, onRetry);
    }
    assert.deepEqual(Object.fromEntries(thrown), {}, 'retries the concurrent batches needed');
    assert.deepEqual(Object.fromEntries(reported), Object.fromEntries(thrown), 'the channel counts what the sink threw');

    const table = await introspect({ dialect: 'mysql', connection: db.pool }, { name: 't' });
    const rows = new Map((await readRows({ dialect: 'mysql', connection: db.pool }, table)).map((r) => [Number(r.id), r]));
    for (const [id, e] of newest) {
      if (e.op === 'd') assert.ok(!rows.has(id), `key ${id} ends deleted`);
      else assert.deepEqual(rows.get(id), e.after, `key ${id} ends at its newest change`);
    }
  });
});
