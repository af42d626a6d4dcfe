// A poison change (it breaks a target constraint) lands in the dead-letter table while other keys
// flow; its key's later changes wait behind it; `sluice dlq list` shows it and, once the cause is
// fixed, `sluice dlq replay` applies it and then the parked changes, in order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { loadConfigFile } from '../../src/config/load.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { createOutboxWriter } from '../../src/capture/outbox/writer.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { waitFor } from '../support/kafka.js';
import { skipUnless } from '../support/services.js';

const exec = promisify(execFile);
const cli = (...args: string[]) =>
  exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, SLUICE_LOG_LEVEL: 'error' } });

describe('dead letters end to end', { skip: skipUnless(await postgresAvailable(), POSTGRES_WHAT) }, () => {
  let src: ScratchPostgres;
  let dst: ScratchPostgres;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dlq-'));
  const configFile = join(dir, 'sluice.yaml');
  before(async () => {
    src = await scratchPostgres();
    dst = await scratchPostgres();
    const ddl = 'CREATE TABLE coupon (id bigint PRIMARY KEY, discount numeric(10,2) NOT NULL)';
    await src.pool.query(ddl);
    await dst.pool.query(`${ddl}; ALTER TABLE coupon ADD CONSTRAINT discount_cap CHECK (discount < 100)`);
    writeFileSync(
      configFile,
      [
        'name: dlq-e2e',
        'source:',
        '  connector: outbox',
        `  connection: { dialect: postgres, url: "${src.url}" }`,
        '  tables: [coupon]',
        '  pollIntervalMs: 20',
        // One change per batch: within a batch only a key's newest change is applied, and here the
        // poison change must be the newest when it is applied.
        '  batchSize: 1',
        'transport: { kind: direct }',
        `target: { connection: { dialect: postgres, url: "${dst.url}" } }`,
      ].join('\n'),
    );
  });
  after(async () => {
    await src?.drop();
    await dst?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('poison change dead-lettered, others flow, replay after the fix applies it and the parked ones', { timeout: 120_000 }, async () => {
    const writer = createOutboxWriter({ dialect: 'postgres' });
    await src.pool.query(writer.ddl);
    await writer.write(src.pool, [
      { table: 'coupon', op: 'c', row: { id: 1, discount: '500.00' } }, // breaks discount_cap on the target
      { table: 'coupon', op: 'c', row: { id: 2, discount: '5.00' } },
    ]);
    await writer.write(src.pool, [{ table: 'coupon', op: 'u', row: { id: 1, discount: '50.00' } }]); // parked behind the dead letter
    await writer.write(src.pool, [{ table: 'coupon', op: 'u', row: { id: 2, discount: '6.00' } }]);
    const pipeline = await runPipeline(await loadConfigFile(configFile), pino({ level: 'silent' }));
    try {
      await waitFor(
        async () => (await dst.pool.query('SELECT discount::text AS d FROM coupon WHERE id = 2')).rows[0]?.d === '6.00',
        'key 2 flows past the poison change',
      );
      await waitFor(() => pipeline.stats.deadLettered >= 2, 'the poison change and its parked successor counted');
    } finally {
      await pipeline.stop();
    }
    assert.equal((await dst.pool.query('SELECT count(*)::int AS n FROM coupon WHERE id = 1')).rows[0].n, 0);

    const list = JSON.parse((await cli('dlq', 'list', '-c', configFile, '--json')).stdout) as Array<{
      id: number;
      keyText: string;
      parked: number;
      errorMessage: string;
    }>;
    assert.equal(list.length, 1);
    assert.equal(list[0]!.parked, 1);
    assert.match(list[0]!.errorMessage, /discount_cap/);
    // Replaying before the fix fails again and keeps it open (exit code 1).
    await assert.rejects(cli('dlq', 'replay', String(list[0]!.id), '-c', configFile));
    await dst.pool.query('ALTER TABLE coupon DROP CONSTRAINT discount_cap');
    const replay = JSON.parse((await cli('dlq', 'replay', String(list[0]!.id), '-c', configFile, '--json')).stdout) as {
      released: number;
      open?: unknown;
    };
    assert.equal(replay.open, undefined);
    assert.equal(
      (await dst.pool.query('SELECT discount::text AS d FROM coupon WHERE id = 1')).rows[0].d,
      '50.00',
      'the parked update applied after the replayed insert',
    );
    assert.equal((await cli('dlq', 'list', '-c', configFile)).stdout.trim(), 'no open dead letters');
  });
});
