import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isConfigKey, loadConfigFile, parseConfig, redactConfig } from '../../src/config/load.js';
import { configReference } from '../../src/config/reference.js';
import { sourceConnection } from '../../src/config/schema.js';
import { isSluiceError } from '../../src/core/errors.js';
import { consumerOptions } from '../../src/pipeline/run.js';

const base = {
  name: 'coupons',
  source: {
    connector: 'outbox',
    connection: { dialect: 'postgres', url: 'postgres://app:${PGPASS}@db/shop' },
    tables: ['coupon', { name: 'coupon_history' }],
  },
  transport: { kind: 'kafka', brokers: ['127.0.0.1:9092'], topic: 'retail.coupons' },
  target: { connection: { dialect: 'mysql', url: 'mysql://root@127.0.0.1/main' } },
};

test('a valid config gets its defaults and its ${VAR} substituted', () => {
  const c = parseConfig(base, { PGPASS: 's3cret' });
  assert.equal(sourceConnection(c.source)?.url, 'postgres://app:s3cret@db/shop');
  assert.equal(c.apply.concurrency, 16);
  assert.equal(c.state.dataDir, './.sluice');
  assert.equal(c.transport.kind === 'kafka' && c.transport.subjectStrategy, 'TopicRecordNameStrategy');
});

test('an error names the key path and what was expected', () => {
  const bad = structuredClone(base) as Record<string, any>;
  bad.apply = { concurrency: 0 };
  bad.target.connection = { dialect: 'postgres' };
  assert.throws(
    () => parseConfig(bad, { PGPASS: 'x' }),
    (e) => {
      assert.ok(isSluiceError(e, 'SLUICE_ERR_CONFIG'));
      assert.match(e.message, /apply\.concurrency: .*(>=|at least|too small).*1/i);
      assert.match(e.message, /target\.connection\.url: url is required for dialect postgres/);
      return true;
    },
  );
});

test('unknown keys and wrong enum values are named', () => {
  const bad = structuredClone(base) as Record<string, any>;
  bad.source.tabels = [];
  bad.transport.driver = 'rdkafka';
  assert.throws(
    () => parseConfig(bad, { PGPASS: 'x' }),
    (e) => isSluiceError(e) && /source: unknown key "tabels"/.test(e.message) && /transport\.driver/.test(e.message),
  );
  const arr = structuredClone(base) as Record<string, any>;
  arr.source.tables = ['coupon', { name: 'h', keyColumns: [] }];
  assert.throws(
    () => parseConfig(arr, { PGPASS: 'x' }),
    (e) => isSluiceError(e) && /source\.tables\[1\]/.test(e.message),
  );
});

test('transport.consumer: defaults, its key paths in errors, and what the consumer gets', () => {
  const c = parseConfig(base, { PGPASS: 'x' });
  assert.ok(c.transport.kind === 'kafka');
  const o = consumerOptions(c, c.transport);
  assert.deepEqual(
    {
      groupId: o.groupId,
      lanes: o.lanes,
      maxInFlight: o.maxInFlight,
      commitIntervalMs: o.commitIntervalMs,
      sessionTimeout: o.sessionTimeout,
      maxWaitTimeInMs: o.maxWaitTimeInMs,
      fromBeginning: o.fromBeginning,
    },
    {
      groupId: 'sluice-coupons',
      lanes: 16,
      maxInFlight: 10_000,
      commitIntervalMs: 1_000,
      sessionTimeout: 10_000,
      maxWaitTimeInMs: 500,
      fromBeginning: true,
    },
  );
  const tuned = structuredClone(base) as Record<string, any>;
  tuned.apply = { concurrency: 8 };
  tuned.transport.consumer = { lanes: 4, maxInFlight: 500, commitIntervalMs: 200, fromBeginning: false };
  const t = parseConfig(tuned, { PGPASS: 'x' });
  assert.ok(t.transport.kind === 'kafka');
  const to = consumerOptions(t, t.transport);
  assert.deepEqual(
    [to.concurrency, to.lanes, to.maxInFlight, to.commitIntervalMs, to.fromBeginning],
    [8, 8, 500, 200, false],
    'lanes never below apply.concurrency',
  );
  const bad = structuredClone(base) as Record<string, any>;
  bad.transport.consumer = { maxInFlight: 0, sessionTimeoutMs: 5_000, heartbeatIntervalMs: 6_000 };
  assert.throws(
    () => parseConfig(bad, { PGPASS: 'x' }),
    (e) => isSluiceError(e) && /transport\.consumer\.maxInFlight/.test(e.message),
  );
  bad.transport.consumer.maxInFlight = 10;
  assert.throws(
    () => parseConfig(bad, { PGPASS: 'x' }),
    (e) => isSluiceError(e) && /transport\.consumer\.heartbeatIntervalMs: .*below sessionTimeoutMs/.test(e.message),
  );
});

test('a missing environment variable names the key that uses it', () => {
  assert.throws(
    () => parseConfig(base, {}),
    (e) => isSluiceError(e, 'SLUICE_ERR_CONFIG') && e.message === 'source.connection.url: environment variable PGPASS is not set',
  );
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

/** The message of the config error `fn` throws. */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(isSluiceError(e, 'SLUICE_ERR_CONFIG'), String(e));
    return e.message;
  }
  assert.fail('expected a config error');
}

test('a missing required key says "required", with its path', () => {
  const bad = structuredClone(base) as Record<string, any>;
  delete bad.transport.topic;
  delete bad.target;
  const m = configError(() => parseConfig(bad, { PGPASS: 'x' }));
  assert.match(m, /transport\.topic: required \(a string\)/);
  assert.match(m, /target: required \(an object\)/);
});

test('a value of the wrong type is shown as given', () => {
  const bad = structuredClone(base) as Record<string, any>;
  bad.apply = { batchSize: 'lots', concurrency: 0 };
  bad.source.tables = 'coupon';
  bad.source.connection.url = 5;
  bad.registry = { password: 42 };
  const m = configError(() => parseConfig(bad, { PGPASS: 'x' }));
  assert.match(m, /apply\.batchSize: expected a number, got "lots"/);
  assert.match(m, /apply\.concurrency: .*, got 0/);
  assert.match(m, /source\.tables: expected an array, got "coupon"/);
  assert.match(m, /source\.connection\.url: expected a string, got 5/);
  assert.match(m, /registry\.password: expected a string, got \*\*\*/, 'a secret is never echoed');
});

test('an unknown key suggests the nearest valid one', () => {
  const bad = structuredClone(base) as Record<string, any>;
  bad.source.conection = bad.source.connection;
  delete bad.source.connection;
  bad.transport.brokerz = ['x'];
  bad.transport.consumer = { lane: 2 };
  bad.target.connection.datadir = '/tmp';
  bad.aply = {};
  const m = configError(() => parseConfig(bad, { PGPASS: 'x' }));
  assert.match(m, /source: unknown key "conection" \(did you mean connection\?\)/);
  assert.match(m, /transport: unknown key "brokerz" \(did you mean brokers\?\)/, 'keys of the chosen transport kind');
  assert.match(m, /transport\.consumer: unknown key "lane" \(did you mean lanes\?\)/);
  assert.match(m, /target\.connection: unknown key "datadir" \(did you mean dataDir\?\)/);
  assert.match(m, /\(top level\): unknown key "aply" \(did you mean apply\?\)/);
  const kind = structuredClone(base) as Record<string, any>;
  kind.transport.kind = 'kafak';
  assert.match(
    configError(() => parseConfig(kind, { PGPASS: 'x' })),
    /transport\.kind: "kafak" is not one of kafka, direct \(did you mean kafka\?\)/,
  );
});

test('an empty config file says it is empty', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cfg-'));
  try {
    for (const [name, text] of [
      ['empty.yaml', ''],
      ['comments.yaml', '# nothing here yet\n'],
    ] as const) {
      const f = join(dir, name);
      writeFileSync(f, text);
      await assert.rejects(
        loadConfigFile(f),
        (e) => isSluiceError(e, 'SLUICE_ERR_CONFIG') && e.message.startsWith(`Config file ${f} is empty`),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('docs/config.md names each key as it is written in a config file', () => {
  const doc = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
  const keys = [...doc.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]!);
  assert.ok(keys.includes('transport.brokers') && keys.includes('transport.topic') && keys.includes('source.connection.url'));
  for (const k of keys) assert.ok(isConfigKey(k), `docs/config.md lists ${k}, which no config accepts`);
  assert.ok(!isConfigKey('transport.kafka.brokers'));
});
