/**
 * The postgres connector: checks the server (failing with the statement that fixes each problem),
 * creates the publication and the slot when missing, and streams from the slot's confirmed position.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { SluiceError } from '../../core/errors.js';
import { defineConnector, type SnapshotGauge } from '../connector.js';
import { ProgressStore } from '../snapshot/progress.js';
import { ddlProblems } from './ddl.js';
import { postgresSpec, type PostgresSourceConfig } from './spec.js';
import {
  defaultSlotName,
  ensurePublication,
  ensureSlot,
  failOnProblems,
  prerequisiteProblems,
  retainedWalBytes,
  type SetupNames,
} from './setup.js';
import { PostgresSource } from './source.js';
import { formatLsn } from './lsn.js';

export function setupNames(pipeline: string, o: Pick<PostgresSourceConfig, 'slot' | 'publication'>): SetupNames {
  const slot = o.slot ?? defaultSlotName(pipeline);
  return { slot, publication: o.publication ?? slot };
}

export const postgresConnector = defineConnector({
  name: 'postgres',
  spec: postgresSpec,
  async open(o, ctx) {
    if (ctx.database?.dialect !== 'postgres' || !o.connection.url) {
      throw new SluiceError(
        'SLUICE_ERR_CONFIG',
        'source.connection: the postgres connector reads a PostgreSQL server (dialect: postgres, with url)',
        { context: { configPath: 'source.connection' } },
      );
    }
    if (o.truncate === 'apply' && ctx.transport !== 'direct') {
      throw new SluiceError(
        'SLUICE_ERR_CONFIG',
        'source.truncate: apply empties the target with the direct transport; through Kafka a TRUNCATE is refused',
        {
          context: { configPath: 'source.truncate' },
        },
      );
    }
    const pool = ctx.database.connection as pg.Pool;
    const names = setupNames(ctx.pipeline, o);
    failOnProblems([
      ...(await prerequisiteProblems(pool, ctx.tables, names, o.createPublication)),
      ...(await ddlProblems(pool, o.ddlMessages)),
    ]);
    if (o.createPublication) await ensurePublication(pool, ctx.tables, names.publication);
    const slot = await ensureSlot(pool, names.slot);
    if (slot.created) ctx.log.info({ slot: names.slot, at: formatLsn(slot.confirmedLsn) }, 'created the replication slot');
    const progress = new ProgressStore(await ctx.state(), ctx.pipeline);
    const version = Number(((await pool.query('SHOW server_version_num')).rows[0] as { server_version_num: string }).server_version_num);
    const spoolDir = o.streamInProgress && version >= 140000 ? (o.spoolDir ?? join(tmpdir(), `sluice-spool-${names.slot}`)) : undefined;
    const snapshots = new Map<string, SnapshotGauge>();
    let retainedBytes: number | undefined;
    // Read every few seconds, not per scrape: a scrape must not query the source.
    const poll = async () => {
      retainedBytes = await retainedWalBytes(pool, names.slot).catch(() => retainedBytes);
    };
    await poll();
    const timer = setInterval(() => void poll(), 5_000);
    timer.unref();
    const source = new PostgresSource({
      onSnapshotProgress: (p) => snapshots.set(p.table, p),
      name: ctx.pipeline,
      url: o.connection.url,
      pool,
      tables: ctx.tables,
      slot: names.slot,
      publication: names.publication,
      startLsn: slot.confirmedLsn,
      progress,
      snapshot: o.snapshot,
      snapshotChunkRows: o.snapshotChunkRows,
      transactions: o.transactions,
      maxTransactionChanges: o.maxTransactionChanges,
      batchSize: o.batchSize,
      statusIntervalMs: o.statusIntervalMs,
      truncate: o.truncate,
      ddlMessages: o.ddlMessages,
      log: ctx.log,
      ...(spoolDir ? { spoolDir } : {}),
      ...(o.decodingWorkMem ? { decodingWorkMem: o.decodingWorkMem } : {}),
    });
    return {
      source,
      backlog: () => source.backlog,
      gauges: () => ({ ...(retainedBytes !== undefined ? { retainedBytes } : {}), snapshots: [...snapshots.values()] }),
      close: async () => clearInterval(timer),
    };
  },
  async check(o, ctx) {
    if (ctx.database?.dialect !== 'postgres')
      return [
        {
          configPath: 'source.connection.dialect',
          message: 'the postgres connector reads a PostgreSQL server',
          fix: 'set source.connection.dialect: postgres',
        },
      ];
    const pool = ctx.database.connection as pg.Pool;
    return [
      ...(await prerequisiteProblems(pool, ctx.tables, setupNames(ctx.pipeline, o), o.createPublication)),
      ...(await ddlProblems(pool, o.ddlMessages)),
    ];
  },
});
