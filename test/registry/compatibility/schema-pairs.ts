/**
 * Deterministic generator of (reader, writer) Avro schema pairs for the differential test. A pair
 * is a random schema and a mutated copy (field adds/removes with and without defaults, renames with
 * and without aliases, promotions, enum symbols and defaults, union branches, fixed sizes, named
 * type renames and namespaces, nesting, recursion), or now and then two unrelated schemas.
 *
 * Schemas are built as a small tree (`G`), mutated there, and written to JSON by `toJson`, which
 * also repairs what a mutation may break so that every schema is one Avro's Java parser accepts with
 * default validation: names defined twice become references, references to names no longer defined
 * become "string", unions are de-duplicated and flattened, every default is recomputed from the
 * field's final type (and dropped when no valid default exists).
 */

export type PrimName = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';
const PRIMS: readonly PrimName[] = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'];

type Named = { name: string; namespace?: string; aliases?: string[] };
export type G =
  | { t: 'prim'; name: PrimName; logical?: boolean }
  | ({ t: 'record'; error?: boolean; fields: GField[] } & Named)
  | ({ t: 'enum'; symbols: string[]; default?: string } & Named)
  | ({ t: 'fixed'; size: number } & Named)
  | { t: 'array'; items: G }
  | { t: 'map'; values: G }
  | { t: 'union'; branches: G[] }
  | { t: 'ref'; name: string };
export interface GField {
  name: string;
  type: G;
  hasDefault: boolean;
  aliases?: string[];
}

/** mulberry32: small, fast, good enough, and the same sequence on every machine. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

const RECORD_NAMES = ['Order', 'Item', 'Node', 'Inner', 'Address'];
const ENUM_NAMES = ['Color', 'Kind', 'Status'];
const FIXED_NAMES = ['Hash', 'Uid'];
const NAMESPACES = ['com.acme', 'org.other', 'com.acme.v2'];
const FIELD_NAMES = ['id', 'name', 'amount', 'count', 'tags', 'meta', 'status', 'payload', 'extra', 'a', 'b', 'c', 'd'];
const SYMBOLS = ['RED', 'GREEN', 'BLUE', 'BLACK', 'WHITE', 'UNKNOWN'];
/** Promotion partners first, so that type changes often land on the interesting cases. */
const PRIM_NEIGHBOURS: Record<PrimName, PrimName[]> = {
  null: ['string', 'int'],
  boolean: ['int', 'string'],
  int: ['long', 'float', 'double', 'string'],
  long: ['int', 'float', 'double'],
  float: ['double', 'long', 'int'],
  double: ['float', 'long', 'int'],
  bytes: ['string', 'fixed' as PrimName],
  string: ['bytes', 'int'],
};

// --- generation ------------------------------------------------------------------------------

class GenScope {
  /** Full names defined so far in this schema, in definition order (references may use them). */
  readonly defined: string[] = [];
  constructor(readonly rng: Rng) {}

  freshName(pool: readonly string[], namespace: string): { name: string; namespace?: string } {
    for (let attempt = 0; attempt < 6; attempt++) {
      const name = this.rng.pick(pool);
      if (!this.defined.includes(qualify(name, namespace))) return { name };
    }
    let i = 2;
    const base = this.rng.pick(pool);
    while (this.defined.includes(qualify(`${base}${i}`, namespace))) i++;
    return { name: `${base}${i}` };
  }
}

function qualify(name: string, namespace: string): string {
  return name.includes('.') || !namespace ? name : `${namespace}.${name}`;
}

function genPrim(rng: Rng): G {
  const name = rng.pick(PRIMS);
  const logical = (name === 'int' || name === 'long' || name === 'bytes' || name === 'string') && rng.chance(0.15);
  return logical ? { t: 'prim', name, logical } : { t: 'prim', name };
}

function genEnum(scope: GenScope, namespace: string): G {
  const { rng } = scope;
  const n = 1 + rng.int(4);
  const symbols = rng.shuffle([...SYMBOLS]).slice(0, n);
  const named = scope.freshName(ENUM_NAMES, namespace);
  scope.defined.push(qualify(named.name, namespace));
  const node: G = { t: 'enum', ...named, symbols };
  if (rng.chance(0.3)) node.default = rng.pick(symbols);
  return node;
}

function genFixed(scope: GenScope, namespace: string): G {
  const named = scope.freshName(FIXED_NAMES, namespace);
  scope.defined.push(qualify(named.name, namespace));
  return { t: 'fixed', ...named, size: scope.rng.pick([4, 8, 16]) };
}

function genRecord(scope: GenScope, namespace: string, depth: number, top = false): G {
  const { rng } = scope;
  let ns = namespace;
  const node = { t: 'record', fields: [] as GField[] } as Extract<G, { t: 'record' }>;
  if (top || rng.chance(0.15)) {
    const chosen = rng.pick(['', ...NAMESPACES]);
    if (chosen !== namespace) node.namespace = chosen;
    ns = chosen;
  }
  const named = scope.freshName(RECORD_NAMES, ns);
  node.name = named.name;
  if (rng.chance(0.1)) node.error = true;
  const full = qualify(node.name, ns);
  scope.defined.push(full);
  const count = 1 + rng.int(top ? 5 : 3);
  const names = rng.shuffle([...FIELD_NAMES]).slice(0, count);
  for (const fname of names) {
    node.fields.push({ name: fname, type: genType(scope, ns, depth + 1), hasDefault: rng.chance(0.35) });
  }
  if (depth < 2 && rng.chance(0.12)) {
    // Recursion: a nullable or repeated reference to the record itself.
    const self: G = { t: 'ref', name: rng.chance(0.5) ? full : node.name };
    const type: G = rng.chance(0.6) ? { t: 'union', branches: [{ t: 'prim', name: 'null' }, self] } : { t: 'array', items: self };
    node.fields.push({ name: 'next', type, hasDefault: rng.chance(0.5) });
  }
  return node;
}

function genType(scope: GenScope, namespace: string, depth: number): G {
  const { rng } = scope;
  const r = rng.next();
  const deep = depth >= 3;
  if (r < 0.42 || (deep && r < 0.75)) return genPrim(rng);
  if (r < 0.5) return genEnum(scope, namespace);
  if (r < 0.55) return genFixed(scope, namespace);
  if (r < 0.62) return { t: 'array', items: genType(scope, namespace, depth + 1) };
  if (r < 0.67) return { t: 'map', values: genType(scope, namespace, depth + 1) };
  if (r < 0.8) {
    const n = 2 + rng.int(2);
    const branches: G[] = rng.chance(0.6) ? [{ t: 'prim', name: 'null' }] : [];
    while (branches.length < n) branches.push(genType(scope, namespace, depth + 2));
    return { t: 'union', branches };
  }
  if (r < 0.84 && scope.defined.length > 0) return { t: 'ref', name: rng.pick(scope.defined) };
  if (deep) return genPrim(rng);
  return genRecord(scope, namespace, depth);
}

export function genSchema(rng: Rng): G {
  const scope = new GenScope(rng);
  if (rng.chance(0.85)) return genRecord(scope, '', 0, true);
  return genType(scope, '', 1);
}

// --- mutation --------------------------------------------------------------------------------

interface Site {
  node: G;
  set: (g: G) => void;
  /** The namespace a name written here resolves in (approximately: enough to pick aliases). */
  namespace: string;
}

function sites(root: G, setRoot: (g: G) => void): Site[] {
  const out: Site[] = [];
  const walk = (node: G, set: (g: G) => void, ns: string): void => {
    out.push({ node, set, namespace: ns });
    switch (node.t) {
      case 'record': {
        const inner = node.name.includes('.') ? node.name.slice(0, node.name.lastIndexOf('.')) : (node.namespace ?? ns);
        for (const f of node.fields) walk(f.type, (g) => (f.type = g), inner);
        break;
      }
      case 'array':
        walk(node.items, (g) => (node.items = g), ns);
        break;
      case 'map':
        walk(node.values, (g) => (node.values = g), ns);
        break;
      case 'union':
        node.branches.forEach((b, i) => walk(b, (g) => (node.branches[i] = g), ns));
        break;
      default:
        break;
    }
  };
  walk(root, setRoot, '');
  return out;
}

/** The kinds of mutation, so the test can report what it covered. */
export const MUTATIONS = [
  'add-field-default',
  'add-field-no-default',
  'add-enum-field-with-enum-default',
  'remove-field',
  'rename-field',
  'rename-field-with-alias',
  'field-alias',
  'toggle-field-default',
  'reorder-fields',
  'rename-record',
  'rename-record-with-alias',
  'change-namespace',
  'record-error-toggle',
  'enum-add-symbol',
  'enum-remove-symbol',
  'enum-toggle-default',
  'enum-reorder',
  'rename-named',
  'fixed-size',
  'prim-change',
  'wrap-nullable',
  'union-add-branch',
  'union-remove-branch',
  'union-reorder',
  'union-unwrap',
  'array-map-swap',
  'wrap-array',
  'replace-type',
  'toggle-logical',
] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** Applies one random applicable mutation in place; returns its name (or null if none applied). */
export function mutate(rng: Rng, holder: { root: G }): Mutation | null {
  const all = sites(holder.root, (g) => (holder.root = g));
  const scope = new GenScope(rng);
  for (const s of all) {
    if (s.node.t === 'record' || s.node.t === 'enum' || s.node.t === 'fixed')
      scope.defined.push(qualify(s.node.name, s.node.namespace ?? s.namespace));
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    const kind = rng.pick(MUTATIONS);
    const candidates = all.filter((s) => appliesTo(kind, s.node));
    if (candidates.length === 0) continue;
    if (apply(kind, rng.pick(candidates), rng, scope)) return kind;
  }
  return null;
}

/** Which nodes a mutation is about, so that rare kinds (enum, fixed) are still mutated often. */
function appliesTo(kind: Mutation, node: G): boolean {
  if (kind.startsWith('enum-')) return node.t === 'enum';
  if (kind === 'fixed-size') return node.t === 'fixed';
  if (kind === 'rename-named' || kind === 'change-namespace') return node.t === 'record' || node.t === 'enum' || node.t === 'fixed';
  if (kind.includes('field') || kind.includes('record')) return node.t === 'record';
  if (kind.startsWith('union-')) return node.t === 'union';
  if (kind === 'prim-change' || kind === 'toggle-logical') return node.t === 'prim';
  if (kind === 'array-map-swap') return node.t === 'array' || node.t === 'map';
  return true;
}

function apply(kind: Mutation, site: Site, rng: Rng, scope: GenScope): boolean {
  const node = site.node;
  const fieldType = (): G => {
    if (rng.chance(0.2)) return genType(scope, site.namespace, 2);
    return genPrim(rng);
  };
  switch (kind) {
    case 'add-field-default':
    case 'add-field-no-default': {
      if (node.t !== 'record') return false;
      const free = FIELD_NAMES.filter((n) => !node.fields.some((f) => f.name === n));
      if (free.length === 0) return false;
      const field: GField = { name: rng.pick(free), type: fieldType(), hasDefault: kind === 'add-field-default' };
      node.fields.splice(rng.int(node.fields.length + 1), 0, field);
      return true;
    }
    case 'add-enum-field-with-enum-default': {
      if (node.t !== 'record') return false;
      const free = FIELD_NAMES.filter((n) => !node.fields.some((f) => f.name === n));
      if (free.length === 0) return false;
      const type = genEnum(scope, site.namespace) as Extract<G, { t: 'enum' }>;
      type.default = rng.pick(type.symbols);
      node.fields.push({ name: rng.pick(free), type, hasDefault: rng.chance(0.25) });
      return true;
    }
    case 'remove-field': {
      if (node.t !== 'record' || node.fields.length < 2) return false;
      node.fields.splice(rng.int(node.fields.length), 1);
      return true;
    }
    case 'rename-field':
    case 'rename-field-with-alias': {
      if (node.t !== 'record' || node.fields.length === 0) return false;
      const f = rng.pick(node.fields);
      const free = FIELD_NAMES.filter((n) => !node.fields.some((x) => x.name === n));
      if (free.length === 0) return false;
      const old = f.name;
      f.name = rng.pick(free);
      if (kind === 'rename-field-with-alias') f.aliases = [...(f.aliases ?? []), old];
      return true;
    }
    case 'field-alias': {
      if (node.t !== 'record' || node.fields.length === 0) return false;
      const f = rng.pick(node.fields);
      // Another field's name (which can make a reader field match two writer fields) or any name.
      const alias = rng.chance(0.5) ? rng.pick(node.fields).name : rng.pick(FIELD_NAMES);
      f.aliases = [...(f.aliases ?? []), alias];
      return true;
    }
    case 'toggle-field-default': {
      if (node.t !== 'record' || node.fields.length === 0) return false;
      const f = rng.pick(node.fields);
      f.hasDefault = !f.hasDefault;
      return true;
    }
    case 'reorder-fields': {
      if (node.t !== 'record' || node.fields.length < 2) return false;
      rng.shuffle(node.fields);
      return true;
    }
    case 'rename-record':
    case 'rename-record-with-alias':
    case 'rename-named': {
      if (node.t !== 'record' && node.t !== 'enum' && node.t !== 'fixed') return false;
      if (kind !== 'rename-named' && node.t !== 'record') return false;
      const ns = node.name.includes('.') ? node.name.slice(0, node.name.lastIndexOf('.')) : (node.namespace ?? site.namespace);
      const oldSimple = node.name.includes('.') ? node.name.slice(node.name.lastIndexOf('.') + 1) : node.name;
      const pool = node.t === 'record' ? RECORD_NAMES : node.t === 'enum' ? ENUM_NAMES : FIXED_NAMES;
      const renamed = scope.freshName(pool, ns).name;
      node.name = renamed;
      if (node.namespace === undefined && ns !== site.namespace) node.namespace = ns;
      if (kind === 'rename-record-with-alias' || (kind === 'rename-named' && rng.chance(0.4))) {
        // The old name, written simple (qualified by this type's namespace) or full.
        const alias = rng.chance(0.5) ? oldSimple : qualify(oldSimple, ns);
        node.aliases = [...(node.aliases ?? []), rng.chance(0.15) ? `other.ns.${oldSimple}` : alias];
      }
      return true;
    }
    case 'change-namespace': {
      if (node.t !== 'record' && node.t !== 'enum' && node.t !== 'fixed') return false;
      if (node.name.includes('.')) node.name = node.name.slice(node.name.lastIndexOf('.') + 1);
      node.namespace = rng.pick(['', ...NAMESPACES]);
      if (rng.chance(0.3)) {
        node.name = `${rng.pick(NAMESPACES)}.${node.name}`;
        delete node.namespace;
      }
      return true;
    }
    case 'record-error-toggle': {
      if (node.t !== 'record') return false;
      node.error = !node.error;
      return true;
    }
    case 'enum-add-symbol': {
      if (node.t !== 'enum') return false;
      const free = SYMBOLS.filter((s) => !node.symbols.includes(s));
      if (free.length === 0) return false;
      node.symbols.splice(rng.int(node.symbols.length + 1), 0, rng.pick(free));
      return true;
    }
    case 'enum-remove-symbol': {
      if (node.t !== 'enum' || node.symbols.length < 2) return false;
      const [removed] = node.symbols.splice(rng.int(node.symbols.length), 1);
      if (node.default === removed) delete node.default;
      return true;
    }
    case 'enum-toggle-default': {
      if (node.t !== 'enum') return false;
      if (node.default === undefined) node.default = rng.pick(node.symbols);
      else delete node.default;
      return true;
    }
    case 'enum-reorder': {
      if (node.t !== 'enum' || node.symbols.length < 2) return false;
      rng.shuffle(node.symbols);
      return true;
    }
    case 'fixed-size': {
      if (node.t !== 'fixed') return false;
      node.size = rng.pick([2, 4, 8, 16, 32].filter((n) => n !== node.size));
      return true;
    }
    case 'prim-change': {
      if (node.t !== 'prim') return false;
      const to = rng.pick(PRIM_NEIGHBOURS[node.name]);
      site.set(
        to === ('fixed' as PrimName) ? genFixed(scope, site.namespace) : { t: 'prim', name: rng.chance(0.8) ? to : rng.pick(PRIMS) },
      );
      return true;
    }
    case 'wrap-nullable': {
      if (node.t === 'union') return false;
      const nul: G = { t: 'prim', name: 'null' };
      site.set({ t: 'union', branches: rng.chance(0.7) ? [nul, node] : [node, nul] });
      return true;
    }
    case 'union-add-branch': {
      if (node.t !== 'union') return false;
      node.branches.splice(rng.int(node.branches.length + 1), 0, rng.chance(0.7) ? genPrim(rng) : genType(scope, site.namespace, 3));
      return true;
    }
    case 'union-remove-branch': {
      if (node.t !== 'union' || node.branches.length < 2) return false;
      node.branches.splice(rng.int(node.branches.length), 1);
      return true;
    }
    case 'union-reorder': {
      if (node.t !== 'union' || node.branches.length < 2) return false;
      rng.shuffle(node.branches);
      return true;
    }
    case 'union-unwrap': {
      if (node.t !== 'union') return false;
      const keep = node.branches.filter((b) => !(b.t === 'prim' && b.name === 'null'));
      site.set(keep.length > 0 ? rng.pick(keep) : { t: 'prim', name: 'null' });
      return true;
    }
    case 'array-map-swap': {
      if (node.t === 'array') site.set({ t: 'map', values: node.items });
      else if (node.t === 'map') site.set({ t: 'array', items: node.values });
      else return false;
      return true;
    }
    case 'wrap-array': {
      site.set(rng.chance(0.5) ? { t: 'array', items: node } : { t: 'map', values: node });
      return true;
    }
    case 'replace-type': {
      site.set(genType(scope, site.namespace, 2));
      return true;
    }
    case 'toggle-logical': {
      if (node.t !== 'prim' || !['int', 'long', 'bytes', 'string'].includes(node.name)) return false;
      if (node.logical) delete node.logical;
      else node.logical = true;
      return true;
    }
  }
}

// --- JSON, with repairs ----------------------------------------------------------------------

/** What `toJson` knows of a written type, enough to compute a valid default for it. */
type R =
  | { k: 'prim'; name: PrimName }
  | { k: 'record'; fields: Array<{ name: string; type: R }>; complete: boolean }
  | { k: 'enum'; symbols: string[] }
  | { k: 'fixed'; size: number }
  | { k: 'array'; items: R }
  | { k: 'map'; values: R }
  | { k: 'union'; branches: R[] };

const NO_DEFAULT = Symbol('no valid default');

function defaultFor(r: R, stack: Set<R> = new Set()): unknown {
  switch (r.k) {
    case 'prim':
      return { null: null, boolean: true, int: 7, long: 70, float: 1.5, double: 2.5, bytes: '\u0001', string: 's' }[r.name];
    case 'enum':
      return r.symbols[0];
    case 'fixed':
      return 'x'.repeat(r.size);
    case 'array':
      return [];
    case 'map':
      return {};
    case 'union':
      return r.branches.length > 0 ? defaultFor(r.branches[0]!, stack) : NO_DEFAULT;
    case 'record': {
      // Java validates a default when it builds the field: a record still being parsed has no
      // fields yet (and a recursive record has no finite value), so there is no default to give.
      if (!r.complete || stack.has(r)) return NO_DEFAULT;
      stack.add(r);
      const out: Record<string, unknown> = {};
      for (const f of r.fields) {
        const v = defaultFor(f.type, stack);
        if (v === NO_DEFAULT) {
          stack.delete(r);
          return NO_DEFAULT;
        }
        out[f.name] = v;
      }
      stack.delete(r);
      return out;
    }
  }
}

const LOGICAL: Partial<Record<PrimName, Record<string, unknown>>> = {
  int: { logicalType: 'date' },
  long: { logicalType: 'timestamp-millis' },
  bytes: { logicalType: 'decimal', precision: 9, scale: 2 },
  string: { logicalType: 'uuid' },
};

/** Writes a schema as Avro JSON, repairing what mutations may have made invalid. */
export function toJson(root: G): unknown {
  const defined = new Map<string, R>();
  const write = (node: G, ns: string): { json: unknown; r: R; key: string } => {
    switch (node.t) {
      case 'prim': {
        const json = node.logical && LOGICAL[node.name] ? { type: node.name, ...LOGICAL[node.name] } : node.name;
        return { json, r: { k: 'prim', name: node.name }, key: node.name };
      }
      case 'ref': {
        const candidates = node.name.includes('.') ? [node.name] : ns ? [`${ns}.${node.name}`, node.name] : [node.name];
        for (const c of candidates) {
          const r = defined.get(c);
          if (r) return { json: node.name, r, key: c };
        }
        return { json: 'string', r: { k: 'prim', name: 'string' }, key: 'string' };
      }
      case 'array': {
        const items = write(node.items, ns);
        return { json: { type: 'array', items: items.json }, r: { k: 'array', items: items.r }, key: 'array' };
      }
      case 'map': {
        const values = write(node.values, ns);
        return { json: { type: 'map', values: values.json }, r: { k: 'map', values: values.r }, key: 'map' };
      }
      case 'union': {
        const json: unknown[] = [];
        const branches: R[] = [];
        const keys = new Set<string>();
        const flat = node.branches.flatMap((b) => (b.t === 'union' ? b.branches : [b]));
        for (const b of flat) {
          if (b.t === 'union') continue;
          // A named type written twice is replaced by a reference before its key is known, so
          // compute the key without writing a second definition.
          const key = keyOf(b, ns, defined);
          if (keys.has(key)) continue;
          const w = write(b, ns);
          if (keys.has(w.key)) continue;
          keys.add(w.key);
          json.push(w.json);
          branches.push(w.r);
        }
        if (json.length === 0) return { json: 'null', r: { k: 'prim', name: 'null' }, key: 'null' };
        return { json, r: { k: 'union', branches }, key: 'union' };
      }
      case 'record':
      case 'enum':
      case 'fixed': {
        const space = node.name.includes('.') ? node.name.slice(0, node.name.lastIndexOf('.')) : (node.namespace ?? ns);
        const full = qualify(node.name, space);
        const existing = defined.get(full);
        if (existing) return { json: full, r: existing, key: full };
        const json: Record<string, unknown> = { type: node.t === 'record' && node.error ? 'error' : node.t, name: node.name };
        if (node.namespace !== undefined && !node.name.includes('.')) json.namespace = node.namespace;
        if (node.aliases?.length) json.aliases = [...node.aliases];
        if (node.t === 'enum') {
          const symbols = [...new Set(node.symbols)];
          if (symbols.length === 0) symbols.push('UNKNOWN');
          json.symbols = symbols;
          if (node.default !== undefined && symbols.includes(node.default)) json.default = node.default;
          const r: R = { k: 'enum', symbols };
          defined.set(full, r);
          return { json, r, key: full };
        }
        if (node.t === 'fixed') {
          json.size = node.size;
          const r: R = { k: 'fixed', size: node.size };
          defined.set(full, r);
          return { json, r, key: full };
        }
        const r: Extract<R, { k: 'record' }> = { k: 'record', fields: [], complete: false };
        defined.set(full, r); // before the fields: they may refer to the record itself
        const fields: unknown[] = [];
        const seen = new Set<string>();
        for (const f of node.fields) {
          if (seen.has(f.name)) continue;
          seen.add(f.name);
          const w = write(f.type, space);
          const field: Record<string, unknown> = { name: f.name, type: w.json };
          if (f.aliases?.length) field.aliases = [...new Set(f.aliases)];
          if (f.hasDefault) {
            const value = defaultFor(w.r);
            if (value !== NO_DEFAULT) field.default = value;
          }
          fields.push(field);
          r.fields.push({ name: f.name, type: w.r });
        }
        r.complete = true;
        json.fields = fields;
        return { json, r, key: full };
      }
    }
  };
  return write(root, '').json;
}

function keyOf(node: G, ns: string, defined: Map<string, R>): string {
  switch (node.t) {
    case 'prim':
      return node.name;
    case 'array':
    case 'map':
    case 'union':
      return node.t;
    case 'ref': {
      const candidates = node.name.includes('.') ? [node.name] : ns ? [`${ns}.${node.name}`, node.name] : [node.name];
      return candidates.find((c) => defined.has(c)) ?? 'string';
    }
    default: {
      const space = node.name.includes('.') ? node.name.slice(0, node.name.lastIndexOf('.')) : (node.namespace ?? ns);
      return qualify(node.name, space);
    }
  }
}

export interface SchemaPair {
  id: number;
  reader: string;
  writer: string;
  /** How the pair was made: the mutations applied, or "unrelated". */
  how: string[];
}

/** `count` pairs from `seed`; the same arguments give the same pairs everywhere. */
export function generatePairs(seed: number, count: number): SchemaPair[] {
  const rng = new Rng(seed);
  const pairs: SchemaPair[] = [];
  for (let id = 0; id < count; id++) {
    const base = genSchema(rng);
    let other: G;
    const how: string[] = [];
    if (rng.chance(0.08)) {
      other = genSchema(rng);
      how.push('unrelated');
    } else {
      const holder = { root: structuredClone(base) };
      const n = rng.pick([0, 1, 1, 1, 1, 2, 2, 3]);
      for (let i = 0; i < n; i++) {
        const m = mutate(rng, holder);
        if (m) how.push(m);
      }
      other = holder.root;
    }
    const [a, b] = rng.chance(0.5) ? [base, other] : [other, base];
    pairs.push({ id, reader: JSON.stringify(toJson(a)), writer: JSON.stringify(toJson(b)), how });
  }
  return pairs;
}
