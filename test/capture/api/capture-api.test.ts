/**
 * POST /v1/changes over a real listening server and fetch: every refusal names the change and the
 * field and accepts nothing; values reach `accept` portable and exact; auth, body limits, malformed
 * JSON and a failing `accept` answer JSON without a stack trace.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { pino } from 'pino';
import { SluiceError } from '../../../src/core/errors.js';
import { createCaptureApi, type CaptureApi, type CapturedChange } from '../../../src/capture/api/index.js';
import { TABLES, coupon, couponRow, ledgerEntry } from './tables.js';

const TOKEN = 'tok-3f9a1c7e5b';

interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Headers;
}

/** Every answer is JSON; an error answer has no stack trace and says whether to retry. */
function checkAnswer(a: Answer): void {
  assert.match(a.headers.get('content-type') ?? '', /^application\/json/, a.text);
  assert.doesNotMatch(a.text, /\bat .+\.(ts|js):\d+/);
  if (a.status >= 400) {
    assert.equal(typeof a.body.error_code, 'string', a.text);
    assert.equal(typeof a.body.message, 'string', a.text);
    assert.equal(typeof a.body.retriable, 'boolean', a.text);
  }
}

describe('capture HTTP API', () => {
  let api: CaptureApi;
  let url: string;
  /** Every batch accept was called with, and the batches it kept (it keeps all or nothing). */
  let calls: CapturedChange[][];
  let kept: CapturedChange[][];
  let failWith: unknown;
  const logLines: string[] = [];

  const request = async (
    path: string,
    init: { method?: string; body?: string; token?: string | null; contentType?: string } = {},
  ): Promise<Answer> => {
    const headers: Record<string, string> = {};
    if (init.token !== null) headers.authorization = `Bearer ${init.token ?? TOKEN}`;
    if (init.body !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
    const res = await fetch(`${url}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const a = { status: res.status, body, text, headers: res.headers };
    checkAnswer(a);
    return a;
  };
  const post = (body: unknown, init: { token?: string | null; contentType?: string } = {}) =>
    request('/v1/changes', { ...init, body: typeof body === 'string' ? body : JSON.stringify(body) });

  before(async () => {
    const logger = pino({ level: 'debug' }, { write: (s: string) => void logLines.push(s) });
    api = createCaptureApi({
      tables: TABLES,
      token: TOKEN,
      bodyLimit: 64 * 1024,
      logger,
      accept: async (changes) => {
        calls.push(changes);
        if (failWith !== undefined) throw failWith;
        kept.push(changes);
      },
    });
    // Routes stay addable after creation (the pipeline adds /metrics, /readyz); they need the token.
    api.app.get('/extra', async () => ({ extra: true }));
    url = await api.listen(0);
  });
  after(() => api.close());
  beforeEach(() => {
    calls = [];
    kept = [];
    failWith = undefined;
  });

  test('GET /healthz answers ok without a token', async () => {
    const a = await request('/healthz', { token: null });
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, { status: 'ok' });
  });

  test('one change: 200 {accepted: 1}; values reach accept portable and exact', async () => {
    const a = await post({
      table: 'coupon',
      op: 'c',
      row: couponRow('9223372036854775807', {
        discount: '99999999.99',
        valid_until: '2024-03-01 10:00:00.123456+02',
        created_at: '2024-03-01T10:00:00.5',
        image: Buffer.from([0, 1, 254, 255]).toString('base64'),
        meta: { tags: ['a'], n: 1 },
      }),
      context: 'checkout #12',
    });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.body, { accepted: 1 });
    assert.equal(calls.length, 1);
    const [c] = calls[0]!;
    assert.equal(c!.table, coupon); // the caller's TableSchema object itself
    assert.equal(c!.op, 'c');
    assert.deepEqual(c!.key, { id: 9223372036854775807n }); // beyond 2^53, as bigint
    assert.equal(c!.context, 'checkout #12');
    const row = c!.row!;
    assert.equal(row.id, 9223372036854775807n);
    assert.equal(row.discount, '99999999.99'); // decimal kept as exact text
    assert.equal(row.valid_until, '2024-03-01T08:00:00.123456Z'); // UTC, microseconds
    assert.equal(row.created_at, '2024-03-01T10:00:00.500000');
    assert.deepEqual(row.image, Buffer.from([0, 1, 254, 255]));
    assert.equal(row.meta, '{"tags":["a"],"n":1}');
    assert.equal(row.description, null);
  });

  test('a batch keeps request order; insert/update/delete spellings, schema.name and delete by row are accepted', async () => {
    const a = await post({
      changes: [
        { table: 'coupon', op: 'insert', row: couponRow(1) },
        {
          table: 'ledger.entry',
          op: 'c',
          row: { account: 7, seq: '9007199254740993', amount: '-0.0000000001' },
          key: { account: 7, seq: 9007199254740993n.toString() },
        },
        { table: 'coupon', op: 'update', row: couponRow(1, { redeemed_count: 1 }), key: { id: '1' } },
        { table: 'archive.entry', op: 'd', row: { account: 7, seq: 1, amount: '1' } },
        { table: 'coupon', op: 'delete', key: { id: 1 } },
      ],
    });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.body, { accepted: 5 });
    assert.equal(calls.length, 1);
    const batch = calls[0]!;
    assert.deepEqual(
      batch.map((c) => [c.table.schema ?? '', c.table.name, c.op]),
      [
        ['', 'coupon', 'c'],
        ['ledger', 'entry', 'c'],
        ['', 'coupon', 'u'],
        ['archive', 'entry', 'd'],
        ['', 'coupon', 'd'],
      ],
    );
    assert.deepEqual(batch[1]!.key, { account: 7, seq: 9007199254740993n });
    assert.equal(batch[1]!.row!.amount, '-0.0000000001');
    assert.equal(batch[2]!.row!.redeemed_count, 1);
    assert.deepEqual(batch[3]!.key, { account: 7, seq: 1n });
    assert.equal(batch[3]!.row, undefined); // a delete keeps only the key
    assert.deepEqual(batch[4]!.key, { id: 1n });
  });

  test('an empty batch is accepted without calling accept', async () => {
    const a = await post({ changes: [] });
    assert.deepEqual([a.status, a.body], [200, { accepted: 0 }]);
    assert.equal(calls.length, 0);
  });

  test('400 names each invalid change and field, and nothing of the batch is accepted', async () => {
    const a = await post({
      changes: [
        { table: 'cupon', op: 'c', row: couponRow(1) }, // 0 unknown table
        { table: 'coupon', op: 'upsert', row: couponRow(2) }, // 1 unknown op
        { table: 'ledger.entry', op: 'd', key: { account: 1 } }, // 2 missing key column
        { table: 'coupon', op: 'u', key: { id: 4 }, row: couponRow(5) }, // 3 key disagrees with row
        { table: 'coupon', op: 'c', row: couponRow(6, { colour: 'red' }) }, // 4 unknown column
        { table: 'coupon', op: 'c', row: couponRow(7, { discount: '123456789.00' }) }, // 5 value does not fit decimal(10,2)
        { table: 'coupon', op: 'c', row: couponRow(8, { code: undefined }) }, // 6 a column missing from the row image
        { table: 'coupon', op: 'c', row: couponRow(9) }, // 7 valid
        { table: 'coupon', op: 'c', row: couponRow(10, { id: 2 ** 60 }) }, // 8 int64 beyond 2^53 as a JSON number
        { table: 'coupon', op: 'c', row: couponRow(11, { valid_until: '2024-03-01 10:00:00' }) }, // 9 timestamptz without a zone
        { table: 'coupon', op: 'c' }, // 10 no row
        { table: 'coupon', op: 'd' }, // 11 no key
        { table: 'entry', op: 'd', key: { account: 1, seq: 1 } }, // 12 ambiguous bare name
        { table: 'coupon', op: 'd', key: { id: 1, code: 'x' } }, // 13 non-key column in key
        { table: 'coupon', op: 'c', row: couponRow(14), extra: 1 }, // 14 unknown property
        'not a change', // 15
        { table: 'coupon', op: 'constructor', key: { id: 1 } }, // 16 not an op, though every object has it
      ],
    });
    assert.equal(a.status, 400, a.text);
    assert.equal(a.body.error_code, 'invalid_changes');
    assert.equal(a.body.retriable, false);
    assert.match(a.body.message, /16 changes are invalid; nothing was accepted/);
    assert.deepEqual(
      a.body.items.map((i: { index: number; field: string }) => [i.index, i.field]),
      [
        [0, 'changes[0].table'],
        [1, 'changes[1].op'],
        [2, 'changes[2].key.seq'],
        [3, 'changes[3].key.id'],
        [4, 'changes[4].row.colour'],
        [5, 'changes[5].row.discount'],
        [6, 'changes[6].row.code'],
        [8, 'changes[8].row.id'],
        [9, 'changes[9].row.valid_until'],
        [10, 'changes[10].row'],
        [11, 'changes[11].key'],
        [12, 'changes[12].table'],
        [13, 'changes[13].key.code'],
        [14, 'changes[14].extra'],
        [15, 'changes[15]'],
        [16, 'changes[16].op'],
      ],
    );
    const msg = (i: number) => a.body.items.find((p: { index: number }) => p.index === i).message as string;
    assert.match(msg(0), /unknown table "cupon" \(known: coupon, ledger\.entry, archive\.entry\)/);
    assert.match(msg(1), /unknown op "upsert"/);
    assert.match(msg(2), /is missing/);
    assert.match(msg(3), /is 4 but row\.id is 5/);
    assert.match(msg(4), /coupon has no column "colour"/);
    assert.match(msg(5), /does not fit decimal\(10,2\)/);
    assert.match(msg(12), /more than one schema/);
    assert.equal(calls.length, 0, 'accept must not be called');
  });

  test('one change: fields are named from the body itself', async () => {
    const a = await post({ table: 'coupon', op: 'c', row: couponRow(1, { discount: 'ten' }) });
    assert.equal(a.status, 400, a.text);
    assert.deepEqual(a.body.items, [
      { index: 0, field: 'row.discount', message: 'expected a decimal with at most 2 digits after the point, got "ten"' },
    ]);
    assert.equal(calls.length, 0);
  });

  test('a decimal sent as a JSON number that parsing would round is refused, not silently rounded', async () => {
    const text = `{"table":"ledger.entry","op":"c","row":{"account":1,"seq":1,"amount":1234567890123456789.0123456789}}`;
    const a = await post(text);
    assert.equal(a.status, 400, a.text);
    assert.deepEqual(
      a.body.items.map((i: { field: string }) => i.field),
      ['row.amount'],
    );
    assert.match(a.body.items[0].message, /send it as a string/);
    // The same value as text is exact.
    const b = await post({ table: 'ledger.entry', op: 'c', row: { account: 1, seq: 1, amount: '1234567890123456789.0123456789' } });
    assert.equal(b.status, 200, b.text);
    assert.equal(calls[0]![0]!.row!.amount, '1234567890123456789.0123456789');
  });

  test('a body that is not a change or a batch is 400 with the shape named', async () => {
    for (const body of ['[]', '"x"', '{"changes": {}}']) {
      const a = await post(body);
      assert.equal(a.status, 400, a.text);
      assert.equal(a.body.error_code, 'invalid_changes');
      assert.equal(a.body.items[0].index, null);
    }
    assert.equal(calls.length, 0);
  });

  test('malformed or empty JSON is 400 invalid_json', async () => {
    const a = await post('{"table": "coupon", "op": ');
    assert.equal(a.status, 400, a.text);
    assert.equal(a.body.error_code, 'invalid_json');
    assert.match(a.body.message, /not valid JSON/);
    const b = await post('');
    assert.deepEqual([b.status, b.body.error_code], [400, 'invalid_json']);
    assert.equal(calls.length, 0);
  });

  test('a body that is not application/json is 415', async () => {
    const a = await post({ table: 'coupon', op: 'd', key: { id: 1 } }, { contentType: 'text/plain' });
    assert.deepEqual([a.status, a.body.error_code], [415, 'unsupported_media_type']);
    const b = await post({ table: 'coupon', op: 'd', key: { id: 1 } }, { contentType: 'application/json; charset=utf-8' });
    assert.equal(b.status, 200, b.text);
  });

  test('a body over bodyLimit is 413 JSON and nothing is accepted', async () => {
    const changes = Array.from({ length: 400 }, (_, i) => ({
      table: 'coupon',
      op: 'c',
      row: couponRow(i, { description: 'x'.repeat(200) }),
    }));
    const a = await post({ changes });
    assert.equal(a.status, 413, a.text);
    assert.equal(a.body.error_code, 'body_too_large');
    assert.equal(calls.length, 0);
  });

  test('401 with WWW-Authenticate for a missing or wrong token, on every route but /healthz', async () => {
    for (const token of [null, 'wrong', `${TOKEN}x`, '']) {
      const a = await post({ table: 'coupon', op: 'd', key: { id: 1 } }, { token });
      assert.equal(a.status, 401, a.text);
      assert.equal(a.body.error_code, 'unauthorized');
      assert.equal(a.headers.get('www-authenticate'), 'Bearer realm="sluice-capture"');
    }
    assert.equal((await request('/extra', { token: null })).status, 401);
    assert.deepEqual((await request('/extra')).body, { extra: true });
    assert.equal(calls.length, 0);
  });

  test('accept failing (retriable) is 503 retriable with Retry-After; nothing is accepted', async () => {
    failWith = new Error('connection to 10.0.0.5 lost, password=hunter2');
    const a = await post({
      changes: [
        { table: 'coupon', op: 'c', row: couponRow(1) },
        { table: 'coupon', op: 'd', key: { id: 2 } },
      ],
    });
    assert.equal(a.status, 503, a.text);
    assert.equal(a.body.error_code, 'unavailable');
    assert.equal(a.body.retriable, true);
    assert.equal(a.headers.get('retry-after'), '1');
    assert.doesNotMatch(a.text, /hunter2|10\.0\.0\.5/); // a raw error's text is logged, not answered
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.length, 2); // accept saw the whole batch once, and kept none of it
    assert.equal(kept.length, 0);
  });

  test('accept failing with a retriable SluiceError is 503 and says why', async () => {
    failWith = new SluiceError('SLUICE_ERR_STORE', 'the outbox table is locked', { retriable: true });
    const a = await post({ table: 'coupon', op: 'd', key: { id: 2 } });
    assert.deepEqual([a.status, a.body.retriable], [503, true]);
    assert.match(a.body.message, /the outbox table is locked/);
  });

  test('accept failing with a non-retriable SluiceError is 500, not retriable', async () => {
    failWith = new SluiceError('SLUICE_ERR_SCHEMA_INCOMPATIBLE', 'coupon.value-v7 is not BACKWARD compatible');
    const a = await post({ table: 'coupon', op: 'd', key: { id: 2 } });
    assert.equal(a.status, 500, a.text);
    assert.deepEqual([a.body.error_code, a.body.retriable], ['internal', false]);
    assert.match(a.body.message, /not BACKWARD compatible/);
    assert.equal(kept.length, 0);
  });

  test('unknown routes are 404 JSON', async () => {
    const a = await request('/v2/changes');
    assert.deepEqual([a.status, a.body.error_code], [404, 'not_found']);
  });

  test('the token never reaches the log', () => {
    assert.ok(logLines.length > 0, 'the failures above were logged');
    assert.ok(!logLines.join('\n').includes(TOKEN));
  });
});

test('createCaptureApi refuses an empty token', () => {
  assert.throws(() => createCaptureApi({ tables: [ledgerEntry], token: ' ', accept: async () => {} }), /api\.token is empty/);
});
