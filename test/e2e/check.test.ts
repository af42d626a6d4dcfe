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
async function sluice(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, SLUICE_LOG_LEVEL: 'error' },
    });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}
const check = (file: string) => sluice('check', '-c', file);

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
    await src.pool.query(
      'CREATE TABLE coupon (id bigint PRIMARY KEY, code text NOT NULL, note text); CREATE TABLE nokey (a int); CREATE TABLE keyed (id bigint PRIMARY KEY, code text NOT NULL)',
    );
    await dst.pool.query(
      'CREATE TABLE coupon (id bigint PRIMARY KEY, code text NOT NULL); CREATE TABLE keyed (id bigint NOT NULL, code text PRIMARY KEY)',
    );
  });
  after(async () => {
    await src?.drop();
    await dst?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a config whose databases and tables fit passes every check', async () => {
    await dst.pool.query('ALTER TABLE coupon ADD COLUMN IF NOT EXISTS note text');
    const f = write('good.yaml', [
      'name: good',
      `source: { connector: outbox, connection: { dialect: postgres, url: "${src.url}" }, tables: [coupon] }`,
      'transport: { kind: direct }',
      `target: { connection: { dialect: postgres, url: "${dst.url}" } }`,
    ]);
    const r = await check(f);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /ok {4}source table coupon: 3 columns, key \(id\)/);
    assert.match(r.out, /all checks passed/);
  });

  test('a table without a key, a missing target column and an unreachable database are each named', async () => {
    await dst.pool.query('ALTER TABLE coupon DROP COLUMN IF EXISTS note');
    const f = write('bad.yaml', [
      'name: bad',
      `source: { connector: outbox, connection: { dialect: postgres, url: "${src.url}" }, tables: [coupon, nokey] }`,
      'transport: { kind: direct }',
      `target: { connection: { dialect: postgres, url: "${dst.url}" } }`,
    ]);
    const r = await check(f);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /FAIL {2}source\.tables\[1\] nokey: .*primary key/i);
    assert.match(r.out, /FAIL {2}target table coupon: Target table public\.coupon lacks column "note" of source table public\.coupon/);
    const down = write('down.yaml', [
      'name: down',
      `source: { connector: outbox, connection: { dialect: postgres, url: "${src.url}" }, tables: [coupon] }`,
      'transport: { kind: direct }',
      'target: { connection: { dialect: postgres, url: "postgres://postgres@127.0.0.1:1/none" } }',
    ]);
    const d = await check(down);
    assert.equal(d.code, 1);
    assert.match(d.out, /FAIL {2}target database: target\.connection: cannot connect to postgres:\/\/postgres@127\.0\.0\.1:1\/none/);
    assert.match(d.out, /check target\.connection\.url and that the server runs/);
  });

  test('a server that runs but lacks the named database is reported as such', async () => {
    const url = new URL(dst.url);
    url.pathname = `/${dst.database}_absent`;
    const f = write('nodb.yaml', [
      'name: nodb',
      `source: { connector: outbox, connection: { dialect: postgres, url: "${src.url}" }, tables: [coupon] }`,
      'transport: { kind: direct }',
      `target: { connection: { dialect: postgres, url: "${url}" } }`,
    ]);
    const r = await check(f);
    assert.equal(r.code, 1, r.out);
    assert.match(
      r.out,
      new RegExp(
        `FAIL {2}target database: .*the server is up but has no database "${dst.database}_absent": create it, or fix the database name in target\\.connection\\.url`,
      ),
    );
    assert.doesNotMatch(r.out, /that the server runs/);
  });

  test('a target keyed differently fails check with the message run fails with', { timeout: 120_000 }, async () => {
    const f = write('keyed.yaml', [
      'name: keyed',
      `source: { connector: outbox, connection: { dialect: postgres, url: "${src.url}" }, tables: [keyed] }`,
      'transport: { kind: direct }',
      `target: { connection: { dialect: postgres, url: "${dst.url}" } }`,
      'observe: { enabled: false }',
    ]);
    const run = await sluice('run', '--no-progress', '-c', f);
    assert.equal(run.code, 2, run.out);
    const refused = /^sluice: (Target table .*)$/m.exec(run.out)?.[1];
    assert.ok(refused, run.out);
    assert.match(refused, /is keyed by \(code\) but source table public\.keyed by \(id\)/);
    const r = await check(f);
    assert.equal(r.code, 1, r.out);
    assert.ok(r.out.includes(`FAIL  target table keyed: ${refused}`), r.out);
  });

  test('a config error names its key path', async () => {
    const f = write('typo.yaml', [
      'name: typo',
      'source: { connector: outbox, tables: [coupon] }',
      'transport: { kind: direct }',
      'target: { connection: { dialect: postgres } }',
    ]);
    const r = await check(f);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /target\.connection\.url: url is required for dialect postgres/);
  });
});
