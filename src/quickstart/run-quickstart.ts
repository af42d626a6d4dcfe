/**
 * The embedded quick start: no database server, no Kafka. Source and target are embedded PGlite
 * databases on disk, a workload plays the source service (coupon transactions through the
 * outbox), and the direct transport applies them. Stopping drains the outbox first, then compares
 * source and target; the next start resumes from what is left.
 */
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Logger } from 'pino';
import { sourceConnection } from '../config/schema.js';
import { parseConfig } from '../config/load.js';
import { openConnection } from '../pipeline/connections.js';
import { runPipeline } from '../pipeline/run.js';
import { startProgress } from '../pipeline/progress.js';
import { QUICKSTART_DDL, QUICKSTART_TABLES } from './tables.js';
import { Workload } from './workload.js';

export interface QuickstartOptions {
  dataDir: string;
  rate: number;
  /** Stop by itself after this many seconds (tests, demos); otherwise run until Ctrl-C. */
  seconds?: number;
  log: Logger;
  out: (line: string) => void;
}

export async function runQuickstart(
  o: QuickstartOptions,
): Promise<{ source: Record<string, number>; target: Record<string, number>; equal: boolean }> {
  mkdirSync(o.dataDir, { recursive: true });
  await prepareDataDirs(o.dataDir, ['source', 'target'], o.out);
  const cfg = parseConfig({
    name: 'quickstart',
    source: { connector: 'outbox', connection: { dialect: 'pglite', dataDir: join(o.dataDir, 'source') }, tables: [...QUICKSTART_TABLES] },
    transport: { kind: 'direct' },
    target: { connection: { dialect: 'pglite', dataDir: join(o.dataDir, 'target') } },
    apply: { batchSize: 2000 },
  });
  const source = await openConnection(sourceConnection(cfg.source)!, 'source.connection');
  const target = await openConnection(cfg.target.connection, 'target.connection').catch(async (err: unknown) => {
    await source.close();
    throw err;
  });
  const sdb = source.connection as PGlite;
  const tdb = target.connection as PGlite;
  try {
    for (const ddl of QUICKSTART_DDL) {
      await sdb.exec(ddl);
      await tdb.exec(ddl);
    }
    const workload = new Workload(sdb, o.rate);
    await workload.prepare();
    const pending = Number((await sdb.query<{ n: number }>('SELECT count(*)::int AS n FROM sluice_outbox')).rows[0]!.n);
    const pipeline = await runPipeline(cfg, o.log, { source, target });
    const checkpoint = await pipeline.sink.checkpoint(cfg.name);
    // The dashboard's URL leads the first line the running pipeline prints.
    const dashboard = pipeline.observeUrl ? `dashboard ${pipeline.observeUrl}/ · ` : '';
    o.out(
      checkpoint
        ? `sluice quick start: ${dashboard}resuming where it left off (last applied outbox seq ${checkpoint}, ${pending} changes waiting in the outbox)`
        : `sluice quick start: ${dashboard}first run (embedded PGlite source and target, direct transport)`,
    );
    o.out(`data in ${o.dataDir}; a workload of ~${o.rate} transactions/s plays the coupon service. Ctrl-C stops.`);
    workload.start();
    const stopProgress = startProgress(pipeline.stats);
    await new Promise<void>((resolve, reject) => {
      const timer = o.seconds !== undefined ? setTimeout(resolve, o.seconds * 1000) : undefined;
      process.once('SIGINT', () => {
        clearTimeout(timer);
        resolve();
      });
      process.once('SIGTERM', () => {
        clearTimeout(timer);
        resolve();
      });
      pipeline.done.catch(reject);
    }).finally(stopProgress);
    await workload.stop();
    // Drain: let the relay apply what the workload committed, then stop cleanly.
    const deadline = Date.now() + 30_000;
    while (
      Date.now() < deadline &&
      Number((await sdb.query<{ n: number }>('SELECT count(*)::int AS n FROM sluice_outbox')).rows[0]!.n) > 0
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await pipeline.stop();
    const counts = async (db: PGlite) =>
      Object.fromEntries(
        await Promise.all(
          QUICKSTART_TABLES.map(
            async (t) => [t, Number((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`)).rows[0]!.n)] as const,
          ),
        ),
      );
    const s = await counts(sdb);
    const t = await counts(tdb);
    const equal = await sameContent(sdb, tdb);
    o.out(
      `stopped: ${workload.transactions} transactions this run, ${pipeline.stats.applied} changes applied, ${pipeline.stats.skipped} skipped (superseded in the same batch, duplicate or stale)`,
    );
    o.out(`source ${JSON.stringify(s)}  target ${JSON.stringify(t)}  ${equal ? 'identical' : 'DIFFERENT'}`);
    return { source: s, target: t, equal };
  } finally {
    await source.close();
    await target.close();
  }
}

/** Row-by-row comparison of both tables (small embedded data: fine to read whole). */
async function sameContent(a: PGlite, b: PGlite): Promise<boolean> {
  for (const t of QUICKSTART_TABLES) {
    const q = `SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) AS h FROM ${t} x`;
    const [ha, hb] = await Promise.all([a.query<{ h: string | null }>(q), b.query<{ h: string | null }>(q)]);
    if (ha.rows[0]!.h !== hb.rows[0]!.h) return false;
  }
  return true;
}

/**
 * Shared buffers of the quick start's embedded databases. PostgreSQL's default (128 MB) is sized for
 * a server; at a few hundred rows a second 16 MB holds the tables, and each embedded database then
 * takes about 170 MB of memory instead of 300.
 */
const SHARED_BUFFERS = '16MB';

/**
 * Creates the embedded databases that do not exist yet. PGlite's first start runs initdb (seconds,
 * and most of a GB of memory for a moment), so it runs once, into a scratch directory, whose copy
 * then becomes each database; a directory appears under its final name only when it is complete,
 * so an interrupted first run starts over rather than opening half a database.
 */
async function prepareDataDirs(dataDir: string, names: readonly string[], out: (line: string) => void): Promise<void> {
  const missing = names.filter((n) => !existsSync(join(dataDir, n, 'PG_VERSION')));
  if (missing.length === 0) {
    out(`sluice quick start: opening the embedded databases in ${dataDir}…`);
    return;
  }
  out(`sluice quick start: creating the embedded PostgreSQL databases (PGlite) in ${dataDir}, once (seconds)…`);
  const scratch = join(dataDir, '.initdb');
  rmSync(scratch, { recursive: true, force: true });
  const db = new PGlite(scratch);
  try {
    await db.waitReady;
    await db.exec(`ALTER SYSTEM SET shared_buffers = '${SHARED_BUFFERS}'`);
  } finally {
    await db.close();
  }
  for (const n of missing) {
    const dir = join(dataDir, n);
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}.partial`, { recursive: true, force: true });
    cpSync(scratch, `${dir}.partial`, { recursive: true });
    renameSync(`${dir}.partial`, dir);
  }
  rmSync(scratch, { recursive: true, force: true });
  out(`created the ${missing.join(' and ')} database${missing.length > 1 ? 's' : ''}; opening them…`);
}
