// PostgreSQL log capture as a user runs it: `sluice check` runs the connector's prerequisites,
// `sluice run` killed with SIGKILL while streaming and while snapshotting resumes to a target equal
// to the source, the slot's confirmed position never ahead of what the target holds, and
// `sluice slot drop` only with the slot's name repeated.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { POSTGRES_WHAT, postgresLogicalAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { sluiceCli } from '../support/cli.js';
import { skipUnless } from '../support/services.js';
import { waitFor } from '../support/kafka.js';

describe(
  'sluice with a PostgreSQL log source',
  { skip: skipUnless(await postgresLogicalAvailable(), `${POSTGRES_WHAT} with wal_level=logical`) },
  () => {
    let src: ScratchPostgres;
    let dst: ScratchPostgres;
    let state: ScratchPostgres;
    const dir = mkdtempSync(join(tmpdir(), 'sluice-logcli-'));
    const children = new Set<ChildProcess>();
    let cfgFile = '';

    before(async () => {
      src = await scratchPostgres();
      dst = await scratchPostgres();
      state = await scratchPostgres();
      const ddl = 'CREATE TABLE item (id bigint PRIMARY KEY, v integer NOT NULL, note text)';
      await src.pool.query(ddl);
      await dst.pool.query(ddl);
      cfgFile = join(dir, 'sluice.yaml');
      writeFileSync(
        cfgFile,
        [
          'name: logcli',
          `state: { url: "${state.url}" }`,
          'observe: { enabled: false }',
          `source: { connector: postgres, connection: { dialect: postgres, url: "${src.url}" }, tables: [item], snapshotChunkRows: 2000 }`,
          'transport: { kind: direct }',
          `target: { connection: { dialect: postgres, url: "${dst.url}" } }`,
        ].join('\n'),
      );
    });
    after(async () => {
      for (const c of children) c.kill('SIGKILL');
      await src?.drop();
      await dst?.drop();
      await state?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    function run(): { child: ChildProcess; output: () => string } {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '-c', cfgFile], {
        env: { ...process.env, SLUICE_LOG_LEVEL: 'info', SLUICE_LOG_FORMAT: 'json' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      child.on('exit', () => children.delete(child));
      let out = '';
      child.stdout!.on('data', (d) => (out += String(d)));
      child.stderr!.on('data', (d) => (out += String(d)));
      return { child, output: () => out };
    }

    async function kill(child: ChildProcess): Promise<void> {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }

    const text = async (pool: pg.Pool) =>
      (await pool.query(`SELECT coalesce(string_agg(t::text, ',' ORDER BY id), '') AS t FROM item t`)).rows[0].t as string;

    /** Everything committed up to now, as the slot claims once its confirmed position passes it, is on the target. */
    async function durableMeansApplied(child: ChildProcess): Promise<void> {
      const now = (await src.pool.query(`SELECT pg_current_wal_lsn()::text AS l`)).rows[0].l as string;
      await waitFor(
        async () =>
          (
            await src.pool.query(
              `SELECT confirmed_flush_lsn >= $1::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = 'sluice_logcli'`,
              [now],
            )
          ).rows[0]?.ok === true,
        `the slot confirmed past ${now}`,
        120_000,
      );
      await kill(child); // nothing can reach the target after this
      assert.equal(
        await text(dst.pool),
        await text(src.pool),
        `the slot was confirmed past ${now} but the target lacks changes committed before it`,
      );
    }

    test("sluice check runs the log source's prerequisites", { timeout: 120_000 }, async () => {
      const r = await sluiceCli(['check', '-c', cfgFile]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /ok\s+source postgres prerequisites/);
    });

    test(
      'SIGKILL during the snapshot, then during streaming: after each restart the target equals the source',
      { timeout: 600_000 },
      async () => {
        await src.pool.query(`INSERT INTO item SELECT g, 0, md5(g::text) FROM generate_series(1, 200000) g`);
        await src.pool.query('ANALYZE item');
        const first = run();
        await waitFor(
          async () => {
            const r = (
              await state.pool.query(`SELECT value_json FROM sluice_source_progress WHERE pipeline = 'logcli'`).catch(() => ({ rows: [] }))
            ).rows[0] as { value_json: string } | undefined;
            return !!r && JSON.parse(r.value_json).rows >= 10_000;
          },
          'a few snapshot chunks durable',
          240_000,
        );
        await kill(first.child);
        const second = run();
        // Streaming writes while the snapshot finishes and after.
        let writing = true;
        const writer = (async () => {
          for (let i = 1; writing; i++) await src.pool.query(`UPDATE item SET v = v + 1 WHERE id = $1`, [((i * 7919) % 200000) + 1]);
        })();
        await waitFor(
          () => second.output().includes('streaming changes from the replication slot'),
          'the snapshot to finish and streaming to start',
          300_000,
        );
        assert.match(second.output(), /snapshot resumes after the last durable chunk/);
        await waitFor(
          async () => (await dst.pool.query(`SELECT count(*)::int AS n FROM item WHERE v > 0`)).rows[0].n > 50,
          'streamed updates applied',
          120_000,
        );
        await kill(second.child); // mid-stream, writes still going
        writing = false;
        await writer;
        const third = run();
        await waitFor(async () => (await text(src.pool)) === (await text(dst.pool)), 'target equal to source after the restart', 300_000);
        await durableMeansApplied(third.child);
      },
    );

    test(
      'SIGTERM while writes stream drains and exits 0, a second signal exits at once; after a restart the target equals the source',
      { timeout: 300_000 },
      async () => {
        const exited = (c: ChildProcess) => new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
        let writing = true;
        const writer = (async () => {
          for (let i = 1; writing; i++) await src.pool.query(`UPDATE item SET v = v + 1 WHERE id = $1`, [((i * 104729) % 200000) + 1]);
        })();
        const first = run();
        await waitFor(() => first.output().includes('streaming changes from the replication slot'), 'streaming to start', 240_000);
        const code = exited(first.child);
        first.child.kill('SIGTERM');
        assert.equal(await code, 0, first.output().slice(-2000));
        assert.match(first.output(), /"msg":"stopped"/);
        // A stop that cannot finish (a target row locked under a batch): the second signal ends it.
        const locker = await dst.pool.connect();
        try {
          await locker.query('BEGIN');
          await locker.query('SELECT * FROM item WHERE id = 1 FOR UPDATE');
          const second = run();
          await waitFor(() => second.output().includes('streaming changes from the replication slot'), 'streaming to start', 240_000);
          await src.pool.query(`UPDATE item SET v = v + 1 WHERE id = 1`);
          await waitFor(
            async () =>
              (
                await dst.pool.query(
                  `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
                )
              ).rows[0].n > 0,
            'an apply blocked on the locked row',
            120_000,
          );
          const code2 = exited(second.child);
          second.child.kill('SIGTERM');
          await waitFor(() => second.output().includes('"msg":"stopping"'), 'the drain to start');
          second.child.kill('SIGTERM');
          assert.equal(await code2, 130);
        } finally {
          await locker.query('ROLLBACK').catch(() => {});
          locker.release();
        }
        writing = false;
        await writer;
        const third = run();
        await waitFor(async () => (await text(src.pool)) === (await text(dst.pool)), 'target equal to source after the restart', 240_000);
        await kill(third.child);
      },
    );

    test('sluice slot drop needs the slot name repeated', { timeout: 120_000 }, async () => {
      const refused = await sluiceCli(['slot', 'drop', '-c', cfgFile]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.out, /--confirm sluice_logcli/);
      const exists = async () =>
        (await src.pool.query(`SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = 'sluice_logcli'`)).rows[0].n;
      assert.equal(await exists(), 1);
      const dropped = await sluiceCli(['slot', 'drop', '-c', cfgFile, '--confirm', 'sluice_logcli']);
      assert.equal(dropped.code, 0, dropped.out);
      assert.equal(await exists(), 0);
    });
  },
);
