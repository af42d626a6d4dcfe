// `sluice check` as a user runs it: every check passes on a good config; a bad one names what is
// wrong (the config key, the missing table or column) and exits 1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { skipUnless } from '../support/services.js';

const exec = promisify(execFile);
async function check(file: string): Promise<{ code: number; out: string }> {
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'check', '-c', file], { env: { ...process.env, SLUICE_LOG_LEVEL: 'error' } });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe('sluice check', { skip: skipUnless(await postgresAvailable(), POSTGRES_WHAT) }, () => {
  let src: ScratchPostgres;
  let dst: ScratchPostgres;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-check-'));
  const write = (name: string, lines: string[]) => {
    const f = join(dir, name);
    writeFileSync(f, lines.join('\n'));
    return f;
  };
  before(async () => {
    src = await scratchPostgres();
    dst = await scratchPostgres();
    await src.pool.query('CREATE TABLE coupon (id bigint PRIMARY KEY, code text NOT NULL, note text); CREATE TABLE nokey (a int)');
    await dst.pool.query('CREATE TABLE coupon (id bigint PRIMARY KEY, code text NOT NULL)');
  });
  after(async () => {
    await src?.drop();
    await dst?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a config whose databases and tables fit passes every check', async () => {
    await dst.pool.query('ALTER TABLE coupon ADD COLUMN IF NOT EXISTS note text');
    const f = write('good.yaml', ['name: good', `source: { connector: outbox, connection: { dialect: postgres, url: "${src.url}" }, tables: [coupon] }`, 'transport: { kind: direct }', `target: { connection: { dialect: postgres, url: "${dst.url}" } }`]);
    const r = await check(f);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /ok {4}source table coupon: 3 columns, key \(id\)/);
    assert.match(r.out, /all checks passed/);
  });

  test('a table without a key, a missing target column and an unreachable database are each named', async () => {
    await dst.pool.query('ALTER TABLE coupon DROP COLUMN IF EXISTS note');
    const f = write('bad.yaml', ['name: bad', `source: { connector: outbox, connection: { dialect: postgres, url: "${src.url}" }, tables: [coupon, nokey] }`, 'transport: { kind: direct }', `target: { connection: { dialect: postgres, url: "${dst.url}" } }`]);
    const r = await check(f);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /FAIL {2}source\.tables\[1\] nokey: .*primary key/i);
    assert.match(r.out, /FAIL {2}target table coupon: lacks column\(s\) note/);
    const down = write('down.yaml', ['name: down', `source: { connector: outbox, connection: { dialect: postgres, url: "${src.url}" }, tables: [coupon] }`, 'transport: { kind: direct }', 'target: { connection: { dialect: postgres, url: "postgres://postgres@127.0.0.1:1/none" } }']);
    const d = await check(down);
    assert.equal(d.code, 1);
    assert.match(d.out, /FAIL {2}target database: target\.connection: cannot connect to postgres:\/\/postgres@127\.0\.0\.1:1\/none/);
  });

  test('a config error names its key path', async () => {
    const f = write('typo.yaml', ['name: typo', 'source: { connector: outbox, tables: [coupon] }', 'transport: { kind: direct }', 'target: { connection: { dialect: postgres } }']);
    const r = await check(f);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /target\.connection\.url: url is required for dialect postgres/);
  });
});
