/**
 * `sluice slot status|drop -c cfg`: the PostgreSQL source's replication slot and publication.
 * Dropping is deliberate: the slot's name must be repeated with --confirm, since a dropped slot
 * forgets the position and the next start must snapshot again to be complete.
 * `sluice slot ddl install|remove -c cfg`: the event trigger that writes DDL into the log
 * (capture/postgres/ddl.ts), for source.ddlMessages; needs a superuser, once.
 */
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { loadConfigFile } from '../config/load.js';
import { openConnection } from '../pipeline/connections.js';
import { SluiceError } from '../core/errors.js';
import { setupNames } from '../capture/postgres/connector.js';
import { dropSlotAndPublication, retainedWalBytes } from '../capture/postgres/setup.js';
import { installDdlTriggerSql, removeDdlTriggerSql } from '../capture/postgres/ddl.js';

export const slotHelp = `Usage: sluice slot status -c <config.yaml>
       sluice slot drop -c <config.yaml> --confirm <slot-name>
       sluice slot ddl install|remove -c <config.yaml>

For a config whose source.connector is postgres: status prints the replication slot's confirmed
position and the WAL the server keeps for it; drop removes the slot and the publication, so the
server no longer keeps WAL for this pipeline (the next run snapshots from scratch: its snapshot
progress is cleared only when you also remove the state store's sluice_source_progress rows).
ddl install creates, in the source database, the event trigger that writes each DDL command on a
table into the log, so that with source.ddlMessages: true the schema history (sluice schema) holds
every statement at its position; it needs a superuser once. ddl remove drops it.`;

export async function slotCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, confirm: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return void console.log(slotHelp);
  const action = positionals[0];
  const ddlAction = action === 'ddl' ? positionals[1] : undefined;
  if (!values.config || (action !== 'status' && action !== 'drop' && !(ddlAction === 'install' || ddlAction === 'remove')))
    throw Object.assign(new Error('expected: sluice slot status|drop|ddl install|ddl remove -c <config.yaml> (see sluice slot --help)'), {
      code: 'ERR_PARSE_ARGS_MISSING',
    });
  const cfg = await loadConfigFile(values.config);
  if (cfg.source.connector !== 'postgres')
    throw new SluiceError(
      'SLUICE_ERR_CONFIG',
      `source.connector: slots belong to the postgres connector (this config uses ${cfg.source.connector})`,
      { context: { configPath: 'source.connector' } },
    );
  const names = setupNames(cfg.name, cfg.source);
  const conn = await openConnection(cfg.source.connection, 'source.connection');
  try {
    const pool = conn.connection as pg.Pool;
    if (ddlAction) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (const sql of ddlAction === 'install' ? installDdlTriggerSql : removeDdlTriggerSql) await client.query(sql);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        const e = err as { code?: string; message: string };
        throw new SluiceError(
          'SLUICE_ERR_SOURCE',
          `ddl ${ddlAction}: ${e.message}${e.code === '42501' ? ' (event triggers need a superuser: run this once as one)' : ''}`,
          { cause: err },
        );
      } finally {
        client.release();
      }
      return void console.log(
        ddlAction === 'install'
          ? 'DDL event trigger installed: with source.ddlMessages: true, sluice schema lists each DDL statement on the replicated tables'
          : 'DDL event trigger removed',
      );
    }
    if (action === 'status') {
      const r = (
        await pool.query(`SELECT active, confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1`, [
          names.slot,
        ])
      ).rows[0] as { active: boolean; confirmed: string } | undefined;
      if (!r) return void console.log(`slot ${names.slot}: does not exist (created by the next sluice run)`);
      const bytes = await retainedWalBytes(pool, names.slot);
      console.log(
        `slot ${names.slot}: ${r.active ? 'active' : 'inactive'}, confirmed ${r.confirmed}, WAL kept ${bytes === undefined ? 'unknown' : `${(bytes / 1048576).toFixed(1)} MiB`}; publication ${names.publication}`,
      );
      return;
    }
    if (values.confirm !== names.slot)
      throw new SluiceError(
        'SLUICE_ERR_CONFIG',
        `to drop slot ${names.slot} and publication ${names.publication}, repeat the slot's name: --confirm ${names.slot}`,
      );
    const dropped = await dropSlotAndPublication(pool, names).catch((err: { code?: string; message: string }) => {
      if (err.code === '55006')
        throw new SluiceError(
          'SLUICE_ERR_SOURCE',
          `slot ${names.slot} is in use (${err.message}): stop the sluice run that streams from it first`,
          { cause: err },
        );
      throw err;
    });
    console.log(
      `slot ${names.slot}: ${dropped.slot ? 'dropped' : 'did not exist'}; publication ${names.publication}: ${dropped.publication ? 'dropped' : 'did not exist'}`,
    );
  } finally {
    await conn.close();
  }
}
