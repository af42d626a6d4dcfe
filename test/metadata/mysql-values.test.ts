// MariaDB/MySQL values both ways without a server: raw column bytes → portable values, portable
// values → parameters (UTC text for TIMESTAMP; what MariaDB cannot hold refused, not changed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromMysqlRaw, toMysqlParam } from '../../src/metadata/mysql.js';
import { ValueError } from '../../src/core/portable-values.js';

const raw = (s: string) => Buffer.from(s, 'utf8');

test('raw text becomes the portable value of its column type', () => {
  assert.equal(fromMysqlRaw({ kind: 'int64' }, raw('-9223372036854775808')), -9223372036854775808n);
  assert.equal(fromMysqlRaw({ kind: 'boolean' }, raw('1')), true);
  assert.equal(fromMysqlRaw({ kind: 'boolean' }, Buffer.from([0])), false); // bit(1)
  assert.equal(fromMysqlRaw({ kind: 'float32' }, raw('0.10000000149011612')), 0.1);
  assert.equal(fromMysqlRaw({ kind: 'timestamptz' }, raw('2038-01-19 03:14:07.999999')), '2038-01-19T03:14:07.999999Z');
  assert.equal(fromMysqlRaw({ kind: 'timestamp' }, raw('2024-01-01 00:00:00.000000')), '2024-01-01T00:00:00');
  assert.equal(fromMysqlRaw({ kind: 'time' }, raw('12:00:00.500000')), '12:00:00.500000');
  assert.equal(fromMysqlRaw({ kind: 'time' }, raw('-838:59:59')), '-838:59:59');
  assert.deepEqual(fromMysqlRaw({ kind: 'bytes' }, Buffer.from([0, 1])), Buffer.from([0, 1]));
  assert.equal(fromMysqlRaw({ kind: 'string' }, null), null);
});

test('portable values as parameters', () => {
  assert.equal(toMysqlParam({ kind: 'timestamptz' }, '2024-01-01T00:30:00.5+01:00'), '2023-12-31 23:30:00.500000');
  assert.equal(toMysqlParam({ kind: 'timestamp' }, '2024-01-01T00:30:00'), '2024-01-01 00:30:00');
  assert.equal(toMysqlParam({ kind: 'boolean' }, true), 1);
  assert.equal(toMysqlParam({ kind: 'int64' }, 9223372036854775807n), 9223372036854775807n);
  assert.equal(toMysqlParam({ kind: 'uuid' }, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
  for (const [type, v] of [
    [{ kind: 'float64' }, Number.NaN],
    [{ kind: 'float32' }, Number.POSITIVE_INFINITY],
    [{ kind: 'date' }, '-0043-03-15'],
    [{ kind: 'timestamptz' }, '2024-01-01T00:00:00'],
  ] as const) {
    assert.throws(() => toMysqlParam(type, v), ValueError);
  }
});
