/**
 * The Java client's key partitioner, as a pure function, so sluice and every Java producer or
 * consumer (Kafka Streams, Connect, Debezium) put a key in the same partition
 * (docs/guarantees.md: partition-by-key-bytes).
 *
 * Grammar (org.apache.kafka.common.utils.Utils.murmur2, seed 0x9747b28c, m 0x5bd1e995, r 24):
 *   h = seed ^ len
 *   for each 4-byte little-endian word k: k *= m; k ^= k >>> r; k *= m; h *= m; h ^= k
 *   tail (len % 4 bytes, little-endian): h ^= tail; h *= m
 *   h ^= h >>> 13; h *= m; h ^= h >>> 15          (all int32, wrapping)
 * BuiltInPartitioner.partitionForKey(key, n) = (murmur2(key) & 0x7fffffff) % n  (Utils.toPositive).
 * The hash is over the serialised key bytes: whatever codec/key-encoding wrote.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Java's Utils.murmur2: a signed 32-bit result, exactly as Java returns it. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  switch (length & 3) {
    case 3:
      h ^= data[tail + 2]! << 16;
    // falls through
    case 2:
      h ^= data[tail + 1]! << 8;
    // falls through
    case 1:
      h ^= data[tail]!;
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition the Java producer picks for a non-null key: (murmur2 & 0x7fffffff) % numPartitions. */
export function partitionFor(keyBytes: Uint8Array, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new RangeError(`numPartitions must be a positive integer, got ${numPartitions}`);
  }
  return (murmur2(keyBytes) & 0x7fffffff) % numPartitions;
}
