import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSchemaId, writeHeader } from '../../src/codec/confluent-wire.js';
import { isSluiceError } from '../../src/core/errors.js';

test('header is magic 0 then the schema id big-endian', () => {
  const buf = Buffer.alloc(7);
  writeHeader(buf, 0x01020304);
  assert.deepEqual([...buf.subarray(0, 5)], [0, 1, 2, 3, 4]);
  assert.equal(readSchemaId(Buffer.from([0, 0, 0, 1, 0x2c, 0x02])), 300);
});

test('a foreign magic byte is refused with a clear error', () => {
  assert.throws(
    () => readSchemaId(Buffer.from([1, 0, 0, 0, 1, 2])),
    (e) => isSluiceError(e, 'SLUICE_ERR_CODEC_MAGIC') && /magic byte 1/.test(e.message),
  );
});

test('a message shorter than the header is refused', () => {
  assert.throws(
    () => readSchemaId(Buffer.from([0, 0, 1])),
    (e) => isSluiceError(e, 'SLUICE_ERR_CODEC_MAGIC') && /too short/.test(e.message),
  );
});
