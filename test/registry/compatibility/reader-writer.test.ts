import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAvroSchema, type AvroNode } from '../../../src/registry/avro/schema-model.js';
import { checkReaderWriter, type Incompatibility } from '../../../src/registry/compatibility/index.js';

/** Parses a schema written as a JS value, validating defaults as Confluent does for new schemas. */
function avro(schema: unknown): AvroNode {
  return parseAvroSchema(JSON.stringify(schema), { validateDefaults: true }).root;
}

function check(reader: unknown, writer: unknown): Incompatibility[] {
  return checkReaderWriter(avro(reader), avro(writer));
}

/** The parts Avro Java reports, in its order: `TYPE location detail`. */
function summary(incs: Incompatibility[]): string[] {
  return incs.map((i) => `${i.type} ${i.location} ${i.detail}`);
}

function record(name: string, fields: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'record', name, ...extra, fields };
}

describe('primitives and promotions', () => {
  const PRIMS = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'];
  // Written out rather than derived, writer>reader: what Avro lets a reader widen.
  const PROMOTIONS = new Set([
    'int>long',
    'int>float',
    'int>double',
    'long>float',
    'long>double',
    'float>double',
    'string>bytes',
    'bytes>string',
  ]);

  for (const writer of PRIMS) {
    for (const reader of PRIMS) {
      const ok = reader === writer || PROMOTIONS.has(`${writer}>${reader}`);
      test(`a ${reader} reader ${ok ? 'reads' : 'does not read'} a ${writer} writer`, () => {
        const expected = ok
          ? []
          : [`TYPE_MISMATCH / reader type: ${reader.toUpperCase()} not compatible with writer type: ${writer.toUpperCase()}`];
        assert.deepEqual(summary(check(reader, writer)), expected);
      });
    }
  }

  test('a promotion inside a record field is located at the field type', () => {
    const incs = check(record('R', [{ name: 'n', type: 'int' }]), record('R', [{ name: 'n', type: 'long' }]));
    assert.deepEqual(summary(incs), ['TYPE_MISMATCH /fields/0/type reader type: INT not compatible with writer type: LONG']);
    assert.match(incs[0]!.message, /\/fields\/0\/type.*reader type: INT not compatible with writer type: LONG/);
    assert.deepEqual(check(record('R', [{ name: 'n', type: 'long' }]), record('R', [{ name: 'n', type: 'int' }])), []);
  });
});

describe('records and fields', () => {
  const v1 = record('Order', [{ name: 'id', type: 'long' }], { namespace: 'com.acme' });
  const withDefault = record(
    'Order',
    [
      { name: 'id', type: 'long' },
      { name: 'amount', type: 'double', default: 0 },
    ],
    { namespace: 'com.acme' },
  );
  const withoutDefault = record(
    'Order',
    [
      { name: 'id', type: 'long' },
      { name: 'amount', type: 'double' },
    ],
    { namespace: 'com.acme' },
  );

  test('a reader field with a default reads data that lacks it', () => {
    assert.deepEqual(check(withDefault, v1), []);
  });

  test('a reader field without a default cannot read data that lacks it, and the message names it', () => {
    const incs = check(withoutDefault, v1);
    assert.deepEqual(summary(incs), ['READER_FIELD_MISSING_DEFAULT_VALUE /fields/1 amount']);
    assert.equal(
      incs[0]!.message,
      "The field 'amount' at path '/fields/1' in the reader schema has no default value and is missing in the writer schema",
    );
  });

  test('a writer field the reader does not have is skipped', () => {
    assert.deepEqual(check(v1, withoutDefault), []);
    assert.deepEqual(check(v1, withDefault), []);
  });

  test('fields are matched by name, not position', () => {
    const reordered = record(
      'Order',
      [
        { name: 'amount', type: 'double' },
        { name: 'id', type: 'long' },
      ],
      { namespace: 'com.acme' },
    );
    assert.deepEqual(check(reordered, withoutDefault), []);
  });

  test('a renamed field without an alias is a missing field', () => {
    const renamed = record(
      'Order',
      [
        { name: 'id', type: 'long' },
        { name: 'total', type: 'double' },
      ],
      { namespace: 'com.acme' },
    );
    assert.deepEqual(summary(check(renamed, withoutDefault)), ['READER_FIELD_MISSING_DEFAULT_VALUE /fields/1 total']);
  });

  test('a reader field alias finds the writer field under its old name', () => {
    const renamed = record(
      'Order',
      [
        { name: 'id', type: 'long' },
        { name: 'total', type: 'double', aliases: ['amount'] },
      ],
      { namespace: 'com.acme' },
    );
    assert.deepEqual(check(renamed, withoutDefault), []);
  });

  test('a writer field alias does not help the reader', () => {
    const renamedWriter = record(
      'Order',
      [
        { name: 'id', type: 'long' },
        { name: 'total', type: 'double', aliases: ['amount'] },
      ],
      { namespace: 'com.acme' },
    );
    assert.deepEqual(summary(check(withoutDefault, renamedWriter)), ['READER_FIELD_MISSING_DEFAULT_VALUE /fields/1 amount']);
  });

  test('a field found by alias is still type-checked', () => {
    const renamed = record(
      'Order',
      [
        { name: 'id', type: 'long' },
        { name: 'total', type: 'int', aliases: ['amount'] },
      ],
      { namespace: 'com.acme' },
    );
    assert.deepEqual(summary(check(renamed, withoutDefault)), [
      'TYPE_MISMATCH /fields/1/type reader type: INT not compatible with writer type: DOUBLE',
    ]);
  });

  test('ambiguous-reader-field: a reader field matching two writer fields makes the whole check one AMBIGUOUS_READER_FIELD', () => {
    // Avro throws here, dropping every other finding; Confluent reports the pair incompatible.
    const reader = record('R', [
      { name: 'x', type: 'string' },
      { name: 'a', type: 'int', aliases: ['b'] },
    ]);
    const writer = record('R', [
      { name: 'a', type: 'int' },
      { name: 'b', type: 'int' },
    ]);
    const incs = check(reader, writer);
    assert.equal(incs.length, 1);
    assert.equal(incs[0]!.type, 'AMBIGUOUS_READER_FIELD');
    assert.equal(incs[0]!.location, '/fields/1');
    assert.match(incs[0]!.detail, /Reader record field a matches multiple fields in writer record schema R/);
  });

  test('record names match on the unqualified name: a namespace change is compatible', () => {
    const moved = { ...v1, namespace: 'org.other' };
    assert.deepEqual(check(moved, v1), []);
    assert.deepEqual(check(v1, moved), []);
  });

  test('a renamed record is a NAME_MISMATCH naming the expected full name', () => {
    const renamed = { ...v1, name: 'Purchase' };
    const incs = check(renamed, v1);
    assert.deepEqual(summary(incs), ['NAME_MISMATCH /name expected: com.acme.Order']);
    assert.match(incs[0]!.message, /The name of the schema has changed \(path '\/name'\): expected: com\.acme\.Order/);
  });

  test("a reader record alias equal to the writer's full name matches; a simple alias is qualified by the reader's namespace", () => {
    assert.deepEqual(check({ ...v1, name: 'Purchase', aliases: ['com.acme.Order'] }, v1), []);
    assert.deepEqual(check({ ...v1, name: 'Purchase', aliases: ['Order'] }, v1), []);
    const elsewhere = { ...v1, namespace: 'org.other' };
    assert.deepEqual(summary(check({ ...v1, name: 'Purchase', aliases: ['Order'] }, elsewhere)), [
      'NAME_MISMATCH /name expected: org.other.Order',
    ]);
  });

  test('a writer record alias does not match', () => {
    assert.deepEqual(summary(check(v1, { ...v1, name: 'Purchase', aliases: ['com.acme.Order'] })), [
      'NAME_MISMATCH /name expected: com.acme.Purchase',
    ]);
  });

  test('a record and an error with the same name are the same type', () => {
    assert.deepEqual(check({ ...v1, type: 'error' }, v1), []);
  });

  test('nested records are checked field by field, with the full path', () => {
    const reader = record('Outer', [
      {
        name: 'inner',
        type: record('Inner', [
          { name: 'a', type: 'int' },
          { name: 'b', type: 'string' },
        ]),
      },
    ]);
    const writer = record('Outer', [{ name: 'inner', type: record('Inner', [{ name: 'a', type: 'string' }]) }]);
    assert.deepEqual(summary(check(reader, writer)), [
      'TYPE_MISMATCH /fields/0/type/fields/0/type reader type: INT not compatible with writer type: STRING',
      'READER_FIELD_MISSING_DEFAULT_VALUE /fields/0/type/fields/1 b',
    ]);
  });

  test('a record name mismatch and field problems are all reported, name first', () => {
    const incs = check(record('A', [{ name: 'x', type: 'int' }]), record('B', [{ name: 'y', type: 'int' }]));
    assert.deepEqual(summary(incs), ['NAME_MISMATCH /name expected: B', 'READER_FIELD_MISSING_DEFAULT_VALUE /fields/0 x']);
  });

  test('a record against a non-record is a TYPE_MISMATCH', () => {
    assert.deepEqual(summary(check(v1, 'string')), ['TYPE_MISMATCH / reader type: RECORD not compatible with writer type: STRING']);
  });
});

describe('enums', () => {
  const color = (symbols: string[], extra: Record<string, unknown> = {}) => ({ type: 'enum', name: 'Color', symbols, ...extra });

  test('a reader with more symbols reads a writer with fewer', () => {
    assert.deepEqual(check(color(['RED', 'GREEN', 'BLUE']), color(['RED', 'GREEN'])), []);
  });

  test('a writer symbol the reader lacks is MISSING_ENUM_SYMBOLS, sorted, naming the symbols', () => {
    const incs = check(
      record('R', [{ name: 'c', type: color(['RED']) }]),
      record('R', [{ name: 'c', type: color(['RED', 'GREEN', 'BLUE']) }]),
    );
    assert.deepEqual(summary(incs), ['MISSING_ENUM_SYMBOLS /fields/0/type/symbols [BLUE, GREEN]']);
    assert.match(incs[0]!.message, /missing enum symbols '\[BLUE, GREEN\]' at path '\/fields\/0\/type\/symbols'/);
  });

  test('a reader enum default stands in for unknown writer symbols', () => {
    assert.deepEqual(check(color(['RED', 'OTHER'], { default: 'OTHER' }), color(['RED', 'GREEN'])), []);
  });

  test('a writer enum default does not help', () => {
    assert.deepEqual(summary(check(color(['RED']), color(['RED', 'GREEN'], { default: 'RED' }))), [
      'MISSING_ENUM_SYMBOLS /symbols [GREEN]',
    ]);
  });

  test('symbol order does not matter', () => {
    assert.deepEqual(check(color(['BLUE', 'RED']), color(['RED', 'BLUE'])), []);
  });

  test('a renamed enum is a NAME_MISMATCH, reported before the symbols', () => {
    assert.deepEqual(summary(check({ ...color(['RED']), name: 'Colour' }, color(['RED', 'GREEN']))), [
      'NAME_MISMATCH /name expected: Color',
      'MISSING_ENUM_SYMBOLS /symbols [GREEN]',
    ]);
  });

  test('enum-field-default-quirk: a missing reader field of an enum type with an enum default (and no field default) is compared with the writer record', () => {
    // Avro 1.11 compares the enum with the writer *record*, so this is a TYPE_MISMATCH, never compatible.
    const reader = record('R', [
      { name: 'id', type: 'int' },
      { name: 'c', type: color(['RED', 'OTHER'], { default: 'OTHER' }) },
    ]);
    const writer = record('R', [{ name: 'id', type: 'int' }]);
    assert.deepEqual(summary(check(reader, writer)), [
      'TYPE_MISMATCH /fields/1/type reader type: ENUM not compatible with writer type: RECORD',
    ]);
  });

  test('a missing reader enum field with a field default is compatible', () => {
    const reader = record('R', [
      { name: 'id', type: 'int' },
      { name: 'c', type: color(['RED', 'OTHER'], { default: 'OTHER' }), default: 'RED' },
    ]);
    assert.deepEqual(check(reader, record('R', [{ name: 'id', type: 'int' }])), []);
  });
});

describe('fixed', () => {
  const hash = (size: number, name = 'Hash') => ({ type: 'fixed', name, size });

  test('same name and size is compatible', () => {
    assert.deepEqual(check(hash(16), hash(16)), []);
  });

  test('a size change is FIXED_SIZE_MISMATCH with expected (writer) and found (reader)', () => {
    const incs = check(hash(8), hash(16));
    assert.deepEqual(summary(incs), ['FIXED_SIZE_MISMATCH /size expected: 16, found: 8']);
    assert.match(incs[0]!.message, /The size of FIXED type field at path '\/size'/);
  });

  test('a renamed fixed is a NAME_MISMATCH', () => {
    assert.deepEqual(summary(check(hash(16, 'Digest'), hash(16))), ['NAME_MISMATCH /name expected: Hash']);
  });

  test('fixed and bytes do not read each other', () => {
    assert.deepEqual(summary(check(hash(16), 'bytes')), ['TYPE_MISMATCH / reader type: FIXED not compatible with writer type: BYTES']);
    assert.deepEqual(summary(check('bytes', hash(16))), ['TYPE_MISMATCH / reader type: BYTES not compatible with writer type: FIXED']);
  });
});

describe('arrays and maps', () => {
  test('items and values are checked, promotions included', () => {
    assert.deepEqual(check({ type: 'array', items: 'long' }, { type: 'array', items: 'int' }), []);
    assert.deepEqual(summary(check({ type: 'array', items: 'int' }, { type: 'array', items: 'long' })), [
      'TYPE_MISMATCH /items reader type: INT not compatible with writer type: LONG',
    ]);
    assert.deepEqual(summary(check({ type: 'map', values: 'int' }, { type: 'map', values: 'string' })), [
      'TYPE_MISMATCH /values reader type: INT not compatible with writer type: STRING',
    ]);
  });

  test('an array and a map do not read each other', () => {
    assert.deepEqual(summary(check({ type: 'array', items: 'int' }, { type: 'map', values: 'int' })), [
      'TYPE_MISMATCH / reader type: ARRAY not compatible with writer type: MAP',
    ]);
  });

  test('a named type inside an array is checked by name', () => {
    const reader = { type: 'array', items: record('A', [{ name: 'x', type: 'int' }]) };
    const writer = { type: 'array', items: record('B', [{ name: 'x', type: 'int' }]) };
    assert.deepEqual(summary(check(reader, writer)), ['NAME_MISMATCH /items/name expected: B']);
  });
});

describe('unions', () => {
  test('a writer union is readable when the reader union has every branch', () => {
    assert.deepEqual(check(['null', 'string', 'int'], ['null', 'string']), []);
  });

  test('a writer union branch the reader union lacks is MISSING_UNION_BRANCH at the branch index', () => {
    const incs = check(record('R', [{ name: 'u', type: ['null', 'int'] }]), record('R', [{ name: 'u', type: ['null', 'int', 'string'] }]));
    assert.deepEqual(summary(incs), ['MISSING_UNION_BRANCH /fields/0/type/2 reader union lacking writer type: STRING']);
    assert.match(incs[0]!.message, /missing a type inside a union field at path '\/fields\/0\/type\/2'/);
  });

  test('a reader union reads a non-union writer when some branch does, promotions included', () => {
    assert.deepEqual(check(['null', 'string'], 'string'), []);
    assert.deepEqual(check(['null', 'long'], 'int'), []);
    assert.deepEqual(summary(check(['null', 'string'], 'int')), ['MISSING_UNION_BRANCH / reader union lacking writer type: INT']);
  });

  test('making a field nullable reads the old data; the old reader cannot read the null branch', () => {
    const nullable = record('R', [{ name: 'n', type: ['null', 'string'], default: null }]);
    const plain = record('R', [{ name: 'n', type: 'string' }]);
    assert.deepEqual(check(nullable, plain), []);
    assert.deepEqual(summary(check(plain, nullable)), ['TYPE_MISMATCH / reader type: STRING not compatible with writer type: NULL']);
  });

  test('writer-union-fresh-location: branches of a writer union read by a non-union reader are located at "/"', () => {
    // Avro checks each branch from a fresh location stack, so even a nested field reports '/'.
    const reader = record('R', [{ name: 'n', type: { type: 'array', items: 'int' } }]);
    const writer = record('R', [{ name: 'n', type: { type: 'array', items: ['int', 'long', 'string'] } }]);
    assert.deepEqual(summary(check(reader, writer)), [
      'TYPE_MISMATCH / reader type: INT not compatible with writer type: LONG',
      'TYPE_MISMATCH / reader type: INT not compatible with writer type: STRING',
    ]);
  });

  test('a writer union is read by a non-union reader that reads every branch', () => {
    assert.deepEqual(check('double', ['int', 'long', 'float']), []);
  });

  test('reader-union-any-branch: any reader branch that reads the writer counts, not the first with a matching name', () => {
    const strict = record('Rec', [{ name: 'x', type: 'int' }], { namespace: 'com.a' });
    const loose = record('Rec', [{ name: 'y', type: 'long' }], { namespace: 'org.b' });
    const writer = record('Rec', [{ name: 'y', type: 'int' }]);
    assert.deepEqual(check([strict, loose], writer), []);
    assert.deepEqual(summary(check([strict], writer)), ['MISSING_UNION_BRANCH / reader union lacking writer type: RECORD']);
  });

  test('a union branch that is a named type is matched by name', () => {
    const a = record('A', [{ name: 'x', type: 'int' }]);
    const b = record('B', [{ name: 'x', type: 'int' }]);
    assert.deepEqual(check(['null', a], ['null', a]), []);
    assert.deepEqual(summary(check(['null', a], ['null', b])), ['MISSING_UNION_BRANCH /1 reader union lacking writer type: RECORD']);
  });
});

describe('recursion and shared named types', () => {
  const node = (valueType: string, extraField?: unknown) =>
    record('Node', [
      { name: 'value', type: valueType },
      { name: 'next', type: ['null', 'Node'], default: null },
      ...(extraField ? [extraField] : []),
    ]);

  test('identical recursive schemas are compatible (and the check terminates)', () => {
    assert.deepEqual(check(node('int'), node('int')), []);
  });

  test('a change inside a recursive record is found once, at its first location', () => {
    assert.deepEqual(summary(check(node('int'), node('long'))), [
      'TYPE_MISMATCH /fields/0/type reader type: INT not compatible with writer type: LONG',
    ]);
    assert.deepEqual(check(node('long'), node('int')), []);
  });

  test('mutually recursive records are checked', () => {
    const tree = (leafType: string) =>
      record('Tree', [
        {
          name: 'children',
          type: {
            type: 'array',
            items: record('Branch', [
              { name: 'tree', type: 'Tree' },
              { name: 'w', type: leafType },
            ]),
          },
        },
      ]);
    assert.deepEqual(check(tree('double'), tree('float')), []);
    assert.deepEqual(summary(check(tree('float'), tree('double'))), [
      'TYPE_MISMATCH /fields/0/type/items/fields/1/type reader type: FLOAT not compatible with writer type: DOUBLE',
    ]);
  });

  test('a named type used twice is checked where it is first met and remembered after', () => {
    const money = record('Money', [{ name: 'units', type: 'long' }]);
    const moneyInt = record('Money', [{ name: 'units', type: 'int' }]);
    const reader = record('R', [
      { name: 'a', type: moneyInt },
      { name: 'b', type: 'Money' },
    ]);
    const writer = record('R', [
      { name: 'a', type: money },
      { name: 'b', type: 'Money' },
    ]);
    assert.deepEqual(summary(check(reader, writer)), [
      'TYPE_MISMATCH /fields/0/type/fields/0/type reader type: INT not compatible with writer type: LONG',
      'TYPE_MISMATCH /fields/0/type/fields/0/type reader type: INT not compatible with writer type: LONG',
    ]);
  });

  test('checks do not share memoised results', () => {
    const reader = avro(node('int'));
    const first = checkReaderWriter(reader, avro(node('long')));
    assert.equal(first.length, 1);
    assert.deepEqual(checkReaderWriter(reader, avro(node('int'))), []);
    assert.deepEqual(checkReaderWriter(reader, avro(node('long'))), first);
  });
});

describe('logical types are ignored', () => {
  test('a logical type on either side does not change the verdict', () => {
    assert.deepEqual(check({ type: 'int', logicalType: 'date' }, 'int'), []);
    assert.deepEqual(check('long', { type: 'long', logicalType: 'timestamp-millis' }), []);
    assert.deepEqual(check({ type: 'long', logicalType: 'timestamp-micros' }, { type: 'long', logicalType: 'timestamp-millis' }), []);
    assert.deepEqual(
      check(
        { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 4 },
        { type: 'bytes', logicalType: 'decimal', precision: 5, scale: 2 },
      ),
      [],
    );
  });

  test('the underlying types still have to match', () => {
    const fixedDecimal = { type: 'fixed', name: 'Dec', size: 8, logicalType: 'decimal', precision: 9, scale: 2 };
    assert.deepEqual(summary(check({ type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 }, fixedDecimal)), [
      'TYPE_MISMATCH / reader type: BYTES not compatible with writer type: FIXED',
    ]);
    assert.deepEqual(summary(check({ type: 'int', logicalType: 'date' }, 'long')), [
      'TYPE_MISMATCH / reader type: INT not compatible with writer type: LONG',
    ]);
  });
});
