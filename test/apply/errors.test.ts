// One classification of target failures decides retry (transient), dead letter (poison) or stop
// (fatal): SQLSTATEs, MariaDB errnos, and the drivers' own connection errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyError, errorCodeOf } from '../../src/apply/errors.js';
import { SluiceError } from '../../src/core/errors.js';
import { ValueError } from '../../src/core/portable-values.js';

const pg = (code: string) => Object.assign(new Error('x'), { code });
const my = (errno: number, sqlState: string, code = 'ER_X') => Object.assign(new Error('x'), { errno, sqlState, code });

test('PostgreSQL / PGlite SQLSTATEs', () => {
  for (const s of ['40001', '40P01', '55P03', '57P01', '57P03', '08006', '53300', '57014'])
    assert.equal(classifyError(pg(s)), 'transient', s);
  for (const s of ['23505', '23514', '23502', '23503', '22003', '22P02', '22001', '22021', '54000', 'P0001'])
    assert.equal(classifyError(pg(s)), 'poison', s);
  for (const s of ['42P01', '42703', '42501', '42601', '0A000']) assert.equal(classifyError(pg(s)), 'fatal', s);
});

test('MariaDB / MySQL errnos', () => {
  for (const [n, st] of [
    [1213, '40001'],
    [1205, 'HY000'],
    [1927, '70100'],
    [2013, 'HY000'],
    [1053, '08S01'],
    [1290, 'HY000'],
  ] as const)
    assert.equal(classifyError(my(n, st)), 'transient', String(n));
  for (const [n, st] of [
    [1048, '23000'],
    [1062, '23000'],
    [1264, '22003'],
    [1406, '22001'],
    [4025, '23000'],
    [1292, '22007'],
    [1366, 'HY000'],
    [1644, '45000'],
    [1452, '23000'],
  ] as const)
    assert.equal(classifyError(my(n, st)), 'poison', String(n));
  for (const [n, st] of [
    [1146, '42S02'],
    [1054, '42S22'],
    [1142, '42000'],
  ] as const)
    assert.equal(classifyError(my(n, st)), 'fatal', String(n));
  assert.equal(errorCodeOf(my(4025, '23000', 'ER_INNODB_AUTOEXTEND_SIZE_OUT_OF_RANGE')), '23000/4025');
});

test('connection failures without a server code are transient; a bad value is poison; bugs are fatal', () => {
  for (const e of [
    Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104 }),
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }),
    Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }),
    new Error('Connection terminated unexpectedly'),
    new Error('Cannot use a pool after calling end on the pool'),
    new Error('Pool is closed.'),
    new Error('PGlite is closed'),
    new SluiceError('SLUICE_ERR_STORE', 'x', { retriable: true }),
  ])
    assert.equal(classifyError(e), 'transient', e.message);
  assert.equal(classifyError(new ValueError('x')), 'poison');
  assert.equal(classifyError(new TypeError('x is undefined')), 'fatal');
});
