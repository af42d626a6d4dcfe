// Benchmark: the replication lag reconcile adds while a live workload runs. A PostgreSQL source
// (ROWS rows of 10 columns, outbox) replicates to a PostgreSQL target through the direct transport
// at RATE updates/s. Phase A: SECONDS of workload alone. Phase B: the same workload while
// `reconcile` (as the schedule in `sluice run` runs it: the pipeline's probe, re-checks, the state
// store opened once) runs back to back.
// Reported: commit→apply latency p50/p99 per phase (the target's trigger stamps clock_timestamp()
// against the source row's clock_timestamp(); one machine clock), reconcile runs and their
// duration, and the drift they reported (must be 0: everything in flight is lag, not drift).
// Run: node --import tsx bench/reconcile-live.ts [ROWS=1000000] [SECONDS=15] [RATE=1000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load.js';
import { openEndpoints, runPipeline } from '../src/pipeline/run.js';
import { reconcileFromConfig } from '../src/pipeline/reconcile.js';
import { openStateStore } from '../src/state/open.js';
import { scratchPostgres, type ScratchPostgres } from '../test/support/databases.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const SECONDS = Number(process.argv[3] ?? 15);
const RATE = Number(process.argv[4] ?? 1000);
const log = pino({ level: 'silent' });
const DDL = `CREATE TABLE t (id bigint PRIMARY KEY, a int, b bigint, c numeric(12,2), d text, e text, f timestamptz(6), g boolean, h double precision, i text)`;
const FILL = (n: number) =>
  `INSERT INTO t SELECT g, g % 1000, g * 7, (g % 100000) / 100.0, md5(g::text), repeat('x', 20), '2025-01-01 00:00:00+00', g % 2 = 0, g / 3.0, 'row ' || g FROM generate_series(1, ${n}) g`;

/** RATE updates/s of random rows, each with its outbox row in the same transaction (after it). */
async function workload(src: ScratchPostgres, seconds: number): Promise<{ from: Date; to: Date; changes: number }> {
  const TICK = 50;
  const per = Math.max(1, Math.round((RATE * TICK) / 1000));
  const from = new Date();
  const t0 = performance.now();
  let changes = 0;
  for (let tick = 0; tick < (seconds * 1000) / TICK; tick++) {
    const ids = Array.from({ length: per }, () => 1 + Math.floor(Math.random() * ROWS));
    await src.pool.query(
      `
      WITH rows AS (UPDATE t SET a = a + 1, f = clock_timestamp() WHERE id = ANY($1::bigint[]) RETURNING *)
      INSERT INTO sluice_outbox (table_name, op, key_json, row_json)
      SELECT 't', 'u', json_build_object('id', id::text)::text,
             json_build_object('id', id::text, 'a', a, 'b', b::text, 'c', c::text, 'd', d, 'e', e,
               'f', to_char(f AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'g', g, 'h', h, 'i', i)::text
        FROM rows ORDER BY id`,
      [ids],
    );
    changes += per;
    const wait = t0 + (tick + 1) * TICK - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return { from, to: new Date(), changes };
}

async function lag(dst: ScratchPostgres, from: Date, to: Date): Promise<{ p50_ms: number; p99_ms: number; rows: number }> {
  const r = await dst.pool.query(
    `SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - f) * 1000) AS p, count(*)::int AS n
       FROM t WHERE f >= $1 AND f < $2 AND applied_at IS NOT NULL`,
    [from, to],
  );
  const [p50, p99] = (r.rows[0].p as number[] | null) ?? [NaN, NaN];
  return { p50_ms: Math.round(p50! * 10) / 10, p99_ms: Math.round(p99! * 10) / 10, rows: r.rows[0].n };
}

const src = await scratchPostgres({ max: 8 });
const dst = await scratchPostgres({ max: 8 });
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-rclive-'));
const closers: Array<() => Promise<void>> = [];
try {
  await src.pool.query(DDL);
  await dst.pool.query(DDL);
  await src.pool.query(FILL(ROWS));
  await dst.pool.query(FILL(ROWS));
  await dst.pool.query(`ALTER TABLE t ADD COLUMN applied_at timestamptz(6);
    CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.applied_at := clock_timestamp(); RETURN NEW; END $$;
    CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION stamp();`);
  for (const db of [src, dst]) await db.pool.query('VACUUM ANALYZE t');
  const cfg = parseConfig({
    name: 'rclive',
    state: { dataDir: join(dir, 'state') },
    source: { connector: 'outbox', connection: { dialect: 'postgres', url: src.url, poolSize: 4 }, tables: ['t'], pollIntervalMs: 20 },
    transport: { kind: 'direct' },
    target: { connection: { dialect: 'postgres', url: dst.url, poolSize: 4 } },
  });
  const pipeline = await runPipeline(cfg, log);
  closers.push(() => pipeline.stop());
  const ep = await openEndpoints(cfg, {}, closers);
  // Opened once, as the schedule inside `sluice run` does: opening the embedded store per run
  // would stall this process's event loop (the pipeline's too) for its start-up each time.
  const state = await openStateStore({ dataDir: join(dir, 'state', 'state') });
  closers.push(() => state.close());

  await workload(src, 2); // warm-up
  const a = await workload(src, SECONDS);
  await new Promise((r) => setTimeout(r, 1000));
  const runs: Array<{ ms: number; drift: number; inFlight: number }> = [];
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const t0 = performance.now();
      const report = await reconcileFromConfig(cfg, log, ep, { repair: false, state });
      const t = report.tables[0]!;
      if (t.error) throw new Error(t.error);
      runs.push({ ms: Math.round(performance.now() - t0), drift: t.missing + t.extra + t.different, inFlight: t.inFlight });
    }
  })();
  const b = await workload(src, SECONDS);
  stop = true;
  await loop;
  await new Promise((r) => setTimeout(r, 2000));
  const lagA = await lag(dst, a.from, a.to);
  const lagB = await lag(dst, b.from, b.to);
  const result = {
    bench: 'reconcile-live',
    rows: ROWS,
    rate: RATE,
    seconds: SECONDS,
    without_reconcile: lagA,
    with_reconcile: lagB,
    extra_p50_ms: Math.round((lagB.p50_ms - lagA.p50_ms) * 10) / 10,
    extra_p99_ms: Math.round((lagB.p99_ms - lagA.p99_ms) * 10) / 10,
    reconcile_runs: runs.length,
    reconcile_ms: runs.map((r) => r.ms),
    drift_reported: runs.reduce((n, r) => n + r.drift, 0),
    in_flight_reported: runs.reduce((n, r) => n + r.inFlight, 0),
  };
  console.log(JSON.stringify(result));
  console.log(
    `| reconcile-live ${ROWS} rows, ${RATE} changes/s | lag p50/p99 ${lagA.p50_ms}/${lagA.p99_ms} ms alone, ${lagB.p50_ms}/${lagB.p99_ms} ms during ${runs.length} reconcile runs (${runs.map((r) => r.ms).join(', ')} ms) | extra p50 ${result.extra_p50_ms} ms, p99 ${result.extra_p99_ms} ms | drift reported: ${result.drift_reported} |`,
  );
  if (result.drift_reported > 0) process.exitCode = 1;
} finally {
  for (const c of closers.reverse()) await c().catch(() => {});
  await src.drop();
  await dst.drop();
  rmSync(dir, { recursive: true, force: true });
}
