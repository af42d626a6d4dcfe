// murmur2 and partitionFor against Apache Kafka's published vectors (clients' UtilsTest) and
// against the Java client itself (BuiltInPartitioner.partitionForKey, run from dev/kafka/libs).
// If these drift, a Java producer and sluice put the same key in different partitions
// (docs/guarantees.md: partition-by-key-bytes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { murmur2, partitionFor } from '../../src/transport/kafka/murmur2.js';
import { keyEncoder } from '../../src/codec/key-encoding.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { kafkaLibs, kafkaSkipReason } from '../support/kafka.js';

const VECTORS: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

test("murmur2 matches the Java client on Apache Kafka's published vectors", () => {
  for (const [s, expected] of VECTORS) assert.equal(murmur2(Buffer.from(s)), expected, s);
});

test('partitionFor is (murmur2 & 0x7fffffff) % n, also for negative hashes', () => {
  for (const [s, h] of VECTORS) {
    for (const n of [1, 3, 7, 12, 100]) assert.equal(partitionFor(Buffer.from(s), n), (h & 0x7fffffff) % n, `${s} % ${n}`);
  }
  // -790332482 & 0x7fffffff = 1357151166, not Math.abs(-790332482) = 790332482: the sign bit is masked.
  assert.equal(partitionFor(Buffer.from('foobar'), 1_000_000_007), 1357151166 % 1_000_000_007);
  assert.throws(() => partitionFor(Buffer.from('x'), 0), RangeError);
});

test('murmur2 handles every tail length and the empty key', () => {
  assert.equal(murmur2(Buffer.alloc(0)), 275646681); // Utils.murmur2(new byte[0]), checked with the oracle below
  const seen = new Set<number>();
  for (let len = 0; len < 12; len++) seen.add(murmur2(Buffer.alloc(len, 0xff)));
  assert.equal(seen.size, 12);
});

const skip = await kafkaSkipReason();
test(
  "partitionFor agrees with the Java client's BuiltInPartitioner on 606 keys (random bytes, sluice key encodings)",
  { skip, timeout: 300_000 },
  async () => {
    const libs = await kafkaLibs();
    // Random bytes of every length 0..40, plus the key encodings sluice writes (codec/key-encoding).
    let seed = 42;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    const keys: Buffer[] = [];
    for (let i = 0; i < 400; i++) keys.push(Buffer.from(Array.from({ length: i % 41 }, rnd)));
    const table = (kind: 'int32' | 'int64' | 'string'): TableSchema => ({
      name: 't',
      primaryKey: ['id'],
      columns: [{ name: 'id', type: { kind }, nullable: false }],
    });
    const enc32 = keyEncoder(table('int32'));
    const enc64 = keyEncoder(table('int64'));
    const encStr = keyEncoder(table('string'));
    for (let i = -50; i < 50; i++) keys.push(enc32({ id: i * 7919 }), enc64({ id: BigInt(i) * 9_007_199_254_740_993n }));
    for (const [s] of VECTORS) keys.push(encStr({ id: s }));
    const ns = [1, 2, 3, 7, 12, 100];
    const java = fileURLToPath(new URL('./fixtures/JavaPartitioner.java', import.meta.url));
    const child = promisify(execFile)('java', ['-cp', `${libs}/*`, java, ...ns.map(String)], { maxBuffer: 1 << 24 });
    child.child.stdin!.end(keys.map((k) => k.toString('hex')).join('\n') + '\n');
    const lines = (await child).stdout.trim().split('\n');
    assert.equal(lines.length, keys.length);
    keys.forEach((k, i) => {
      const [hash, ...parts] = lines[i]!.split(' ').map(Number);
      assert.equal(murmur2(k), hash, `murmur2 of ${k.toString('hex')}`);
      assert.deepEqual(
        ns.map((n) => partitionFor(k, n)),
        parts,
        `partitions of ${k.toString('hex')}`,
      );
    });
  },
);
