/**
 * The SDK against a real capture API server: calls of one tick go out as one request in call order;
 * 503 is retried, 4xx is not; a refused change fails alone; a dead server fails within the bound;
 * nothing ever throws into the caller or rejects, and onError's own failures are swallowed.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { pino } from 'pino';
import { SluiceError } from '../../../src/core/errors.js';
import { createCaptureApi, type CaptureApi, type CapturedChange } from '../../../src/capture/api/index.js';
import {
  CAPTURE_REJECTED,
  CAPTURE_UNAVAILABLE,
  createCapture,
  type CaptureOptions,
  type SdkChange,
} from '../../../src/capture/sdk/index.js';
import { TABLES, couponRow } from '../api/tables.js';

const TOKEN = 'sdk-test-token';
const fast = { retryInitialMs: 1, retryMaxMs: 2 } satisfies Partial<CaptureOptions>;

const unhandled: unknown[] = [];
process.on('unhandledRejection', (err) => unhandled.push(err));

/** A pino logger into memory. */
function memoryLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
  return { logger, lines };
}

describe('capture SDK', () => {
  let api: CaptureApi;
  let url: string;
  let batches: CapturedChange[][];
  let statuses: number[];
  /** accept fails (retriably) this many more times. */
  let failures: number;

  before(async () => {
    api = createCaptureApi({
      tables: TABLES,
      token: TOKEN,
      bodyLimit: 16 * 1024,
      logger: false,
      accept: async (changes) => {
        if (failures > 0) {
          failures--;
          throw new SluiceError('SLUICE_ERR_STORE', 'outbox briefly unavailable', { retriable: true });
        }
        batches.push(changes);
      },
    });
    api.app.addHook('onResponse', async (req, reply) => {
      if (req.url === '/v1/changes') statuses.push(reply.statusCode);
    });
    url = await api.listen(0);
  });
  after(() => api.close());
  beforeEach(() => {
    batches = [];
    statuses = [];
    failures = 0;
  });
  afterEach(() => assert.deepEqual(unhandled, []));

  const ids = (b: CapturedChange[]) => b.map((c) => `${c.op}:${c.table.name}:${Object.values(c.key).join('/')}`);

  test('calls of one tick go out as one request, in call order; maxBatch splits them, order kept', async () => {
    const capture = createCapture({ url, token: TOKEN });
    const coupon = capture.table('coupon');
    const entry = capture.table('ledger.entry');
    const results = [
      coupon.insert(couponRow(1)),
      entry.insert({ account: 1, seq: 9007199254740993n, amount: '0.1' }),
      coupon.update(couponRow(1, { redeemed_count: 1 }), { context: 'redeem' }),
      coupon.delete({ id: 1 }),
      entry.delete({ account: 1, seq: 9007199254740993n }),
    ];
    assert.deepEqual(await Promise.all(results), Array(5).fill({ ok: true }));
    assert.equal(batches.length, 1);
    assert.deepEqual(ids(batches[0]!), [
      'c:coupon:1',
      'c:entry:1/9007199254740993',
      'u:coupon:1',
      'd:coupon:1',
      'd:entry:1/9007199254740993',
    ]);
    assert.equal(batches[0]![2]!.context, 'redeem');

    const small = createCapture({ url, token: TOKEN, maxBatch: 4 });
    batches = [];
    const many = Array.from({ length: 10 }, (_, i) => small.table('coupon').insert(couponRow(i)));
    await small.flush();
    assert.deepEqual(await Promise.all(many), Array(10).fill({ ok: true }));
    assert.deepEqual(
      batches.map((b) => b.length),
      [4, 4, 2],
    );
    assert.deepEqual(
      batches.flat().map((c) => c.key.id),
      Array.from({ length: 10 }, (_, i) => BigInt(i)),
    );
    assert.deepEqual(small.stats, { sent: 10, failed: 0, retried: 0 });
    await Promise.all([capture.close(), small.close()]);
  });

  test('values keep their precision on the way: bigint, Buffer, Date, nested json', async () => {
    const capture = createCapture({ url, token: TOKEN });
    const r = await capture.table('coupon').insert(
      couponRow(0, {
        id: 2n ** 62n,
        image: Buffer.from([255, 0]),
        valid_until: new Date('2024-05-01T00:00:00.250Z'),
        meta: { big: 2n ** 64n },
      }),
    );
    assert.deepEqual(r, { ok: true });
    const row = batches[0]![0]!.row!;
    assert.equal(row.id, 2n ** 62n);
    assert.deepEqual(row.image, Buffer.from([255, 0]));
    assert.equal(row.valid_until, '2024-05-01T00:00:00.250000Z');
    assert.equal(row.meta, '{"big":"18446744073709551616"}');
    await capture.close();
  });

  test('503 is retried with backoff until accepted', async () => {
    failures = 2;
    const errors: unknown[] = [];
    const capture = createCapture({ url, token: TOKEN, ...fast, onError: (e) => errors.push(e) });
    const results = [capture.table('coupon').insert(couponRow(1)), capture.table('coupon').insert(couponRow(2))];
    assert.deepEqual(await Promise.all(results), [{ ok: true }, { ok: true }]);
    assert.deepEqual(statuses, [503, 503, 200]);
    assert.equal(batches.length, 1);
    assert.deepEqual(capture.stats, { sent: 2, failed: 0, retried: 4 });
    assert.deepEqual(errors, []);
    await capture.close();
  });

  test('a refused change is not retried, is reported to onError with the field, and its neighbours still go', async () => {
    const reported: Array<{ err: SluiceError; changes: SdkChange[] }> = [];
    const capture = createCapture({ url, token: TOKEN, ...fast, onError: (err, changes) => reported.push({ err, changes }) });
    const coupon = capture.table('coupon');
    const results = await Promise.all([
      coupon.insert(couponRow(1)),
      coupon.insert(couponRow(2, { discount: 'lots' })),
      coupon.insert(couponRow(3)),
    ]);
    assert.deepEqual(results[0], { ok: true });
    assert.deepEqual(results[2], { ok: true });
    const bad = results[1]!;
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok);
    assert.equal(bad.error.code, CAPTURE_REJECTED);
    assert.equal(bad.error.retriable, false);
    assert.match(bad.error.message, /coupon insert: row\.discount: expected a decimal/);
    assert.equal(bad.error.context.field, 'row.discount');
    assert.equal(reported.length, 1);
    assert.equal(reported[0]!.err, bad.error);
    assert.deepEqual(reported[0]!.changes, [{ table: 'coupon', op: 'c', row: couponRow(2, { discount: 'lots' }) }]);
    assert.deepEqual(statuses, [400, 200]); // the 400 was not sent again; the valid two were, once
    assert.deepEqual(ids(batches[0]!), ['c:coupon:1', 'c:coupon:3']);
    assert.deepEqual(capture.stats, { sent: 2, failed: 1, retried: 0 });
    await capture.close();
  });

  test('a wrong token is final: 401 is not retried', async () => {
    const capture = createCapture({ url, token: 'wrong', ...fast });
    const r = await capture.table('coupon').delete({ id: 1 });
    assert.ok(!r.ok);
    assert.match(r.error.message, /401/);
    assert.deepEqual(statuses, [401]); // sent once
    assert.deepEqual(capture.stats, { sent: 0, failed: 1, retried: 0 });
  });

  test('a request over the body limit is split in halves until it fits, order kept', async () => {
    const capture = createCapture({ url, token: TOKEN });
    const results = Array.from({ length: 60 }, (_, i) => capture.table('coupon').insert(couponRow(i, { description: 'd'.repeat(400) })));
    assert.ok((await Promise.all(results)).every((r) => r.ok));
    assert.ok(statuses.includes(413));
    assert.deepEqual(
      batches.flat().map((c) => c.key.id),
      Array.from({ length: 60 }, (_, i) => BigInt(i)),
    );
    assert.equal(capture.stats.sent, 60);
  });

  test('a dead server: {ok: false} after the bounded retries, never a rejection', async () => {
    const port = await closedPort();
    const reported: SluiceError[] = [];
    const { logger, lines } = memoryLogger();
    const capture = createCapture({
      url: `http://127.0.0.1:${port}`,
      token: TOKEN,
      retries: 3,
      ...fast,
      logger,
      onError: (e) => reported.push(e),
    });
    const [a, b] = await Promise.all([capture.table('coupon').insert(couponRow(1)), capture.table('coupon').delete({ id: 1 })]);
    assert.ok(!a.ok && !b.ok);
    assert.equal(a.error, b.error); // one request, one failure
    assert.equal(a.error.code, CAPTURE_UNAVAILABLE);
    assert.equal(a.error.retriable, true);
    assert.match(a.error.message, /could not be reached: ECONNREFUSED/);
    assert.deepEqual(capture.stats, { sent: 0, failed: 2, retried: 6 });
    assert.equal(reported.length, 1);
    assert.ok(lines.some((l) => l.level === 40 && /not delivered/.test(l.msg)));
    assert.ok(!JSON.stringify(lines).includes(TOKEN));
    await capture.close();
  });

  test('onError throwing or rejecting is swallowed and logged', async () => {
    const { logger, lines } = memoryLogger();
    let calls = 0;
    const throwing = createCapture({
      url,
      token: 'wrong',
      logger,
      onError: () => {
        calls++;
        throw new Error('handler bug');
      },
    });
    const r = await throwing.table('coupon').delete({ id: 1 });
    assert.equal(r.ok, false);
    const rejecting = createCapture({
      url,
      token: 'wrong',
      logger,
      onError: (async () => {
        calls++;
        throw new Error('async handler bug');
      }) as () => void,
    });
    const s = await rejecting.table('coupon').delete({ id: 1 });
    assert.equal(s.ok, false);
    await new Promise((resolve) => setImmediate(resolve)); // let the rejected handler's promise settle
    assert.equal(calls, 2);
    assert.ok(lines.some((l) => l.msg === 'capture: onError threw'));
    assert.ok(lines.some((l) => l.msg === 'capture: onError rejected'));
  });

  test('calls that cannot be sent resolve {ok: false} and never throw synchronously', async () => {
    const capture = createCapture({ url, token: TOKEN });
    const circular: Record<string, unknown> = { id: 1 };
    circular.self = circular;
    const coupon = capture.table('coupon');
    const results = await Promise.all([
      coupon.insert(null as unknown as Record<string, unknown>),
      coupon.update(circular),
      capture.table(undefined as unknown as string).delete({ id: 1 }),
      coupon.delete([] as unknown as Record<string, unknown>),
    ]);
    for (const r of results) {
      assert.ok(!r.ok);
      assert.equal(r.error.code, CAPTURE_REJECTED);
    }
    assert.equal(capture.stats.failed, 4);
    await capture.close();
    const late = await coupon.insert(couponRow(1));
    assert.ok(!late.ok);
    assert.match(late.error.message, /closed/);
    assert.equal(statuses.length, 0); // none of them was sent
  });
});

test('createCapture refuses a url that is not one', () => {
  assert.throws(() => createCapture({ url: 'not a url' }), /is not a URL/);
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}
