// The README's log-capture example as written: examples/postgres-log/setup.sh, rows written by
// plain psql, `sluice check` and `sluice run` with examples/postgres-log/sluice.yaml as a
// least-privilege role (REPLICATION + SELECT) through a real Kafka broker into MariaDB, then
// `sluice reconcile` with the same config finds no drift between PostgreSQL and MariaDB.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { MYSQL_WHAT, POSTGRES_WHAT, mysqlAvailable, postgresLogicalAvailable } from '../support/databases.js';
import { kafkaSkipReason, startKafka, waitFor, type KafkaCluster } from '../support/kafka.js';
import { skipUnless } from '../support/services.js';

const exec = promisify(execFile);
const CONFIG = 'examples/postgres-log/sluice.yaml';

const skip =
  skipUnless(await postgresLogicalAvailable(), `${POSTGRES_WHAT} with wal_level=logical`) ||
  skipUnless(await mysqlAvailable(), MYSQL_WHAT) ||
  (await kafkaSkipReason());

describe('the log-capture example (PostgreSQL log → Kafka → MariaDB)', { skip }, () => {
  let kafka: KafkaCluster;
  let env: NodeJS.ProcessEnv;
  let run: ChildProcess | undefined;
  let src: pg.Pool;
  let dst: mysql.Pool;

  before(
    async () => {
      // A broker of its own: the example's topic and group names are fixed, and records left on a
      // shared broker by an earlier run would be applied again.
      kafka = await startKafka({ dedicated: true });
      env = { ...process.env, KAFKA_BOOTSTRAP: kafka.brokers.join(','), SLUICE_LOG_LEVEL: 'warn', SLUICE_LOG_FORMAT: 'json' };
      await exec('bash', ['examples/postgres-log/setup.sh', '--drop'], { env });
      await exec('bash', ['examples/postgres-log/setup.sh'], { env });
      src = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/coupons_log_src', max: 2 });
      dst = mysql.createPool({ uri: 'mysql://root@127.0.0.1:3306/coupons_log_main', connectionLimit: 2 });
    },
    { timeout: 600_000 },
  );

  after(async () => {
    if (run && run.exitCode === null) {
      const gone = new Promise((r) => run!.once('exit', r));
      run.kill('SIGKILL');
      await gone;
    }
    await src?.end();
    await dst?.end();
    await exec('bash', ['examples/postgres-log/setup.sh', '--drop'], { env }).catch(() => {});
    await kafka?.stop();
  });

  const sluice = async (args: string[]) => {
    try {
      const r = await exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env });
      return { code: 0, out: r.stdout + r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: e.stdout + e.stderr };
    }
  };

  test('check passes, run replicates what psql writes, reconcile finds no drift', { timeout: 600_000 }, async () => {
    // Rows that exist before sluice first runs: copied by the initial snapshot.
    await src.query(`INSERT INTO coupon (id, code, discount, description, valid_until, created_at)
      SELECT g, 'C-' || g, (g % 50) + 0.99, CASE WHEN g % 3 = 0 THEN NULL ELSE 'coupon ' || g END, now() + g * interval '1 day', now()
      FROM generate_series(1, 500) g`);
    const checked = await sluice(['check', '-c', CONFIG]);
    assert.equal(checked.code, 0, checked.out);

    run = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '-c', CONFIG], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    run.stdout!.on('data', (d) => (out += String(d)));
    run.stderr!.on('data', (d) => (out += String(d)));
    // Streamed: inserts, updates, deletes, a row's history, all by plain SQL.
    await src.query(`INSERT INTO coupon (id, code, discount, created_at) VALUES (1000, 'SPRING', 12.50, now())`);
    await src.query(`UPDATE coupon SET redeemed_count = redeemed_count + 1 WHERE id % 7 = 0`);
    await src.query(
      `INSERT INTO coupon_history (id, coupon_id, event, amount, happened_at) SELECT g, g, 'redeemed', g / 4.0, now() FROM generate_series(1, 100) g`,
    );
    await src.query(`DELETE FROM coupon WHERE id % 25 = 0`);
    const count = async (t: string) => Number(((await dst.query(`SELECT count(*) AS n FROM ${t}`))[0] as Array<{ n: number }>)[0]!.n);
    const want = Number((await src.query(`SELECT count(*)::int AS n FROM coupon`)).rows[0].n);
    try {
      await waitFor(
        async () => (await count('coupon')) === want && (await count('coupon_history')) === 100,
        'MariaDB to hold every row',
        300_000,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; sluice run said:\n${out.slice(-2000)}`);
    }

    const rec = await sluice(['reconcile', '-c', CONFIG]);
    assert.equal(rec.code, 0, `reconcile found drift or failed:\n${rec.out}`);
  });
});
