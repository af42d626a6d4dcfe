// MariaDB prepared statements are cached per connection and capped server-wide: the sink's
// statement sizes come from a small fixed ladder, whatever the batch sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkLadder } from '../../src/apply/dialects/mysql.js';

test('full chunks, then powers of two; few distinct sizes over every batch size', () => {
  assert.deepEqual(chunkLadder(2037, 1000), [1000, 1000, 32, 4, 1]);
  assert.deepEqual(chunkLadder(0, 1000), []);
  const sizes = new Set<number>();
  for (let n = 1; n <= 5000; n++) {
    const parts = chunkLadder(n, 1000);
    assert.equal(
      parts.reduce((a, b) => a + b, 0),
      n,
    );
    for (const p of parts) sizes.add(p);
  }
  assert.ok(sizes.size <= 11, `${sizes.size} distinct sizes`);
});
