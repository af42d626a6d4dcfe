// The `sluice` command itself: --version and -v print the version package.json declares.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

test('sluice --version and -v print the version', async () => {
  for (const flag of ['--version', '-v']) {
    const r = await exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', flag]);
    assert.equal(r.stdout, `${version}\n`, flag);
  }
});

test('sluice run starts with one line that says what the pipeline connects, secrets cut', async () => {
  const { describePipeline } = await import('../../src/cli/run.js');
  const { parseConfig } = await import('../../src/config/load.js');
  const cfg = parseConfig({
    name: 'coupons',
    source: {
      connector: 'outbox',
      connection: { dialect: 'postgres', url: 'postgres://app:s3cret@db:5432/shop' },
      tables: ['coupon', 'coupon_history'],
    },
    transport: { kind: 'kafka', brokers: ['k1:9092', 'k2:9092'], topic: 'retail.coupons' },
    target: { connection: { dialect: 'mysql', url: 'mysql://root:pw@main:3306/main' } },
  });
  assert.equal(
    describePipeline(cfg),
    'coupons: outbox postgres://app:***@db:5432/shop (2 tables) → kafka k1:9092,k2:9092 topic retail.coupons → mysql://root:***@main:3306/main',
  );
});
