/**
 * A parsed Avro schema as the registry reasons about it: names resolved to full names, named types
 * shared by reference (so recursive schemas are cyclic graphs), and every attribute that the
 * schema-resolution rules or the canonical text need kept. Parsing validates what Apache Avro's
 * Java parser validates (names, duplicates, unions, fixed sizes, enum symbols, and defaults when
 * asked), because the registry must refuse with 42201 exactly what Confluent's registry refuses.
 *
 * Written by hand because avsc resolves full names differently from the specification (it compares
 * namespaced names where the spec matches records by unqualified name) and keeps no raw attributes.
 */
import { SluiceError } from '../../core/errors.js';

export const PRIMITIVES = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'] as const;
export type PrimitiveName = (typeof PRIMITIVES)[number];

export type Props = Record<string, unknown>;

export interface PrimitiveNode {
  kind: 'primitive';
  type: PrimitiveName;
  props: Props;
}
export interface RecordNode {
  kind: 'record';
  /** 'record' or 'error' (an error is a record for resolution). */
  type: 'record' | 'error';
  name: string;
  namespace: string;
  fullName: string;
  aliases: string[];
  doc?: string;
  fields: FieldNode[];
  props: Props;
}
export interface FieldNode {
  name: string;
  aliases: string[];
  doc?: string;
  type: AvroNode;
  hasDefault: boolean;
  default?: unknown;
  order?: 'ascending' | 'descending' | 'ignore';
  props: Props;
}
export interface EnumNode {
  kind: 'enum';
  name: string;
  namespace: string;
  fullName: string;
  aliases: string[];
  doc?: string;
  symbols: string[];
  default?: string;
  props: Props;
}
export interface FixedNode {
  kind: 'fixed';
  name: string;
  namespace: string;
  fullName: string;
  aliases: string[];
  doc?: string;
  size: number;
  props: Props;
}
export interface ArrayNode {
  kind: 'array';
  items: AvroNode;
  props: Props;
}
export interface MapNode {
  kind: 'map';
  values: AvroNode;
  props: Props;
}
export interface UnionNode {
  kind: 'union';
  branches: AvroNode[];
}

export type NamedNode = RecordNode | EnumNode | FixedNode;
export type AvroNode = PrimitiveNode | RecordNode | EnumNode | FixedNode | ArrayNode | MapNode | UnionNode;

export interface ParseOptions {
  /** Named types defined elsewhere (schema references), by full name. */
  namedTypes?: Map<string, NamedNode>;
  /** Check that every field default fits its type (Confluent does for new registrations). */
  validateDefaults?: boolean;
}

export interface ParsedSchema {
  root: AvroNode;
  /** Named types this schema defines itself (not those it took from references), by full name. */
  defined: Map<string, NamedNode>;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED: Record<string, readonly string[]> = {
  record: ['type', 'name', 'namespace', 'doc', 'fields', 'aliases'],
  error: ['type', 'name', 'namespace', 'doc', 'fields', 'aliases'],
  enum: ['type', 'name', 'namespace', 'doc', 'symbols', 'aliases', 'default'],
  fixed: ['type', 'name', 'namespace', 'doc', 'size', 'aliases'],
  array: ['type', 'items'],
  map: ['type', 'values'],
  field: ['name', 'type', 'doc', 'default', 'order', 'aliases'],
  primitive: ['type'],
};

export function invalidSchema(message: string): SluiceError {
  return new SluiceError('SLUICE_ERR_SCHEMA_INVALID', message);
}

/** Parses schema text (JSON) into the model; throws SLUICE_ERR_SCHEMA_INVALID naming the problem. */
export function parseAvroSchema(text: string, opts: ParseOptions = {}): ParsedSchema {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // A bare name such as `string` (not JSON) is what Avro's parser also rejects.
    throw invalidSchema(`Invalid schema: not valid JSON (${(err as Error).message})`);
  }
  return parseAvroJson(json, opts);
}

export function parseAvroJson(json: unknown, opts: ParseOptions = {}): ParsedSchema {
  const parser = new Parser(opts);
  const root = parser.parse(json, '');
  if (opts.validateDefaults) parser.validateDefaults();
  return { root, defined: parser.defined };
}

class Parser {
  readonly defined = new Map<string, NamedNode>();
  private readonly external: Map<string, NamedNode>;
  private readonly defaultChecks: Array<{ field: FieldNode; where: string }> = [];

  constructor(opts: ParseOptions) {
    this.external = opts.namedTypes ?? new Map();
  }

  parse(json: unknown, ns: string): AvroNode {
    if (typeof json === 'string') return this.reference(json, ns);
    if (Array.isArray(json)) return this.union(json, ns);
    if (json === null || typeof json !== 'object') {
      throw invalidSchema(`Invalid schema: expected a type name, an object or an array, got ${JSON.stringify(json)}`);
    }
    const obj = json as Record<string, unknown>;
    const type = obj.type;
    if (typeof type !== 'string') {
      if (type !== undefined && (Array.isArray(type) || typeof type === 'object')) {
        // {"type": {...}} or {"type": [...]}: Avro accepts a nested schema as the type.
        return this.parse(type, ns);
      }
      throw invalidSchema(`Invalid schema: no "type" in ${JSON.stringify(obj).slice(0, 200)}`);
    }
    switch (type) {
      case 'record':
      case 'error':
        return this.record(obj, type, ns);
      case 'enum':
        return this.enumType(obj, ns);
      case 'fixed':
        return this.fixed(obj, ns);
      case 'array': {
        if (!('items' in obj)) throw invalidSchema('Invalid schema: array has no "items"');
        return { kind: 'array', items: this.parse(obj.items, ns), props: props(obj, 'array') };
      }
      case 'map': {
        if (!('values' in obj)) throw invalidSchema('Invalid schema: map has no "values"');
        return { kind: 'map', values: this.parse(obj.values, ns), props: props(obj, 'map') };
      }
      default:
        if ((PRIMITIVES as readonly string[]).includes(type)) {
          return { kind: 'primitive', type: type as PrimitiveName, props: props(obj, 'primitive') };
        }
        // {"type": "com.x.Named"} is a reference written as an object.
        return this.reference(type, ns);
    }
  }

  private reference(name: string, ns: string): AvroNode {
    if ((PRIMITIVES as readonly string[]).includes(name)) return { kind: 'primitive', type: name as PrimitiveName, props: {} };
    const candidates = name.includes('.') ? [name] : ns ? [`${ns}.${name}`, name] : [name];
    for (const c of candidates) {
      const found = this.defined.get(c) ?? this.external.get(c);
      if (found) return found;
    }
    throw invalidSchema(`Invalid schema: undefined name "${name}"${ns ? ` (namespace "${ns}")` : ''}`);
  }

  private union(items: unknown[], ns: string): UnionNode {
    const branches = items.map((i) => this.parse(i, ns));
    const seen = new Set<string>();
    for (const b of branches) {
      if (b.kind === 'union') throw invalidSchema('Invalid schema: a union may not immediately contain another union');
      const key = b.kind === 'record' || b.kind === 'enum' || b.kind === 'fixed' ? b.fullName : b.kind === 'primitive' ? b.type : b.kind;
      if (seen.has(key)) throw invalidSchema(`Invalid schema: duplicate type "${key}" in union`);
      seen.add(key);
    }
    return { kind: 'union', branches };
  }

  private named(
    obj: Record<string, unknown>,
    ns: string,
    what: string,
  ): { name: string; namespace: string; fullName: string; aliases: string[]; doc?: string } {
    const raw = obj.name;
    if (typeof raw !== 'string' || raw === '') throw invalidSchema(`Invalid schema: ${what} has no "name"`);
    let namespace: string;
    let name: string;
    if (raw.includes('.')) {
      namespace = raw.slice(0, raw.lastIndexOf('.'));
      name = raw.slice(raw.lastIndexOf('.') + 1);
    } else {
      name = raw;
      if (obj.namespace !== undefined && obj.namespace !== null && typeof obj.namespace !== 'string') {
        throw invalidSchema(`Invalid schema: namespace of "${raw}" must be a string`);
      }
      namespace = typeof obj.namespace === 'string' ? obj.namespace : ns;
    }
    checkName(name, `${what} name`);
    // Avro 1.11 (the reference Confluent uses) validates only the simple name, not namespace parts.
    const fullName = namespace ? `${namespace}.${name}` : name;
    if ((PRIMITIVES as readonly string[]).includes(fullName))
      throw invalidSchema(`Invalid schema: "${fullName}" is a primitive type name and cannot be redefined`);
    if (this.defined.has(fullName) || this.external.has(fullName)) throw invalidSchema(`Invalid schema: can't redefine: ${fullName}`);
    const aliases = aliasList(obj.aliases, namespace, `${what} "${fullName}"`);
    const doc = typeof obj.doc === 'string' ? obj.doc : undefined;
    return { name, namespace, fullName, aliases, ...(doc === undefined ? {} : { doc }) };
  }

  private record(obj: Record<string, unknown>, type: 'record' | 'error', ns: string): RecordNode {
    const base = this.named(obj, ns, 'record');
    const node: RecordNode = { kind: 'record', type, ...base, fields: [], props: props(obj, type) };
    this.defined.set(node.fullName, node); // before the fields: a record may refer to itself
    if (!Array.isArray(obj.fields)) throw invalidSchema(`Invalid schema: record "${node.fullName}" has no "fields" array`);
    const names = new Set<string>();
    for (const f of obj.fields as unknown[]) {
      if (f === null || typeof f !== 'object' || Array.isArray(f))
        throw invalidSchema(`Invalid schema: a field of "${node.fullName}" is not an object`);
      const fo = f as Record<string, unknown>;
      if (typeof fo.name !== 'string') throw invalidSchema(`Invalid schema: a field of "${node.fullName}" has no "name"`);
      checkName(fo.name, `field name in "${node.fullName}"`);
      if (names.has(fo.name)) throw invalidSchema(`Invalid schema: duplicate field "${fo.name}" in record "${node.fullName}"`);
      names.add(fo.name);
      if (!('type' in fo)) throw invalidSchema(`Invalid schema: field "${fo.name}" of "${node.fullName}" has no "type"`);
      const order = fo.order;
      if (order !== undefined && order !== 'ascending' && order !== 'descending' && order !== 'ignore') {
        throw invalidSchema(`Invalid schema: field "${fo.name}" of "${node.fullName}" has an invalid order ${JSON.stringify(order)}`);
      }
      const field: FieldNode = {
        name: fo.name,
        aliases: fieldAliases(fo.aliases, `field "${fo.name}" of "${node.fullName}"`),
        type: this.parse(fo.type, node.namespace),
        hasDefault: 'default' in fo,
        props: props(fo, 'field'),
      };
      if ('default' in fo) field.default = fo.default;
      if (typeof fo.doc === 'string') field.doc = fo.doc;
      if (order !== undefined) field.order = order;
      node.fields.push(field);
      if (field.hasDefault) this.defaultChecks.push({ field, where: `field "${field.name}" of "${node.fullName}"` });
    }
    return node;
  }

  private enumType(obj: Record<string, unknown>, ns: string): EnumNode {
    const base = this.named(obj, ns, 'enum');
    if (!Array.isArray(obj.symbols)) throw invalidSchema(`Invalid schema: enum "${base.fullName}" has no "symbols" array`);
    const symbols: string[] = [];
    for (const s of obj.symbols as unknown[]) {
      if (typeof s !== 'string') throw invalidSchema(`Invalid schema: enum "${base.fullName}" has a symbol that is not a string`);
      checkName(s, `symbol of enum "${base.fullName}"`);
      if (symbols.includes(s)) throw invalidSchema(`Invalid schema: duplicate enum symbol "${s}" in "${base.fullName}"`);
      symbols.push(s);
    }
    const node: EnumNode = { kind: 'enum', ...base, symbols, props: props(obj, 'enum') };
    // `"default": null` means no default to Avro's Java parser.
    if (obj.default !== undefined && obj.default !== null) {
      if (typeof obj.default !== 'string' || !symbols.includes(obj.default)) {
        throw invalidSchema(`Invalid schema: default ${JSON.stringify(obj.default)} of enum "${base.fullName}" is not one of its symbols`);
      }
      node.default = obj.default;
    }
    this.defined.set(node.fullName, node);
    return node;
  }

  private fixed(obj: Record<string, unknown>, ns: string): FixedNode {
    const base = this.named(obj, ns, 'fixed');
    const size = obj.size;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
      throw invalidSchema(`Invalid schema: fixed "${base.fullName}" needs a non-negative integer "size"`);
    }
    const node: FixedNode = { kind: 'fixed', ...base, size, props: props(obj, 'fixed') };
    this.defined.set(node.fullName, node);
    return node;
  }

  validateDefaults(): void {
    for (const { field, where } of this.defaultChecks) {
      if (!isValidDefault(field.type, field.default)) {
        throw invalidSchema(`Invalid default for ${where}: ${JSON.stringify(field.default)} is not a ${describeType(field.type)}`);
      }
    }
  }
}

function checkName(name: string, what: string): void {
  if (!NAME_RE.test(name)) throw invalidSchema(`Invalid schema: illegal ${what}: "${name}"`);
}

function aliasList(raw: unknown, ns: string, what: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.some((a) => typeof a !== 'string'))
    throw invalidSchema(`Invalid schema: aliases of ${what} must be an array of strings`);
  return (raw as string[]).map((a) => (a.includes('.') || !ns ? a : `${ns}.${a}`));
}

function fieldAliases(raw: unknown, what: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.some((a) => typeof a !== 'string'))
    throw invalidSchema(`Invalid schema: aliases of ${what} must be an array of strings`);
  return raw as string[];
}

function props(obj: Record<string, unknown>, kind: keyof typeof RESERVED): Props {
  const reserved = RESERVED[kind]!;
  const out: Props = {};
  for (const [k, v] of Object.entries(obj)) if (!reserved.includes(k)) out[k] = v;
  return out;
}

/** Whether a JSON default value fits a type, as Avro's `Schema.isValidDefault` decides it. */
export function isValidDefault(type: AvroNode, value: unknown): boolean {
  switch (type.kind) {
    case 'primitive':
      switch (type.type) {
        case 'null':
          return value === null;
        case 'boolean':
          return typeof value === 'boolean';
        case 'int':
          return typeof value === 'number' && Number.isInteger(value) && value >= -2147483648 && value <= 2147483647;
        case 'long':
          return typeof value === 'number' && Number.isInteger(value);
        case 'float':
        case 'double':
          return typeof value === 'number' || value === 'NaN' || value === 'Infinity' || value === '-Infinity';
        case 'bytes':
        case 'string':
          return typeof value === 'string';
      }
      return false;
    case 'fixed':
      return typeof value === 'string';
    case 'enum':
      return typeof value === 'string' && type.symbols.includes(value);
    case 'array':
      return Array.isArray(value) && value.every((v) => isValidDefault(type.items, v));
    case 'map':
      return (
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.values(value).every((v) => isValidDefault(type.values, v))
      );
    case 'record':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
      return type.fields.every((f) => {
        const v = (value as Record<string, unknown>)[f.name];
        if (v === undefined) return f.hasDefault;
        return isValidDefault(f.type, v);
      });
    case 'union':
      // The specification: a union's default corresponds to its first branch.
      return type.branches.length > 0 && isValidDefault(type.branches[0]!, value);
  }
}

export function describeType(t: AvroNode): string {
  switch (t.kind) {
    case 'primitive':
      return t.type;
    case 'record':
    case 'enum':
    case 'fixed':
      return `${t.kind} ${t.fullName}`;
    case 'array':
      return `array of ${describeType(t.items)}`;
    case 'map':
      return `map of ${describeType(t.values)}`;
    case 'union':
      return `union [${t.branches.map(describeType).join(', ')}]`;
  }
}

/** The type's name as the resolution rules use it: a named type's unqualified name. */
export function unqualified(fullName: string): string {
  const i = fullName.lastIndexOf('.');
  return i < 0 ? fullName : fullName.slice(i + 1);
}
