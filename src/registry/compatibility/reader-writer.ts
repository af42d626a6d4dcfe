/**
 * Can a reader schema decode everything written with a writer schema? A line-by-line port of
 * Apache Avro Java 1.11.4 `SchemaCompatibility.ReaderWriterCompatibilityChecker` (the checker
 * Confluent Platform 7.x wraps), so that verdicts, types, locations and details are the same. The
 * differential test (test/registry/compatibility/differential.test.ts) holds it to that.
 *
 * The rules, as Avro applies them (not as the specification words them):
 * - Same type on both sides: primitives match; arrays and maps recurse into items/values; fixed
 *   needs matching names and sizes; enums matching names and every writer symbol in the reader
 *   (or a reader enum default); records matching names and every reader field readable.
 * - Names match on the unqualified name, or when a reader alias equals the writer's full name.
 * - A reader field is found in the writer by its name or one of its aliases (two hits: Avro throws,
 *   reported here as AMBIGUOUS_READER_FIELD). Not found: it needs a default. A field without a
 *   default whose type is an enum with an enum default is compared against the writer *record*
 *   itself (Avro 1.11's quirk), which always gives TYPE_MISMATCH "ENUM ... RECORD".
 * - Promotions: int→long/float/double, long→float/double, float→double, string↔bytes.
 * - Writer union: every branch must be readable. Reader union against a non-union writer: the
 *   first reader branch that reads the writer wins; none does → MISSING_UNION_BRANCH.
 * - Logical types are ignored; so are docs, defaults' values, order and other properties.
 *
 * Results are memoised per (reader node, writer node) identity, as Java memoises per object pair;
 * a pair met again while it is still being checked counts as compatible. That is what makes
 * recursive schemas terminate, and the results (including Java's order-dependent corner cases) are
 * only the same as Java's because the traversal order is the same: keep it so.
 */
import { type AvroNode, type EnumNode, type FieldNode, type FixedNode, type NamedNode, type RecordNode } from '../avro/schema-model.js';
import type { Incompatibility, IncompatibilityType } from './types.js';

/** Checks whether `reader` can read data written with `writer`; [] means compatible. */
export function checkReaderWriter(reader: AvroNode, writer: AvroNode): Incompatibility[] {
  try {
    return new ReaderWriterChecker().check(reader, writer);
  } catch (err) {
    // Avro throws (and the whole check is lost) when a reader field matches two writer fields.
    if (err instanceof AmbiguousReaderField) return [err.incompatibility];
    throw err;
  }
}

/** The sentence for an incompatibility, with the two schemas called `readerWord` and `writerWord`. */
export function describeIncompatibility(
  inc: Pick<Incompatibility, 'type' | 'location' | 'detail'>,
  readerWord: string,
  writerWord: string,
): string {
  const path = inc.location;
  // The wording of Confluent's io.confluent.kafka.schemaregistry.avro.Difference.
  switch (inc.type) {
    case 'FIXED_SIZE_MISMATCH':
      return `The size of FIXED type field at path '${path}' in the ${readerWord} schema does not match with the ${writerWord} schema`;
    case 'TYPE_MISMATCH':
      return `The type (path '${path}') of a field in the ${readerWord} schema does not match with the ${writerWord} schema`;
    case 'NAME_MISMATCH':
      return `The name of the schema has changed (path '${path}')`;
    case 'MISSING_ENUM_SYMBOLS':
      return `The ${readerWord} schema is missing enum symbols '${inc.detail}' at path '${path}' in the ${writerWord} schema`;
    case 'MISSING_UNION_BRANCH':
      return `The ${readerWord} schema is missing a type inside a union field at path '${path}' in the ${writerWord} schema`;
    case 'READER_FIELD_MISSING_DEFAULT_VALUE':
      return `The field '${inc.detail}' at path '${path}' in the ${readerWord} schema has no default value and is missing in the ${writerWord} schema`;
    case 'AMBIGUOUS_READER_FIELD':
      return `The field at path '${path}' in the ${readerWord} schema matches more than one field of the ${writerWord} schema`;
  }
}

/** Avro's `Schema.Type` name of a node, as its messages print it (`INT`, `RECORD`...). */
export function avroTypeName(node: AvroNode): string {
  return (node.kind === 'primitive' ? node.type : node.kind).toUpperCase();
}

class AmbiguousReaderField extends Error {
  constructor(readonly incompatibility: Incompatibility) {
    super(incompatibility.message);
  }
}

const IN_PROGRESS = Symbol('recursion in progress');
type MemoEntry = Incompatibility[] | typeof IN_PROGRESS;
const COMPATIBLE: Incompatibility[] = [];

/** One check, with its memo; the memo is shared by the nested "fresh location" checks of unions. */
class ReaderWriterChecker {
  private readonly memo = new Map<AvroNode, Map<AvroNode, MemoEntry>>();

  /** Java's two-argument getCompatibility: a new location stack that starts at the root. */
  check(reader: AvroNode, writer: AvroNode): Incompatibility[] {
    return this.compat('', reader, writer, []);
  }

  /** `location` is the stack of JSON-pointer tokens (root first); `token` is this node's own. */
  private compat(token: string, reader: AvroNode, writer: AvroNode, location: string[]): Incompatibility[] {
    location.push(token);
    let byWriter = this.memo.get(reader);
    if (!byWriter) this.memo.set(reader, (byWriter = new Map()));
    const known = byWriter.get(writer);
    let result: Incompatibility[];
    if (known !== undefined) {
      // A pair still being checked further up: compatible unless proven otherwise up there.
      result = known === IN_PROGRESS ? COMPATIBLE : known;
    } else {
      byWriter.set(writer, IN_PROGRESS);
      result = this.calculate(reader, writer, location);
      byWriter.set(writer, result);
    }
    location.pop();
    return result;
  }

  private calculate(reader: AvroNode, writer: AvroNode, location: string[]): Incompatibility[] {
    if (sameAvroType(reader, writer)) {
      switch (reader.kind) {
        case 'primitive':
          return COMPATIBLE;
        case 'array':
          return this.compat('items', reader.items, (writer as typeof reader).items, location);
        case 'map':
          return this.compat('values', reader.values, (writer as typeof reader).values, location);
        case 'fixed':
          return [...this.names(reader, writer as FixedNode, location), ...fixedSize(reader, writer as FixedNode, location)];
        case 'enum':
          return [...this.names(reader, writer as EnumNode, location), ...enumSymbols(reader, writer as EnumNode, location)];
        case 'record':
          return [...this.names(reader, writer as RecordNode, location), ...this.fields(reader, writer as RecordNode, location)];
        case 'union': {
          // Every branch of the writer union must be readable by the reader union.
          const out: Incompatibility[] = [];
          (writer as typeof reader).branches.forEach((branch, i) => {
            location.push(String(i));
            if (this.check(reader, branch).length > 0) {
              out.push(incompatibility('MISSING_UNION_BRANCH', `reader union lacking writer type: ${avroTypeName(branch)}`, location));
            }
            location.pop();
          });
          return out;
        }
      }
    }

    // A writer union against a non-union reader: the reader must read every branch. The branch
    // checks start from a fresh location, so what they report is located at '/' (as in Java).
    if (writer.kind === 'union') return writer.branches.flatMap((branch) => this.check(reader, branch));

    switch (reader.kind) {
      case 'primitive':
        return promotes(writer, reader.type) ? COMPATIBLE : typeMismatch(reader, writer, location);
      case 'union': {
        for (const branch of reader.branches) {
          if (this.check(branch, writer).length === 0) return COMPATIBLE;
        }
        return [incompatibility('MISSING_UNION_BRANCH', `reader union lacking writer type: ${avroTypeName(writer)}`, location)];
      }
      default:
        return typeMismatch(reader, writer, location);
    }
  }

  private names(reader: NamedNode, writer: NamedNode, location: string[]): Incompatibility[] {
    if (reader.name === writer.name || reader.aliases.includes(writer.fullName)) return COMPATIBLE;
    location.push('name');
    const out = [incompatibility('NAME_MISMATCH', `expected: ${writer.fullName}`, location)];
    location.pop();
    return out;
  }

  private fields(reader: RecordNode, writer: RecordNode, location: string[]): Incompatibility[] {
    const out: Incompatibility[] = [];
    location.push('fields');
    reader.fields.forEach((readerField, pos) => {
      location.push(String(pos));
      const writerField = lookupWriterField(writer, readerField, location);
      if (writerField) {
        out.push(...this.compat('type', readerField.type, writerField.type, location));
      } else if (!readerField.hasDefault) {
        if (readerField.type.kind === 'enum' && readerField.type.default !== undefined) {
          // Avro 1.11 compares the enum with the writer record here (not with a writer field).
          out.push(...this.compat('type', readerField.type, writer, location));
        } else {
          out.push(incompatibility('READER_FIELD_MISSING_DEFAULT_VALUE', readerField.name, location));
        }
      }
      location.pop();
    });
    location.pop();
    return out;
  }
}

/** Java compares `Schema.getType()`: every primitive is its own type, as is each complex kind. */
function sameAvroType(a: AvroNode, b: AvroNode): boolean {
  if (a.kind !== b.kind) return false;
  return a.kind !== 'primitive' || a.type === (b as typeof a).type;
}

/** Whether a value written as `writer` may be read as the primitive `readerType` (types differ). */
function promotes(writer: AvroNode, readerType: string): boolean {
  if (writer.kind !== 'primitive') return false;
  switch (readerType) {
    case 'long':
      return writer.type === 'int';
    case 'float':
      return writer.type === 'int' || writer.type === 'long';
    case 'double':
      return writer.type === 'int' || writer.type === 'long' || writer.type === 'float';
    case 'bytes':
      return writer.type === 'string';
    case 'string':
      return writer.type === 'bytes';
    default:
      return false;
  }
}

/** The writer field a reader field reads: by name or by one of the reader field's aliases. */
function lookupWriterField(writer: RecordNode, readerField: FieldNode, location: string[]): FieldNode | undefined {
  const found: FieldNode[] = [];
  const direct = writer.fields.find((f) => f.name === readerField.name);
  if (direct) found.push(direct);
  for (const alias of new Set(readerField.aliases)) {
    const byAlias = writer.fields.find((f) => f.name === alias);
    if (byAlias) found.push(byAlias);
  }
  if (found.length > 1) {
    const names = found.map((f) => `'${f.name}'`).join(', ');
    const detail = `Reader record field ${readerField.name} matches multiple fields in writer record schema ${writer.fullName}: ${names}`;
    throw new AmbiguousReaderField(incompatibility('AMBIGUOUS_READER_FIELD', detail, location));
  }
  return found[0];
}

function fixedSize(reader: FixedNode, writer: FixedNode, location: string[]): Incompatibility[] {
  if (reader.size === writer.size) return COMPATIBLE;
  location.push('size');
  const out = [incompatibility('FIXED_SIZE_MISMATCH', `expected: ${writer.size}, found: ${reader.size}`, location)];
  location.pop();
  return out;
}

function enumSymbols(reader: EnumNode, writer: EnumNode, location: string[]): Incompatibility[] {
  // Java collects the missing symbols in a TreeSet: sorted by UTF-16 code units, as JS sorts.
  const missing = [...new Set(writer.symbols)].filter((s) => !reader.symbols.includes(s)).sort();
  if (missing.length === 0) return COMPATIBLE;
  // A reader enum default stands in for every symbol the reader does not know.
  if (reader.default !== undefined && reader.symbols.includes(reader.default)) return COMPATIBLE;
  location.push('symbols');
  const out = [incompatibility('MISSING_ENUM_SYMBOLS', `[${missing.join(', ')}]`, location)];
  location.pop();
  return out;
}

function typeMismatch(reader: AvroNode, writer: AvroNode, location: string[]): Incompatibility[] {
  const detail = `reader type: ${avroTypeName(reader)} not compatible with writer type: ${avroTypeName(writer)}`;
  return [incompatibility('TYPE_MISMATCH', detail, location)];
}

function incompatibility(type: IncompatibilityType, detail: string, location: string[]): Incompatibility {
  // Java's Incompatibility.getLocation(): the root token is left out, the rest JSON-pointer escaped.
  const pointer = `/${location
    .slice(1)
    .map((t) => t.replace(/~/g, '~0').replace(/\//g, '~1'))
    .join('/')}`;
  const partial = { type, location: pointer, detail };
  const sentence = describeIncompatibility(partial, 'reader', 'writer');
  const message = type === 'READER_FIELD_MISSING_DEFAULT_VALUE' || type === 'MISSING_ENUM_SYMBOLS' ? sentence : `${sentence}: ${detail}`;
  return { ...partial, message };
}
