// PostgreSQL log capture end to end against the machine's PostgreSQL (wal_level=logical, set by
// .ci/run): rows written by plain SQL (no SDK, no outbox) are snapshotted and streamed from a
// replication slot into another database; every type at its limits, TOAST, a changed primary key,
// deletes, a 10,000-row transaction never seen half-applied, a snapshot that resumes after a stop,
// an idle slot that still advances, TRUNCATE refused, the prerequisites named with their fix, and
// the Kafka path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { runPipeline, type RunningPipeline } from '../../../src/pipeline/run.js';
import { prerequisiteProblems } from '../../../src/capture/postgres/setup.js';
import { introspectPostgres, readRows } from '../../../src/metadata/index.js';
import type { Row } from '../../../src/core/table-schema.js';
import {
  MYSQL_URL,
  MYSQL_WHAT,
  POSTGRES_WHAT,
  createTableSql,
  mysqlAvailable,
  postgresLogicalAvailable,
  scratchMysql,
  scratchPostgres,
  type ScratchPostgres,
} from '../../support/databases.js';
import { ALL_TYPES_ROWS, ALL_TYPES_TABLE } from '../../support/all-types.js';
import { sluiceCli } from '../../support/cli.js';
import { kafkaSkipReason, startKafka, uniqueName, waitFor, type KafkaCluster } from '../../support/kafka.js';
import { skipUnless } from '../../support/services.js';

const skip = skipUnless(await postgresLogicalAvailable(), `${POSTGRES_WHAT} with wal_level=logical`);

/** Every row of `table` as text, in key order: equal text means equal tables. */
async function tableText(pool: pg.Pool, table: string): Promise<string> {
  const r = await pool.query(`SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY id), '') AS t FROM ${table} t`);
  return r.rows[0].t as string;
}

describe('PostgreSQL log capture', { skip }, () => {
  let src: ScratchPostgres;
  let dst: ScratchPostgres;
  let state: ScratchPostgres;
  const running: RunningPipeline[] = [];
  const logs: string[] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, cb) {
        logs.push(String(chunk));
        cb();
      },
    }),
  );

  before(async () => {
    src = await scratchPostgres();
    dst = await scratchPostgres();
    state = await scratchPostgres();
  });
  after(async () => {
    for (const p of running) await p.stop().catch(() => {});
    await src?.drop();
    await dst?.drop();
    await state?.drop();
  });

  async function start(
    name: string,
    tables: string[],
    source: Record<string, unknown> = {},
    transport: Record<string, unknown> = { kind: 'direct' },
  ): Promise<RunningPipeline> {
    const cfg = parseConfig({
      name,
      state: { url: state.url },
      observe: { enabled: false },
      source: { connector: 'postgres', connection: { dialect: 'postgres', url: src.url }, tables, ...source },
      transport,
      target: { connection: { dialect: 'postgres', url: dst.url } },
    });
    const p = await runPipeline(cfg, log);
    running.push(p);
    p.done.catch(() => {}); // a test that expects a failure awaits it itself
    return p;
  }

  async function startWith(name: string, tables: string[], evolve: boolean): Promise<RunningPipeline> {
    const cfg = parseConfig({
      name,
      state: { url: state.url },
      observe: { enabled: false },
      source: { connector: 'postgres', connection: { dialect: 'postgres', url: src.url }, tables },
      transport: { kind: 'direct' },
      target: { connection: { dialect: 'postgres', url: dst.url }, evolve },
    });
    const p = await runPipeline(cfg, log);
    running.push(p);
    p.done.catch(() => {});
    return p;
  }

  /** The config `start` uses, written to a file for the CLI. */
  async function configFile(name: string, tables: string[], source: Record<string, unknown> = {}): Promise<string> {
    const file = join(tmpdir(), `sluice-logcap-${process.pid}-${name}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        name,
        state: { url: state.url },
        observe: { enabled: false },
        source: { connector: 'postgres', connection: { dialect: 'postgres', url: src.url }, tables, ...source },
        transport: { kind: 'direct' },
        target: { connection: { dialect: 'postgres', url: dst.url } },
      }),
    );
    return file;
  }

  async function converged(table: string): Promise<void> {
    let last = '';
    await waitFor(
      async () => {
        const [a, b] = await Promise.all([tableText(src.pool, table), tableText(dst.pool, table)]);
        last = `source:\n${a.slice(0, 500)}\ntarget:\n${b.slice(0, 500)}`;
        return a === b;
      },
      `target ${table} equal to source (${last})`,
      120_000,
    );
  }

  test('every type, written by plain SQL: the snapshot and the stream make the target equal the source', { timeout: 180_000 }, async () => {
    const ddl = `
      CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
      CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
      CREATE TABLE typed (
        id bigint PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision,
        n numeric(38,10), nn numeric, t text, vc varchar(20), ch char(5), js json, jb jsonb, by bytea, u uuid,
        d date, tm time, ts timestamp, tz timestamptz, b boolean, m mood, p positive_int,
        ai integer[], at text[], iv interval, ip inet, big text)`;
    await src.pool.query(ddl);
    await dst.pool.query(ddl);
    const row = (
      id: number,
      k: number,
    ) => `(${id}, ${k % 2 ? 32767 : -32768}, ${k % 2 ? 2147483647 : -2147483648}, ${k % 2 ? '9223372036854775807' : '-9223372036854775808'},
      ${k % 2 ? '3.4028235e38' : '1.17549435e-38'}, ${k % 2 ? '1.7976931348623157e308' : '5e-324'},
      '${k % 2 ? '9999999999999999999999999999.9999999999' : '-0.0000000001'}', '${k % 2 ? '123456789012345678901234567890.123456789' : 'NaN'}',
      E'multi\\nline ''quoted'' ünïcödé ${id}', 'varchar ${id}', 'ab', '{"b": 1, "a": [1.50, null]}', '{"z": {"y": 1}, "a": "x"}',
      '\\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1${k % 10}', '${k % 2 ? '0001-01-01' : '9999-12-31'}', '23:59:59.999999',
      '2026-03-29 01:30:00.000001', '${k % 2 ? '1970-01-01 00:00:00.000001+00' : '2038-01-19 03:14:08.999999+05:30'}', ${k % 2 === 0},
      '${['sad', 'ok', 'happy'][k % 3]}', ${k + 1}, '{1,NULL,${k}}', ARRAY['a "quoted" one', 'b,c', NULL],
      '${k} days 01:02:03.000004', '${k % 2 ? '192.168.0.1/24' : '::1'}', NULL)`;
    // Before the pipeline starts: copied by the snapshot.
    await src.pool.query(`INSERT INTO typed VALUES ${[1, 2, 3, 4].map((i) => row(i, i)).join(', ')}`);
    await src.pool.query(`INSERT INTO typed (id) VALUES (5)`); // every other column NULL
    await start('types', ['typed']);
    await converged('typed');
    // After: streamed from the log.
    await src.pool.query(`INSERT INTO typed VALUES ${[10, 11, 12].map((i) => row(i, i)).join(', ')}`);
    await src.pool.query(`UPDATE typed SET big = repeat('toast-me ', 12000) WHERE id = 10`); // ~100 KB, stored out of line
    await src.pool.query(`UPDATE typed SET t = 'only t changed' WHERE id = 10`); // big is "unchanged TOAST" in the log
    await src.pool.query(`UPDATE typed SET id = 100 WHERE id = 11`); // a changed primary key
    await src.pool.query(`DELETE FROM typed WHERE id = 12`);
    await src.pool.query(
      `BEGIN; UPDATE typed SET i4 = 1 WHERE id = 1; UPDATE typed SET i4 = 2 WHERE id = 1; UPDATE typed SET i4 = 3 WHERE id = 1; COMMIT`,
    );
    await converged('typed');
    const big = await dst.pool.query(`SELECT length(big) AS n FROM typed WHERE id = 10`);
    assert.equal(big.rows[0].n, 'toast-me '.length * 12000, 'the TOASTed value survived an update of another column');
    assert.equal(
      (await dst.pool.query(`SELECT count(*)::int AS n FROM typed WHERE id IN (11, 12)`)).rows[0].n,
      0,
      'the old key of the moved row and the deleted row are gone',
    );
  });

  test('a 10,000-row source transaction among small ones: a reader of the target never sees half of it', { timeout: 180_000 }, async () => {
    await src.pool.query(`CREATE TABLE bulk (id bigint PRIMARY KEY, tag text NOT NULL, v integer)`);
    await dst.pool.query(`CREATE TABLE bulk (id bigint PRIMARY KEY, tag text NOT NULL, v integer)`);
    await start('bulk', ['bulk'], { snapshot: 'never' });
    const seen = new Set<number>();
    let watching = true;
    const watcher = (async () => {
      while (watching) seen.add((await dst.pool.query(`SELECT count(*)::int AS n FROM bulk WHERE tag = 'big'`)).rows[0].n);
    })();
    for (let i = 0; i < 20; i++) await src.pool.query(`INSERT INTO bulk VALUES ($1, 'small', 0)`, [1_000_000 + i]);
    await src.pool.query(`INSERT INTO bulk SELECT g, 'big', g FROM generate_series(1, 10000) g`);
    for (let i = 20; i < 40; i++) await src.pool.query(`INSERT INTO bulk VALUES ($1, 'small', 0)`, [1_000_000 + i]);
    await converged('bulk');
    watching = false;
    await watcher;
    assert.deepEqual(
      [...seen].filter((n) => n !== 0 && n !== 10_000),
      [],
      `the target showed part of the transaction: counts seen ${[...seen].join(', ')}`,
    );
  });

  test(
    'a 2,000,000-row transaction streamed while in progress is applied with bounded memory; an aborted one leaves nothing',
    { timeout: 600_000 },
    async () => {
      await src.pool.query(`CREATE TABLE huge (id bigint PRIMARY KEY, v text NOT NULL)`);
      await dst.pool.query(`CREATE TABLE huge (id bigint PRIMARY KEY, v text NOT NULL)`);
      const spoolDir = join(tmpdir(), `sluice-test-spool-${process.pid}`);
      await start('huge', ['huge'], { snapshot: 'never', decodingWorkMem: '1MB', spoolDir, maxTransactionChanges: 20_000 });
      let peak = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 50);
      try {
        const base = process.memoryUsage().rss;
        await src.pool.query(`INSERT INTO huge SELECT g, md5(g::text) || md5((g + 1)::text) FROM generate_series(1, 2000000) g`);
        await src.pool.query(`BEGIN; INSERT INTO huge SELECT g, 'rolled back' FROM generate_series(2000001, 2200000) g; ROLLBACK`);
        await src.pool.query(`INSERT INTO huge VALUES (0, 'after both')`);
        await waitFor(
          async () => (await dst.pool.query(`SELECT count(*)::int AS n FROM huge WHERE id = 0`)).rows[0].n === 1,
          'the row committed after both',
          540_000,
        );
        assert.equal(
          (await dst.pool.query(`SELECT count(*)::int AS n FROM huge`)).rows[0].n,
          2_000_001,
          'every row of the committed transaction, none of the aborted one',
        );
        clearInterval(sampler);
        // Holding the 2,000,000 changes as events would take several gigabytes.
        assert.ok(peak - base < 300 * 1024 * 1024, `resident memory grew by ${Math.round((peak - base) / 1048576)} MiB`);
        // Compared inside the databases: the tables' text would be hundreds of megabytes here.
        const digest = async (pool: pg.Pool) =>
          (await pool.query(`SELECT md5(string_agg(t::text, E'\\n' ORDER BY id)) AS h FROM huge t`)).rows[0].h as string;
        assert.equal(await digest(dst.pool), await digest(src.pool));
        assert.ok(
          logs.some((l) => l.includes('streamed while in progress')),
          'the server streamed the large transaction before its commit',
        );
        assert.deepEqual(readdirSync(spoolDir), [], 'spool files are removed once their transaction is applied or aborted');
      } finally {
        clearInterval(sampler);
      }
    },
  );

  test(
    'a column added while writes continue: with target.evolve the target gains it; without, only that table dead-letters',
    { timeout: 240_000 },
    async () => {
      for (const t of ['grow', 'grow_fixed', 'steady']) {
        await src.pool.query(
          `CREATE TABLE ${t} (id bigint PRIMARY KEY, v integer, total numeric(10,2) GENERATED ALWAYS AS (v * 2) STORED)`,
        );
        await dst.pool.query(
          `CREATE TABLE ${t} (id bigint PRIMARY KEY, v integer, total numeric(10,2) GENERATED ALWAYS AS (v * 2) STORED)`,
        );
      }
      const evolving = await startWith('grow', ['grow'], true);
      const fixed = await startWith('growfixed', ['grow_fixed', 'steady'], false);
      let n = 0;
      const write = async () => {
        n++;
        for (const t of ['grow', 'grow_fixed', 'steady']) await src.pool.query(`INSERT INTO ${t} (id, v) VALUES ($1, $2)`, [n, n]);
      };
      for (let i = 0; i < 20; i++) await write();
      await src.pool.query(`ALTER TABLE grow ADD COLUMN label text; ALTER TABLE grow_fixed ADD COLUMN label text`);
      for (let i = 0; i < 20; i++) {
        await write();
        await src.pool.query(
          `UPDATE grow SET label = 'l' || id WHERE id = $1; UPDATE grow_fixed SET label = 'l' || id WHERE id = $1`.replaceAll(
            '$1',
            String(n),
          ),
        );
      }
      await converged('grow');
      await converged('steady');
      assert.equal(
        (await dst.pool.query(`SELECT count(*)::int AS n FROM grow WHERE label IS NOT NULL`)).rows[0].n,
        20,
        "the new column's values arrived",
      );
      const dead = (await dst.pool.query(`SELECT table_name, error_message FROM sluice_dead_letters WHERE status = 'open'`)).rows as Array<{
        table_name: string;
        error_message: string;
      }>;
      assert.ok(
        dead.length > 0 && dead.every((d) => d.table_name.endsWith('grow_fixed') && /"label"/.test(d.error_message)),
        `only grow_fixed's changes dead-letter, naming the column: ${JSON.stringify(dead.slice(0, 3))}`,
      );
      assert.equal(
        (await dst.pool.query(`SELECT count(*)::int AS n FROM grow_fixed`)).rows[0].n,
        20,
        'nothing of grow_fixed after the change was applied',
      );
      assert.equal(evolving.stats.deadLettered, 0);
      assert.ok(fixed.stats.deadLettered > 0);
      // Each change of shape is recorded once, with the position from which changes carry it.
      const history = async (name: string) => {
        const r = await sluiceCli(['schema', '-c', await configFile(name, ['steady']), '--json']);
        assert.equal(r.code, 0, r.out);
        return JSON.parse(r.out) as Array<{ table: string; position: string; added: Array<{ name: string }>; targetEvolved: boolean }>;
      };
      const grown = await history('grow');
      assert.deepEqual(
        grown.map((e) => [e.table, e.added.map((c) => c.name), e.targetEvolved]),
        [['public.grow', ['label'], true]],
      );
      assert.match(grown[0]!.position, /^[0-9A-F]+\/[0-9A-F]+/);
      assert.deepEqual(
        (await history('growfixed')).map((e) => [e.table, e.added.map((c) => c.name), e.targetEvolved]),
        [['public.grow_fixed', ['label'], false]],
      );
    },
  );

  test(
    "a column's type changed at the source (integer → bigint) while writes continue: later values are read with the new type",
    { timeout: 180_000 },
    async () => {
      // retype streams before the change (the stream has its old type); quiet only had its snapshot,
      // so the first Relation message the stream sends of it already carries the new type.
      for (const t of ['retype', 'quiet_retype']) {
        await src.pool.query(`CREATE TABLE ${t} (id bigint PRIMARY KEY, n integer, v text)`);
        await dst.pool.query(`CREATE TABLE ${t} (id bigint PRIMARY KEY, n integer, v text)`);
        await src.pool.query(`INSERT INTO ${t} SELECT g, g, 'before' FROM generate_series(1, 100) g`);
      }
      const p = await start('retype', ['retype', 'quiet_retype']);
      await src.pool.query(`UPDATE retype SET v = 'streamed' WHERE id <= 10`);
      await converged('retype');
      await converged('quiet_retype');
      for (const t of ['retype', 'quiet_retype']) {
        // The operator widens the column on both sides; the target's is done first, as a migration would.
        await dst.pool.query(`ALTER TABLE ${t} ALTER COLUMN n TYPE bigint`);
        await src.pool.query(`ALTER TABLE ${t} ALTER COLUMN n TYPE bigint`);
        await src.pool.query(`INSERT INTO ${t} VALUES (101, 5000000000, 'after'); UPDATE ${t} SET n = 6000000000 WHERE id = 1`);
      }
      await converged('retype');
      await converged('quiet_retype');
      assert.equal(p.stats.deadLettered, 0);
      const r = await sluiceCli(['schema', '-c', await configFile('retype', ['retype']), '--json']);
      const history = JSON.parse(r.out) as Array<{
        table: string;
        retyped: Array<{ name: string; from: { kind: string }; to: { kind: string } }>;
      }>;
      assert.deepEqual(history.map((e) => [e.table, e.retyped.map((c) => `${c.name} ${c.from.kind}→${c.to.kind}`)]).sort(), [
        ['public.quiet_retype', ['n int32→int64']],
        ['public.retype', ['n int32→int64']],
      ]);
    },
  );

  test(
    'with source.ddlMessages, each DDL statement on a replicated table is recorded at its position in the log',
    { timeout: 180_000 },
    async () => {
      await src.pool.query(`CREATE TABLE ddl_t (id bigint PRIMARY KEY, n integer, a text)`);
      await dst.pool.query(`CREATE TABLE ddl_t (id bigint PRIMARY KEY, n integer, a text)`);
      const opts = { ddlMessages: true };
      const cfg = await configFile('ddl', ['ddl_t'], opts);
      const before = await sluiceCli(['check', '-c', cfg]);
      assert.notEqual(before.code, 0, before.out);
      assert.match(before.out, /source\.ddlMessages/);
      assert.match(before.out, /sluice slot ddl install/);
      const installed = await sluiceCli(['slot', 'ddl', 'install', '-c', cfg]);
      assert.equal(installed.code, 0, installed.out);
      try {
        const p = await start('ddl', ['ddl_t'], opts);
        await src.pool.query(`INSERT INTO ddl_t VALUES (1, 1, 'one')`);
        await converged('ddl_t');
        await src.pool.query(`ALTER TABLE ddl_t ALTER COLUMN a SET DEFAULT 'x'`);
        await src.pool.query(`CREATE TABLE not_replicated (id int)`); // about no table of ours: not recorded
        await dst.pool.query(`ALTER TABLE ddl_t ALTER COLUMN n TYPE bigint`);
        await src.pool.query(
          `BEGIN; ALTER TABLE ddl_t ALTER COLUMN n TYPE bigint; INSERT INTO ddl_t (id, n) VALUES (2, 5000000000); COMMIT`,
        );
        await converged('ddl_t');
        assert.equal(p.stats.deadLettered, 0);
        const r = await sluiceCli(['schema', '-c', cfg, '--json']);
        assert.equal(r.code, 0, r.out);
        const history = JSON.parse(r.out) as Array<{
          table: string;
          position: string;
          ddl?: { tag: string; statement: string };
          retyped?: unknown[];
        }>;
        const ddl = history.filter((e) => e.ddl);
        assert.deepEqual(
          ddl.map((e) => [
            e.table,
            e.ddl!.tag,
            /SET DEFAULT/.test(e.ddl!.statement) ? 'default' : /TYPE bigint/.test(e.ddl!.statement) ? 'type' : e.ddl!.statement,
          ]),
          [
            ['public.ddl_t', 'ALTER TABLE', 'default'],
            ['public.ddl_t', 'ALTER TABLE', 'type'],
          ],
        );
        const lsn = (x: string) => {
          const [hi, lo] = x.split(/[/~#]/);
          return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
        };
        const retyped = history.find((e) => e.retyped?.length);
        assert.ok(retyped, JSON.stringify(history));
        assert.ok(lsn(ddl[0]!.position) < lsn(ddl[1]!.position), 'in log order');
        assert.ok(lsn(ddl[1]!.position) <= lsn(retyped.position), 'the statement is recorded at its own transaction, not after it');
      } finally {
        await sluiceCli(['slot', 'ddl', 'remove', '-c', cfg]);
      }
    },
  );

  test(
    'an incremental snapshot of a 200,000-row table under 500 updates/s repairs drift; no row ever goes back to an older version',
    { timeout: 600_000 },
    async () => {
      await src.pool.query(`CREATE TABLE inc (id bigint PRIMARY KEY, seq integer NOT NULL, v text)`);
      await dst.pool.query(`CREATE TABLE inc (id bigint PRIMARY KEY, seq integer NOT NULL, v text);
      CREATE TABLE inc_log (n bigserial PRIMARY KEY, id bigint NOT NULL, seq integer NOT NULL);
      CREATE FUNCTION inc_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO inc_log (id, seq) VALUES (NEW.id, NEW.seq); RETURN NEW; END $$;
      CREATE TRIGGER inc_log AFTER INSERT OR UPDATE ON inc FOR EACH ROW EXECUTE FUNCTION inc_log();`);
      await src.pool.query(`INSERT INTO inc SELECT g, 0, md5(g::text) FROM generate_series(1, 200000) g`);
      await start('inc', ['inc'], { snapshotChunkRows: 5000, statusIntervalMs: 200 });
      await converged('inc');
      // Drift made on the target behind sluice's back: rows lost, values changed.
      await dst.pool.query(`DELETE FROM inc WHERE id % 1000 = 7; UPDATE inc SET v = 'drifted' WHERE id % 1000 = 9`);
      let writing = true;
      const writer = (async () => {
        for (let i = 0; writing; i++) {
          const ids = Array.from({ length: 50 }, (_, j) => (((i * 50 + j) * 7919) % 200000) + 1);
          await src.pool.query(`UPDATE inc SET seq = seq + 1 WHERE id = ANY($1::bigint[])`, [ids]);
          await new Promise((r) => setTimeout(r, 100)); // ~500 updates/s: load, not a measurement
        }
      })();
      const requested = await sluiceCli([
        'snapshot',
        '-c',
        await configFile('inc', ['inc'], { snapshotChunkRows: 5000, statusIntervalMs: 200 }),
        '--table',
        'inc',
      ]);
      assert.equal(requested.code, 0, requested.out);
      const progress = async () =>
        (await state.pool.query(`SELECT value_json FROM sluice_source_progress WHERE pipeline = 'inc' AND item = 'incremental:public.inc'`))
          .rows[0]?.value_json as string | undefined;
      await waitFor(
        async () => {
          const p = await progress();
          return !!p && JSON.parse(p).done === true;
        },
        'the incremental snapshot to finish',
        300_000,
      );
      writing = false;
      await writer;
      await converged('inc');
      assert.ok(logs.some((l) => l.includes('incremental snapshot finished')));
      const back = (
        await dst.pool.query(
          `SELECT count(*)::int AS n FROM (SELECT seq < lag(seq) OVER (PARTITION BY id ORDER BY n) AS back FROM inc_log) x WHERE back`,
        )
      ).rows[0].n;
      assert.equal(back, 0, 'a row went back to an older version');
    },
  );

  test('an incremental snapshot paused, resumed and cancelled from the CLI', { timeout: 300_000 }, async () => {
    await src.pool.query(`CREATE TABLE ctl (id bigint PRIMARY KEY, v text)`);
    await dst.pool.query(`CREATE TABLE ctl (id bigint PRIMARY KEY, v text)`);
    await src.pool.query(`INSERT INTO ctl SELECT g, md5(g::text) FROM generate_series(1, 60000) g`);
    const opts = { snapshotChunkRows: 1000, statusIntervalMs: 200 };
    await start('ctl', ['ctl'], opts);
    await converged('ctl');
    await dst.pool.query(`DELETE FROM ctl WHERE id % 10 = 3`); // drift the snapshot repairs
    const cfg = await configFile('ctl', ['ctl'], opts);
    const cli = async (...args: string[]) => {
      const r = await sluiceCli(['snapshot', '-c', cfg, ...args]);
      return { ...r, out: r.out.trim() };
    };
    const rows = async () =>
      JSON.parse(
        (await state.pool.query(`SELECT value_json FROM sluice_source_progress WHERE pipeline = 'ctl' AND item = 'incremental:public.ctl'`))
          .rows[0].value_json,
      ) as { rows: number; done: boolean; cancelled?: boolean };
    const logged = (line: string) => waitFor(async () => logs.some((l) => l.includes(line)), `log: ${line}`);

    logs.length = 0;
    assert.equal((await cli('--table', 'ctl')).code, 0);
    await waitFor(async () => (await rows()).rows >= 3000, 'a few chunks copied');
    const paused = await cli('--table', 'ctl', '--pause');
    assert.equal(paused.code, 0, paused.out);
    await logged('incremental snapshot paused');
    const at = await rows();
    assert.equal(at.done, false);
    assert.match((await cli('--status')).out, /public\.ctl: paused, \d+ rows/);
    // The stream goes on while the snapshot waits: a write made now arrives, and no chunk is copied meanwhile.
    await src.pool.query(`UPDATE ctl SET v = 'while paused' WHERE id = 1`);
    await waitFor(
      async () => (await dst.pool.query(`SELECT v FROM ctl WHERE id = 1`)).rows[0]?.v === 'while paused',
      'the streamed change while paused',
    );
    assert.equal((await rows()).rows, at.rows, 'no chunk copied while paused');

    assert.equal((await cli('--table', 'ctl', '--resume')).code, 0);
    await waitFor(async () => (await rows()).done, 'the resumed snapshot to finish', 240_000);
    await converged('ctl');
    assert.ok(logs.some((l) => l.includes('incremental snapshot resumes')));

    logs.length = 0;
    assert.equal((await cli('--table', 'ctl')).code, 0);
    await waitFor(async () => (await rows()).rows >= 2000, 'the second request under way');
    assert.equal((await cli('--table', 'ctl', '--cancel')).code, 0);
    await logged('incremental snapshot cancelled');
    const cancelled = await rows();
    assert.equal(cancelled.cancelled, true);
    assert.ok(cancelled.rows < 60_000, `cancelled after ${cancelled.rows} rows`);
    assert.match((await cli('--status')).out, /public\.ctl: cancelled/);
    const again = await cli('--table', 'ctl', '--resume');
    assert.equal(again.code, 2);
    assert.match(again.out, /--resume: incremental snapshot of public\.ctl is cancelled, not paused/);
  });

  test('a table added to the config later is copied while the others keep streaming', { timeout: 300_000 }, async () => {
    for (const t of ['first_t', 'later_t']) {
      await src.pool.query(`CREATE TABLE ${t} (id bigint PRIMARY KEY, v text)`);
      await dst.pool.query(`CREATE TABLE ${t} (id bigint PRIMARY KEY, v text)`);
    }
    await src.pool.query(
      `INSERT INTO first_t SELECT g, 'a' FROM generate_series(1, 100) g; INSERT INTO later_t SELECT g, 'b' FROM generate_series(1, 30000) g`,
    );
    const before = await start('later', ['first_t'], { statusIntervalMs: 200 });
    await converged('first_t');
    await before.stop();
    logs.length = 0;
    const after = await start('later', ['first_t', 'later_t'], { statusIntervalMs: 200, snapshotChunkRows: 5000 });
    await src.pool.query(`UPDATE first_t SET v = 'streamed' WHERE id <= 10; UPDATE later_t SET v = 'changed' WHERE id % 1000 = 0`);
    try {
      await converged('first_t');
      await converged('later_t');
    } catch (err) {
      throw new Error(`${(err as Error).message}\nlog:\n${logs.slice(-15).join('')}`);
    }
    assert.ok(logs.some((l) => l.includes('copied by an incremental snapshot while streaming')));
    // later_t's 30,000 rows and the 40 updates; first_t's 100 rows are not copied again.
    assert.ok(after.stats.captured < 30_100, `captured ${after.stats.captured}`);
  });

  test('a slot still held by another process when sluice starts: it waits and takes over once released', { timeout: 180_000 }, async () => {
    await src.pool.query(`CREATE TABLE held (id bigint PRIMARY KEY, v text)`);
    await dst.pool.query(`CREATE TABLE held (id bigint PRIMARY KEY, v text)`);
    const first = await start('held', ['held']);
    await src.pool.query(`INSERT INTO held VALUES (1, 'first')`);
    await converged('held');
    const second = await start('held', ['held']); // its stream retries while the first holds the slot
    await first.stop();
    await src.pool.query(`INSERT INTO held VALUES (2, 'second')`);
    await converged('held');
    assert.ok(second.stats.captured >= 1);
  });

  test(
    'the replication connection lost mid-stream, inside a transaction streamed in progress too: sluice reconnects by itself and loses nothing',
    { timeout: 300_000 },
    async () => {
      await src.pool.query(`CREATE TABLE lost (id bigint PRIMARY KEY, v text NOT NULL)`);
      await dst.pool.query(`CREATE TABLE lost (id bigint PRIMARY KEY, v text NOT NULL)`);
      const spoolDir = join(tmpdir(), `sluice-test-spool-lost-${process.pid}`);
      logs.length = 0;
      const p = await start('lost', ['lost'], { decodingWorkMem: '64kB', spoolDir });
      let settled = false;
      p.done.then(
        () => (settled = true),
        () => (settled = true),
      );
      const walsender = async () =>
        (await src.pool.query(`SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = 'sluice_lost'`)).rows[0]?.pid as
          number | null;
      // A terminated walsender holds the slot until it has exited: each cut waits for the walsender
      // sluice reconnected with, not the one the last cut is still ending.
      let killed: number | null = null;
      const cut = async () => {
        let pid: number | null = null;
        await waitFor(async () => {
          pid = await walsender();
          return pid != null && pid !== killed;
        }, 'a walsender streaming the slot, not the one cut last');
        await src.pool.query(`SELECT pg_terminate_backend($1)`, [pid]);
        killed = pid;
      };
      await src.pool.query(`INSERT INTO lost SELECT g, 'before' FROM generate_series(1, 1000) g`);
      await converged('lost');

      // A transaction large enough to be streamed before its commit, cut while still open.
      const open = await src.pool.connect();
      try {
        await open.query(`BEGIN`);
        await open.query(`INSERT INTO lost SELECT g, md5(g::text) FROM generate_series(1001, 60000) g`);
        await open.query(`UPDATE lost SET v = 'in the big one' WHERE id <= 500`);
        await waitFor(
          async () =>
            ((await src.pool.query(`SELECT stream_txns FROM pg_stat_replication_slots WHERE slot_name = 'sluice_lost'`)).rows[0]
              ?.stream_txns ?? 0) > 0,
          'the open transaction streamed to sluice in progress',
        );
        await cut();
        await open.query(`COMMIT`);
      } finally {
        open.release();
      }
      await src.pool.query(`DELETE FROM lost WHERE id BETWEEN 501 AND 700`);
      await cut(); // again, between transactions, right after a large commit
      await src.pool.query(`UPDATE lost SET v = 'after' WHERE id > 59000`);
      await converged('lost');
      assert.equal(settled, false, 'the pipeline kept running');
      assert.ok(
        logs.filter((l) => l.includes('replication reconnected')).length >= 2,
        `reconnected after each cut; log:\n${logs.slice(-10).join('')}`,
      );
    },
  );

  test('a snapshot stopped midway resumes after its last durable chunk, not from the first row', { timeout: 300_000 }, async () => {
    await src.pool.query(`CREATE TABLE snap (id bigint PRIMARY KEY, v text)`);
    await dst.pool.query(`CREATE TABLE snap (id bigint PRIMARY KEY, v text)`);
    await src.pool.query(`INSERT INTO snap SELECT g, md5(g::text) FROM generate_series(1, 200000) g`);
    await src.pool.query(`ANALYZE snap`);
    const first = await start('snap', ['snap'], { snapshotChunkRows: 2000 });
    const progress = async () =>
      (await state.pool.query(`SELECT value_json FROM sluice_source_progress WHERE pipeline = 'snap'`)).rows[0]?.value_json as
        string | undefined;
    await waitFor(async () => {
      const p = await progress();
      return !!p && JSON.parse(p).rows >= 20_000;
    }, 'a few snapshot chunks durable');
    await first.stop();
    const stoppedAt = JSON.parse((await progress())!) as { rows: number; done: boolean };
    assert.equal(stoppedAt.done, false, 'stopped before the snapshot finished (make the table bigger if this fails)');
    // Writes while sluice is down: the stream from the slot carries them.
    await src.pool.query(`UPDATE snap SET v = 'changed while down' WHERE id IN (1, 150000)`);
    await src.pool.query(`DELETE FROM snap WHERE id = 2`);
    logs.length = 0;
    const second = await start('snap', ['snap'], { snapshotChunkRows: 2000 });
    await converged('snap');
    assert.ok(
      logs.some((l) => l.includes('snapshot resumes after the last durable chunk')),
      'the log says where the snapshot resumed',
    );
    assert.ok(
      second.stats.captured < 200_000 - stoppedAt.rows + 1_000,
      `the second run read ${second.stats.captured} changes: it started over`,
    );
  });

  test('replicated tables idle while another table churns: the slot still advances', { timeout: 120_000 }, async () => {
    await src.pool.query(`CREATE TABLE quiet (id bigint PRIMARY KEY); CREATE TABLE churn (id bigserial PRIMARY KEY, v text)`);
    await dst.pool.query(`CREATE TABLE quiet (id bigint PRIMARY KEY)`);
    await start('quiet', ['quiet']);
    for (let i = 0; i < 20; i++) await src.pool.query(`INSERT INTO churn (v) SELECT repeat('x', 100) FROM generate_series(1, 500)`);
    const end = (await src.pool.query(`SELECT pg_current_wal_lsn()::text AS l`)).rows[0].l as string;
    await waitFor(
      async () =>
        (
          await src.pool.query(
            `SELECT confirmed_flush_lsn >= $1::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = 'sluice_quiet'`,
            [end],
          )
        ).rows[0]?.ok === true,
      `the slot's confirmed position passing ${end}`,
    );
  });

  test("metrics: each table's snapshot progress and the WAL the slot keeps", { timeout: 120_000 }, async () => {
    await src.pool.query(`CREATE TABLE metered (id bigint PRIMARY KEY, v text)`);
    await dst.pool.query(`CREATE TABLE metered (id bigint PRIMARY KEY, v text)`);
    await src.pool.query(`INSERT INTO metered SELECT g, 'v' || g FROM generate_series(1, 3000) g`);
    const cfg = parseConfig({
      name: 'metered',
      state: { url: state.url },
      observe: { port: 0 },
      source: { connector: 'postgres', connection: { dialect: 'postgres', url: src.url }, tables: ['metered'], snapshotChunkRows: 1000 },
      transport: { kind: 'direct' },
      target: { connection: { dialect: 'postgres', url: dst.url } },
    });
    const p = await runPipeline(cfg, log);
    running.push(p);
    await converged('metered');
    const text = await (await fetch(`${p.observeUrl}/metrics`)).text();
    assert.match(text, /^sluice_snapshot_rows\{[^}]*table="public\.metered"[^}]*\} 3000$/m);
    assert.match(text, /^sluice_snapshot_done\{[^}]*table="public\.metered"[^}]*\} 1$/m);
    assert.match(text, /^sluice_source_retained_bytes\{[^}]*\} \d+$/m);
  });

  test('with source.truncate: apply, a TRUNCATE empties the target in order with the changes around it', { timeout: 120_000 }, async () => {
    await src.pool.query(`CREATE TABLE trunc2 (id bigint PRIMARY KEY, v text)`);
    await dst.pool.query(`CREATE TABLE trunc2 (id bigint PRIMARY KEY, v text)`);
    await start('trunc2', ['trunc2'], { truncate: 'apply' });
    await src.pool.query(`INSERT INTO trunc2 SELECT g, 'before' FROM generate_series(1, 100) g`);
    await converged('trunc2');
    await src.pool.query(
      `BEGIN; INSERT INTO trunc2 VALUES (500, 'in the same transaction, before'); TRUNCATE trunc2; INSERT INTO trunc2 VALUES (1, 'after'), (2, 'after'); COMMIT`,
    );
    await src.pool.query(`INSERT INTO trunc2 VALUES (3, 'later')`);
    await converged('trunc2');
    assert.equal((await dst.pool.query(`SELECT count(*)::int AS n FROM trunc2`)).rows[0].n, 3);
  });

  test('TRUNCATE of a replicated table is refused, naming the table and source.truncate', { timeout: 120_000 }, async () => {
    await src.pool.query(`CREATE TABLE trunc (id bigint PRIMARY KEY)`);
    await dst.pool.query(`CREATE TABLE trunc (id bigint PRIMARY KEY)`);
    const p = await start('trunc', ['trunc']);
    await src.pool.query(`INSERT INTO trunc VALUES (1)`);
    await converged('trunc');
    await src.pool.query(`TRUNCATE trunc`);
    await assert.rejects(p.done, (err: Error) => /TRUNCATE of public\.trunc/.test(err.message) && /source\.truncate/.test(err.message));
    assert.equal((await dst.pool.query(`SELECT count(*)::int AS n FROM trunc`)).rows[0].n, 1, 'nothing after the TRUNCATE was applied');
  });

  test(
    'prerequisites: a role without REPLICATION or SELECT is told the statements that fix it; REPLICATION + SELECT is enough',
    { timeout: 120_000 },
    async () => {
      const role = `sluice_t_role_${process.pid}`;
      await src.pool.query(`CREATE TABLE guarded (id bigint PRIMARY KEY)`);
      await src.pool.query(`CREATE ROLE ${role} LOGIN`);
      const url = new URL(src.url);
      url.username = role;
      const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
      try {
        const table = await introspectPostgres(src.pool, { name: 'guarded' });
        const problems = await prerequisiteProblems(pool, [table], { slot: 'sluice_guarded', publication: 'guarded_pub' }, false);
        const text = problems.map((p) => `${p.message} → ${p.fix}`).join('\n');
        assert.match(text, new RegExp(`ALTER ROLE "?${role}"? WITH REPLICATION`));
        assert.match(text, new RegExp(`GRANT SELECT ON "public"\\."guarded" TO "?${role}"?`));
        assert.match(text, /CREATE PUBLICATION "guarded_pub" FOR TABLE "public"\."guarded"/);
        await src.pool.query(
          `ALTER ROLE ${role} WITH REPLICATION; GRANT SELECT ON guarded TO ${role}; CREATE PUBLICATION guarded_pub FOR TABLE guarded`,
        );
        assert.deepEqual(await prerequisiteProblems(pool, [table], { slot: 'sluice_guarded', publication: 'guarded_pub' }, false), []);
      } finally {
        await pool.end();
        await src.pool.query(`DROP PUBLICATION IF EXISTS guarded_pub; REVOKE ALL ON guarded FROM ${role}; DROP ROLE IF EXISTS ${role}`);
      }
    },
  );
});

const kafkaSkip = skip || (await kafkaSkipReason());

describe('PostgreSQL log capture through Kafka', { skip: kafkaSkip }, () => {
  let kafka: KafkaCluster;
  let src: ScratchPostgres;
  let dst: ScratchPostgres;
  let state: ScratchPostgres;
  let p: RunningPipeline | undefined;
  before(
    async () => {
      kafka = await startKafka();
      src = await scratchPostgres();
      dst = await scratchPostgres();
      state = await scratchPostgres();
    },
    { timeout: 300_000 },
  );
  after(async () => {
    await p?.stop().catch(() => {});
    await kafka?.stop();
    await src?.drop();
    await dst?.drop();
    await state?.drop();
  });

  test('snapshot and stream through Avro on Kafka: target equals source', { timeout: 300_000 }, async () => {
    const ddl = `CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2), at timestamptz, note text)`;
    await src.pool.query(ddl);
    await dst.pool.query(ddl);
    await src.pool.query(`INSERT INTO orders SELECT g, g / 7.0, now(), 'n' || g FROM generate_series(1, 3000) g`);
    const cfg = parseConfig({
      name: 'pgkafka',
      state: { url: state.url },
      observe: { enabled: false },
      source: { connector: 'postgres', connection: { dialect: 'postgres', url: src.url }, tables: ['orders'] },
      transport: { kind: 'kafka', brokers: kafka.brokers, topic: uniqueName('pg'), partitions: 3 },
      registry: { port: 0 },
      target: { connection: { dialect: 'postgres', url: dst.url } },
    });
    p = await runPipeline(cfg, pino({ level: 'warn' }));
    await src.pool.query(`UPDATE orders SET note = 'updated' WHERE id % 10 = 0`);
    await src.pool.query(`DELETE FROM orders WHERE id % 100 = 1`);
    await src.pool.query(`INSERT INTO orders VALUES (5000, 1.25, '2020-02-29 12:00:00.000001+00', 'streamed')`);
    await waitFor(
      async () => (await tableText(src.pool, 'orders')) === (await tableText(dst.pool, 'orders')),
      'target equal to source',
      240_000,
    );
  });
});

describe(
  'PostgreSQL log capture into PostgreSQL and MariaDB, direct and through Kafka, every portable type',
  { skip: skip || skipUnless(await mysqlAvailable(), MYSQL_WHAT) },
  () => {
    let kafka: KafkaCluster | undefined;
    after(async () => {
      await kafka?.stop();
    });
    const byId = (a: Row, b: Row) => (BigInt(a.id as bigint) < BigInt(b.id as bigint) ? -1 : 1);
    const cols = ALL_TYPES_TABLE.columns.map((c) => c.name);
    const insert = (pool: pg.Pool, r: Record<string, unknown>) =>
      pool.query(
        `INSERT INTO all_types (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
        cols.map((c) => (typeof r[c] === 'bigint' ? String(r[c]) : (r[c] ?? null))),
      );

    for (const [to, kind] of [
      ['mysql', 'direct'],
      ['mysql', 'kafka'],
      ['postgres', 'kafka'],
    ] as const) {
      test(
        `${kind}: snapshot and stream make ${to === 'mysql' ? 'MariaDB' : 'PostgreSQL'} equal to the source`,
        { timeout: 300_000, skip: kind === 'kafka' && kafkaSkip },
        async () => {
          const src = await scratchPostgres();
          const dst = to === 'mysql' ? await scratchMysql() : await scratchPostgres();
          const state = await scratchPostgres();
          let p: RunningPipeline | undefined;
          try {
            await src.pool.query(createTableSql('postgres', ALL_TYPES_TABLE));
            await (dst as { pool: { query(sql: string): Promise<unknown> } }).pool.query(createTableSql(to, ALL_TYPES_TABLE));
            for (const r of ALL_TYPES_ROWS.slice(0, 2)) await insert(src.pool, r); // copied by the snapshot
            if (kind === 'kafka') kafka ??= await startKafka();
            const cfg = parseConfig({
              name: `pg_to_${to}_${kind}`,
              state: { url: state.url },
              observe: { enabled: false },
              source: { connector: 'postgres', connection: { dialect: 'postgres', url: src.url }, tables: ['all_types'] },
              transport:
                kind === 'kafka'
                  ? { kind: 'kafka', brokers: kafka!.brokers, topic: uniqueName('pgmaria'), partitions: 3 }
                  : { kind: 'direct' },
              ...(kind === 'kafka' ? { registry: { port: 0 } } : {}),
              target: {
                connection:
                  to === 'mysql'
                    ? { dialect: 'mysql', url: `${MYSQL_URL.replace(/\/$/, '')}/${dst.database}` }
                    : { dialect: 'postgres', url: (dst as ScratchPostgres).url },
              },
            });
            p = await runPipeline(cfg, pino({ level: 'warn' }));
            for (const r of ALL_TYPES_ROWS.slice(2)) await insert(src.pool, r); // streamed from the log
            await src.pool.query(`UPDATE all_types SET label = 'changed', body = repeat('b', 3000) WHERE id = 1`);
            await src.pool.query(`DELETE FROM all_types WHERE id = 2`);
            const source = { dialect: 'postgres' as const, connection: src.pool };
            const target =
              to === 'mysql'
                ? { dialect: 'mysql' as const, connection: (dst as Awaited<ReturnType<typeof scratchMysql>>).pool }
                : { dialect: 'postgres' as const, connection: (dst as ScratchPostgres).pool };
            let last = '';
            await waitFor(
              async () => {
                const [a, b] = await Promise.all([readRows(source, ALL_TYPES_TABLE), readRows(target, ALL_TYPES_TABLE)]);
                a.sort(byId);
                b.sort(byId);
                try {
                  assert.deepEqual(b, a);
                  return true;
                } catch (err) {
                  last = (err as Error).message.slice(0, 2000);
                  return false;
                }
              },
              'the target equal to the source',
              240_000,
            ).catch((err: Error) => {
              throw new Error(`${err.message}\n${last}`);
            });
            assert.equal(p.stats.deadLettered, 0);
          } finally {
            await p?.stop().catch(() => {});
            await src.drop();
            await dst.drop();
            await state.drop();
          }
        },
      );
    }
  },
);
