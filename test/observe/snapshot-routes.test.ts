// /api/snapshots over a pipeline's snapshot controls: every request that changes something needs
// the observe token and is refused before it reaches the controls; bad input answers 400 naming
// the field; a request in the wrong state answers 409; names resolve to the configured tables.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { routeKit } from '../../src/observe/http.js';
import { mountControlRoutes } from '../../src/observe/control-routes.js';
import { SnapshotStateError, type Controls, type SnapshotItem } from '../../src/observe/controls.js';

const TOKEN = 'snapshot-routes-token';
const calls: string[] = [];
const items = new Map<string, SnapshotItem>();

const snapshots: NonNullable<Controls['snapshots']> = {
  tables: ['public.coupon', 'shop.orders'],
  tableNamed: (n) => {
    const full = n.includes('.') ? n : `public.${n}`;
    return ['public.coupon', 'shop.orders'].includes(full) ? full : undefined;
  },
  list: async () => [...items.values()],
  start: async (table, where) => {
    calls.push(`start ${table}${where ? ` where ${where}` : ''}`);
    if (items.get(table)?.state === 'running') throw new SnapshotStateError(`an incremental snapshot of ${table} is running`);
    const it: SnapshotItem = { table, kind: 'incremental', state: 'running', rows: 0, estimate: 10, ...(where ? { where } : {}) };
    items.set(table, it);
    return it;
  },
  pause: async (table) => {
    calls.push(`pause ${table}`);
    const it = items.get(table);
    if (!it) throw new SnapshotStateError(`no incremental snapshot of ${table} was requested`);
    items.set(table, { ...it, state: 'paused' });
    return items.get(table)!;
  },
  resume: async (table) => {
    calls.push(`resume ${table}`);
    const it = items.get(table);
    if (it?.state !== 'paused') throw new SnapshotStateError(`incremental snapshot of ${table} is ${it?.state}, not paused`);
    items.set(table, { ...it, state: 'running' });
    return items.get(table)!;
  },
  cancel: async (table) => {
    calls.push(`cancel ${table}`);
    items.set(table, { ...items.get(table)!, state: 'cancelled' });
    return items.get(table)!;
  },
};

let app: FastifyInstance;
let bare: FastifyInstance;
const quiet = { info: () => {}, warn: () => {} };

before(async () => {
  app = Fastify();
  mountControlRoutes(
    app,
    routeKit({ token: TOKEN, log: quiet, controls: () => ({ pipeline: 'p', transport: 'direct', topology: [], snapshots }) }),
  );
  bare = Fastify();
  mountControlRoutes(bare, routeKit({ token: TOKEN, log: quiet, controls: () => ({ pipeline: 'p', transport: 'direct', topology: [] }) }));
  await Promise.all([app.ready(), bare.ready()]);
});
after(async () => {
  await Promise.all([app.close(), bare.close()]);
});

const post = (a: FastifyInstance, url: string, body?: unknown, token: string | null = TOKEN) =>
  a.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    payload: JSON.stringify(body ?? {}),
  });

test('without the token (or with another) nothing reaches the controls', async () => {
  for (const token of [null, 'wrong']) {
    for (const url of [
      '/api/snapshots',
      '/api/snapshots/public.coupon/pause',
      '/api/snapshots/coupon/resume',
      '/api/snapshots/coupon/cancel',
    ]) {
      const res = await post(app, url, { table: 'coupon' }, token);
      assert.equal(res.statusCode, 401, `${url} with ${token ?? 'no token'}`);
    }
  }
  assert.deepEqual(calls, []);
});

test('bad input answers 400 naming the field', async () => {
  for (const [body, field] of [
    [{}, 'table'],
    [{ table: '' }, 'table'],
    [{ table: 42 }, 'table'],
    [{ table: 'public.nope' }, 'table'],
    [{ table: 'coupon', where: 7 }, 'where'],
    [{ table: 'coupon', where: 'x'.repeat(10_001) }, 'where'],
  ] as const) {
    const res = await post(app, '/api/snapshots', body);
    assert.equal(res.statusCode, 400, JSON.stringify(body).slice(0, 80));
    assert.equal(res.json().field, field);
    assert.match(res.json().error, new RegExp(`^${field}: `));
  }
  const res = await post(app, '/api/snapshots/nope/pause');
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().field, 'table');
  assert.match(res.json().error, /public\.coupon, shop\.orders/);
  assert.deepEqual(calls, []);
});

test('start, pause, resume, cancel; a second start while one runs and a resume of a running one answer 409', async () => {
  let res = await post(app, '/api/snapshots', { table: 'coupon', where: ' id > 10 ' });
  assert.equal(res.statusCode, 202);
  assert.deepEqual(res.json(), { table: 'public.coupon', kind: 'incremental', state: 'running', rows: 0, estimate: 10, where: 'id > 10' });
  res = await post(app, '/api/snapshots', { table: 'public.coupon' });
  assert.equal(res.statusCode, 409);
  assert.match(res.json().error, /is running/);
  res = await post(app, '/api/snapshots/coupon/resume');
  assert.equal(res.statusCode, 409);
  assert.match(res.json().error, /not paused/);
  res = await post(app, `/api/snapshots/${encodeURIComponent('public.coupon')}/pause`);
  assert.equal(res.statusCode, 202);
  assert.equal(res.json().state, 'paused');
  res = await post(app, '/api/snapshots/coupon/resume');
  assert.equal(res.json().state, 'running');
  res = await post(app, '/api/snapshots/coupon/cancel');
  assert.equal(res.json().state, 'cancelled');
  const list = await app.inject({ method: 'GET', url: '/api/snapshots' });
  assert.deepEqual(list.json().tables, ['public.coupon', 'shop.orders']);
  assert.deepEqual(
    list.json().snapshots.map((s: SnapshotItem) => `${s.table} ${s.state}`),
    ['public.coupon cancelled'],
  );
  assert.deepEqual(calls, [
    'start public.coupon where id > 10',
    'start public.coupon',
    'resume public.coupon',
    'pause public.coupon',
    'resume public.coupon',
    'cancel public.coupon',
  ]);
});

test('a pipeline without snapshots (not a log source) answers 404 to reads, 401 still first to writes', async () => {
  assert.equal((await bare.inject({ method: 'GET', url: '/api/snapshots' })).statusCode, 404);
  assert.equal((await post(bare, '/api/snapshots', { table: 'coupon' }, null)).statusCode, 401);
  assert.equal((await post(bare, '/api/snapshots', { table: 'coupon' })).statusCode, 404);
});
