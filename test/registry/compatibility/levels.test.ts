import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAvroSchema, type AvroNode } from '../../../src/registry/avro/schema-model.js';
import { checkCompatibility, COMPATIBILITY_LEVELS, type CompatibilityLevel } from '../../../src/registry/compatibility/index.js';

function avro(schema: unknown): AvroNode {
  return parseAvroSchema(JSON.stringify(schema), { validateDefaults: true }).root;
}

const order = (...fields: unknown[]) =>
  avro({ type: 'record', name: 'Order', namespace: 'com.acme', fields: [{ name: 'id', type: 'long' }, ...fields] });
const color = (symbols: string[], extra: Record<string, unknown> = {}) => ({ type: 'enum', name: 'Color', symbols, ...extra });

const base = order();
const amountDefault = order({ name: 'amount', type: 'double', default: 0 });
const amountRequired = order({ name: 'amount', type: 'double' });

const missingInOld = (field: string, path: string) =>
  `{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field '${field}' at path '${path}' in the new schema has no default value and is missing in the old schema', additionalInfo:'${field}'}`;
const missingInNew = (field: string, path: string) =>
  `{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field '${field}' at path '${path}' in the old schema has no default value and is missing in the new schema', additionalInfo:'${field}'}`;

describe('one previous version: each change at each level', () => {
  // [change, previous, candidate, BACKWARD ok, FORWARD ok]. FULL = both; the transitive forms are
  // the same with a single previous version; NONE is always compatible.
  const cases: Array<[string, AvroNode, AvroNode, boolean, boolean]> = [
    ['no change', amountRequired, amountRequired, true, true],
    ['add a field with a default', base, amountDefault, true, true],
    ['add a field without a default', base, amountRequired, false, true],
    ['remove a field that had a default', amountDefault, base, true, true],
    ['remove a field without a default', amountRequired, base, true, false],
    ['give a field a default', amountRequired, amountDefault, true, true],
    ['widen int to long', order({ name: 'n', type: 'int' }), order({ name: 'n', type: 'long' }), true, false],
    ['narrow long to int', order({ name: 'n', type: 'long' }), order({ name: 'n', type: 'int' }), false, true],
    ['string to bytes', order({ name: 'n', type: 'string' }), order({ name: 'n', type: 'bytes' }), true, true],
    ['int to string', order({ name: 'n', type: 'int' }), order({ name: 'n', type: 'string' }), false, false],
    ['add an enum symbol', order({ name: 'c', type: color(['RED']) }), order({ name: 'c', type: color(['RED', 'BLUE']) }), true, false],
    ['remove an enum symbol', order({ name: 'c', type: color(['RED', 'BLUE']) }), order({ name: 'c', type: color(['RED']) }), false, true],
    [
      'add an enum symbol to an enum with a default',
      order({ name: 'c', type: color(['RED', 'X'], { default: 'X' }) }),
      order({ name: 'c', type: color(['RED', 'X', 'BLUE'], { default: 'X' }) }),
      true,
      true,
    ],
    ['add a union branch', order({ name: 'u', type: ['null', 'int'] }), order({ name: 'u', type: ['null', 'int', 'string'] }), true, false],
    ['make a field nullable', order({ name: 'u', type: 'int' }), order({ name: 'u', type: ['null', 'int'], default: null }), true, false],
    [
      'resize a fixed',
      order({ name: 'h', type: { type: 'fixed', name: 'H', size: 8 } }),
      order({ name: 'h', type: { type: 'fixed', name: 'H', size: 16 } }),
      false,
      false,
    ],
    [
      'rename a field, keeping the old name as an alias',
      amountRequired,
      order({ name: 'total', type: 'double', aliases: ['amount'] }),
      true,
      false,
    ],
    [
      'rename the record, keeping the old name as an alias',
      base,
      avro({ type: 'record', name: 'Purchase', namespace: 'com.acme', aliases: ['Order'], fields: [{ name: 'id', type: 'long' }] }),
      true,
      false,
    ],
  ];

  for (const [change, previous, candidate, backward, forward] of cases) {
    test(`${change}: BACKWARD ${backward ? 'ok' : 'fails'}, FORWARD ${forward ? 'ok' : 'fails'}`, () => {
      const expected: Record<CompatibilityLevel, boolean> = {
        BACKWARD: backward,
        BACKWARD_TRANSITIVE: backward,
        FORWARD: forward,
        FORWARD_TRANSITIVE: forward,
        FULL: backward && forward,
        FULL_TRANSITIVE: backward && forward,
        NONE: true,
      };
      for (const level of COMPATIBILITY_LEVELS) {
        const result = checkCompatibility(level, candidate, [previous]);
        assert.equal(result.compatible, expected[level], `${level}: ${result.messages.join(' | ')}`);
        assert.equal(result.messages.length === 0, expected[level], `${level}: messages exactly when incompatible`);
      }
    });
  }
});

describe('messages', () => {
  test('BACKWARD names the new field that has no default, as Confluent does', () => {
    const result = checkCompatibility('BACKWARD', amountRequired, [base]);
    assert.deepEqual(result, { compatible: false, messages: [missingInOld('amount', '/fields/1')], previousIndex: 0 });
  });

  test('FORWARD names the old field the new schema dropped, with old and new swapped', () => {
    const result = checkCompatibility('FORWARD', base, [amountRequired]);
    assert.deepEqual(result.messages, [missingInNew('amount', '/fields/1')]);
  });

  test('a type change reads "new ... old" for BACKWARD and "old ... new" for FORWARD', () => {
    const prev = order({ name: 'n', type: 'long' });
    const cand = order({ name: 'n', type: 'int' });
    assert.deepEqual(checkCompatibility('BACKWARD', cand, [prev]).messages, [
      "{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/1/type') of a field in the new schema does not match with the old schema', additionalInfo:'reader type: INT not compatible with writer type: LONG'}",
    ]);
    assert.deepEqual(checkCompatibility('FORWARD', prev, [cand]).messages, [
      "{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/1/type') of a field in the old schema does not match with the new schema', additionalInfo:'reader type: INT not compatible with writer type: LONG'}",
    ]);
  });

  test('enum, union, fixed and name messages name what is missing or changed', () => {
    const forward = checkCompatibility('FORWARD', order({ name: 'c', type: color(['RED', 'BLUE']) }), [
      order({ name: 'c', type: color(['RED']) }),
    ]);
    assert.deepEqual(forward.messages, [
      "{errorType:'MISSING_ENUM_SYMBOLS', description:'The old schema is missing enum symbols '[BLUE]' at path '/fields/1/type/symbols' in the new schema', additionalInfo:'[BLUE]'}",
    ]);
    const union = checkCompatibility('FORWARD', order({ name: 'u', type: ['null', 'int', 'string'] }), [
      order({ name: 'u', type: ['null', 'int'] }),
    ]);
    assert.deepEqual(union.messages, [
      "{errorType:'MISSING_UNION_BRANCH', description:'The old schema is missing a type inside a union field at path '/fields/1/type/2' in the new schema', additionalInfo:'reader union lacking writer type: STRING'}",
    ]);
    const fixed = checkCompatibility('BACKWARD', order({ name: 'h', type: { type: 'fixed', name: 'H', size: 16 } }), [
      order({ name: 'h', type: { type: 'fixed', name: 'H', size: 8 } }),
    ]);
    assert.deepEqual(fixed.messages, [
      "{errorType:'FIXED_SIZE_MISMATCH', description:'The size of FIXED type field at path '/fields/1/type/size' in the new schema does not match with the old schema', additionalInfo:'expected: 8, found: 16'}",
    ]);
    const renamed = checkCompatibility('BACKWARD', avro({ type: 'record', name: 'Purchase', fields: [{ name: 'id', type: 'long' }] }), [
      base,
    ]);
    assert.deepEqual(renamed.messages, [
      "{errorType:'NAME_MISMATCH', description:'The name of the schema has changed (path '/name')', additionalInfo:'expected: com.acme.Order'}",
    ]);
  });

  test('FULL lists the FORWARD findings first, then the BACKWARD ones', () => {
    const prev = order({ name: 'old_field', type: 'int' });
    const cand = order({ name: 'new_field', type: 'int' });
    const result = checkCompatibility('FULL', cand, [prev]);
    assert.deepEqual(result.messages, [missingInNew('old_field', '/fields/1'), missingInOld('new_field', '/fields/1')]);
  });

  test('one message per incompatibility', () => {
    const result = checkCompatibility('BACKWARD', order({ name: 'a', type: 'int' }, { name: 'b', type: 'int' }), [base]);
    assert.deepEqual(result.messages, [missingInOld('a', '/fields/1'), missingInOld('b', '/fields/2')]);
  });

  test('a reader field matching two writer fields gives Confluent\'s "unexpected exception" message', () => {
    const prev = order({ name: 'a', type: 'int' }, { name: 'b', type: 'int' });
    const cand = order({ name: 'a', type: 'int', aliases: ['b'] }, { name: 'b', type: 'int' });
    const result = checkCompatibility('BACKWARD', cand, [prev]);
    assert.equal(result.compatible, false);
    assert.equal(result.messages.length, 1);
    assert.match(result.messages[0]!, /^Unexpected exception during compatibility check: Reader record field a matches multiple fields/);
  });
});

describe('history', () => {
  test('no previous version is compatible at every level', () => {
    for (const level of COMPATIBILITY_LEVELS)
      assert.deepEqual(checkCompatibility(level, amountRequired, []), { compatible: true, messages: [] });
  });

  test('NONE accepts anything', () => {
    assert.deepEqual(checkCompatibility('NONE', avro('string'), [base, amountRequired]), { compatible: true, messages: [] });
  });

  test('the non-transitive levels look at the newest previous version only', () => {
    // v1 {id}, v2 {id, amount=0}; candidate {id, amount} reads v2 but not v1.
    const history = [amountDefault, base];
    assert.equal(checkCompatibility('BACKWARD', amountRequired, history).compatible, true);
    assert.equal(checkCompatibility('FULL', amountRequired, history).compatible, true);
    // Only the first entry is "newest": the same history the other way round fails.
    assert.equal(checkCompatibility('BACKWARD', amountRequired, [base, amountDefault]).compatible, false);
  });

  test('BACKWARD_TRANSITIVE checks every previous version and reports the one that fails', () => {
    const result = checkCompatibility('BACKWARD_TRANSITIVE', amountRequired, [amountDefault, base]);
    assert.deepEqual(result, { compatible: false, messages: [missingInOld('amount', '/fields/1')], previousIndex: 1 });
  });

  test('FORWARD_TRANSITIVE: the oldest reader still needs the field the candidate drops', () => {
    // v1 {id, amount}, v2 {id, amount=0}; candidate {id}: v2 reads it (default), v1 cannot.
    assert.equal(checkCompatibility('FORWARD', base, [amountDefault, amountRequired]).compatible, true);
    const result = checkCompatibility('FORWARD_TRANSITIVE', base, [amountDefault, amountRequired]);
    assert.deepEqual(result, { compatible: false, messages: [missingInNew('amount', '/fields/1')], previousIndex: 1 });
  });

  test('FULL_TRANSITIVE fails where FULL passes', () => {
    const history = [amountDefault, base];
    assert.equal(checkCompatibility('FULL', amountRequired, history).compatible, true);
    const result = checkCompatibility('FULL_TRANSITIVE', amountRequired, history);
    assert.equal(result.compatible, false);
    assert.equal(result.previousIndex, 1);
    assert.deepEqual(result.messages, [missingInOld('amount', '/fields/1')]);
  });

  test('a transitive check stops at the newest failing version and reports only its messages', () => {
    const v1 = order({ name: 'x', type: 'int' });
    const v2 = order({ name: 'y', type: 'int' });
    const result = checkCompatibility('BACKWARD_TRANSITIVE', order({ name: 'z', type: 'int' }), [v2, v1]);
    assert.deepEqual(result, { compatible: false, messages: [missingInOld('z', '/fields/1')], previousIndex: 0 });
  });

  test('a transitive check passes when every version is readable', () => {
    const v1 = order({ name: 'n', type: 'int' });
    const v2 = order({ name: 'n', type: 'long' });
    assert.equal(checkCompatibility('BACKWARD_TRANSITIVE', order({ name: 'n', type: 'double' }), [v2, v1]).compatible, true);
    assert.equal(checkCompatibility('FORWARD_TRANSITIVE', order({ name: 'n', type: 'double' }), [v2, v1]).compatible, false);
  });
});
