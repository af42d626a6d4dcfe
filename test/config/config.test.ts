import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseConfig, redactConfig } from '../../src/config/load.js';
import { configReference } from '../../src/config/reference.js';
import { isSluiceError } from '../../src/core/errors.js';
import { consumerOptions } from '../../src/pipeline/run.js';

const base = {
  name: 'coupons',
  source: { connector: 'outbox', connection: { dialect: 'postgres', url: 'postgres://app:${PGPASS}@db/shop' }, tables: ['coupon', { name: 'coupon_history' }] },
  transport: { kind: 'kafka', brokers: ['127.0.0.1:9092'], topic: 'retail.coupons' },
  target: { connection: { dialect: 'mysql', url: 'mysql://root@127.0.0.1/main' } },
};

test('a valid config gets its defaults and its ${VAR} substituted', () => {
  const c = parseConfig(base, { PGPASS: 's3cret' });
  assert.equal(c.source.connection?.url, 'postgres://app:s3cret@db/shop');
  assert.equal(c.apply.concurrency, 16);
  assert.equal(c.state.dataDir, './.sluice');
  assert.equal(c.transport.kind === 'kafka' && c.transport.subjectStrategy, 'TopicRecordNameStrategy');
});

test('an error names the key path and what was expected', () => {
  const bad = structuredClone(base) as Record<string, any>;
  bad.apply = { concurrency: 0 };
  bad.target.connection = { dialect: 'postgres' };
  assert.throws(() => parseConfig(bad, { PGPASS: 'x' }), (e) => {
    assert.ok(isSluiceError(e, 'SLUICE_ERR_CONFIG'));
    assert.match(e.message, /apply\.concurrency: .*(>=|at least|too small).*1/i);
    assert.match(e.message, /target\.connection\.url: url is required for dialect postgres/);
    return true;
  });
});

test('unknown keys and wrong enum values are named', () => {
  const bad = structuredClone(base) as Record<string, any>;
  bad.source.tabels = [];
  bad.transport.driver = 'rdkafka';
  assert.throws(() => parseConfig(bad, { PGPASS: 'x' }), (e) => isSluiceError(e) && /source: unknown key "tabels"/.test(e.message) && /transport\.driver/.test(e.message));
  const arr = structuredClone(base) as Record<string, any>;
  arr.source.tables = ['coupon', { name: 'h', keyColumns: [] }];
  assert.throws(() => parseConfig(arr, { PGPASS: 'x' }), (e) => isSluiceError(e) && /source\.tables\[1\]/.test(e.message));
});

test('transport.consumer: defaults, its key paths in errors, and what the consumer gets', () => {
  const c = parseConfig(base, { PGPASS: 'x' });
  assert.ok(c.transport.kind === 'kafka');
  const o = consumerOptions(c, c.transport);
  assert.deepEqual(
    { groupId: o.groupId, lanes: o.lanes, maxInFlight: o.maxInFlight, commitIntervalMs: o.commitIntervalMs, sessionTimeout: o.sessionTimeout, maxWaitTimeInMs: o.maxWaitTimeInMs, fromBeginning: o.fromBeginning },
    { groupId: 'sluice-coupons', lanes: 16, maxInFlight: 10_000, commitIntervalMs: 1_000, sessionTimeout: 30_000, maxWaitTimeInMs: 500, fromBeginning: true },
  );
  const tuned = structuredClone(base) as Record<string, any>;
  tuned.apply = { concurrency: 8 };
  tuned.transport.consumer = { lanes: 4, maxInFlight: 500, commitIntervalMs: 200, fromBeginning: false };
  const t = parseConfig(tuned, { PGPASS: 'x' });
  assert.ok(t.transport.kind === 'kafka');
  const to = consumerOptions(t, t.transport);
  assert.deepEqual([to.concurrency, to.lanes, to.maxInFlight, to.commitIntervalMs, to.fromBeginning], [8, 8, 500, 200, false], 'lanes never below apply.concurrency');
  const bad = structuredClone(base) as Record<string, any>;
  bad.transport.consumer = { maxInFlight: 0, sessionTimeoutMs: 5_000, heartbeatIntervalMs: 6_000 };
  assert.throws(() => parseConfig(bad, { PGPASS: 'x' }), (e) => isSluiceError(e) && /transport\.consumer\.maxInFlight/.test(e.message));
  bad.transport.consumer.maxInFlight = 10;
  assert.throws(() => parseConfig(bad, { PGPASS: 'x' }), (e) => isSluiceError(e) && /transport\.consumer\.heartbeatIntervalMs: .*below sessionTimeoutMs/.test(e.message));
});

test('a missing environment variable names the key that uses it', () => {
  assert.throws(() => parseConfig(base, {}), (e) => isSluiceError(e, 'SLUICE_ERR_CONFIG') && e.message === 'source.connection.url: environment variable PGPASS is not set');
});

test('secrets are masked when the config is printed', () => {
  const c = parseConfig({ ...base, registry: { url: 'http://r', password: 'pw', token: 'tk' } }, { PGPASS: 's3cret' });
  const shown = JSON.stringify(redactConfig(c));
  assert.ok(!shown.includes('s3cret') && !shown.includes('"pw"') && !shown.includes('tk'), shown);
  assert.match(shown, /postgres:\/\/app:\*\*\*@db\/shop/);
});

test('docs/config.md is generated from the schema and up to date (npm run docs)', () => {
  assert.equal(readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8'), configReference());
});
