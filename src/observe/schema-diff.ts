/**
 * What changed between two versions of a registry subject: the fields added, removed, or whose
 * type or default changed (nested records by dotted path), and a line diff of the two schemas
 * pretty-printed. The line diff is a plain LCS here because no diff library is among the
 * dependencies, and schemas are a few hundred lines at most: common head and tail are cut first,
 * and a middle too large for the table is shown as removed then added.
 */

export interface FieldChange {
  /** Dotted path of the field (a nested record's fields under its field's name). */
  readonly field: string;
  readonly change: 'added' | 'removed' | 'type' | 'default';
  /** The type (added, removed, type) or the default as JSON (default; "(none)" when absent). */
  readonly from?: string;
  readonly to?: string;
}

export interface DiffLine {
  readonly op: ' ' | '+' | '-';
  readonly text: string;
}

export interface SchemaDiff {
  /** Whether both versions parsed as JSON; the field list is empty when not. */
  readonly parsed: boolean;
  readonly fields: FieldChange[];
  readonly lines: DiffLine[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface AvroField {
  name: string;
  type: Json;
  default?: Json;
}

const MAX_LCS_CELLS = 4_000_000;

export function schemaDiff(fromText: string, toText: string): SchemaDiff {
  const a = parse(fromText);
  const b = parse(toText);
  const parsed = a !== undefined && b !== undefined;
  return {
    parsed,
    fields: parsed ? fieldChanges(a, b) : [],
    lines: lineDiff(pretty(fromText, a), pretty(toText, b)),
  };
}

function parse(text: string): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

const pretty = (text: string, v: Json | undefined) => (v === undefined ? text : JSON.stringify(v, null, 2)).split('\n');

const isObject = (v: Json | undefined): v is { [k: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The record a type is or holds (alone or beside null in a union). */
function recordOf(t: Json): { [k: string]: Json } | undefined {
  if (isObject(t) && t.type === 'record' && Array.isArray(t.fields)) return t;
  if (Array.isArray(t)) {
    const records = t.map(recordOf).filter((r) => r !== undefined);
    return records.length === 1 ? records[0] : undefined;
  }
  return undefined;
}

/** A type as a reader would say it: `long (timestamp-micros)`, `null | string`, a record by its name. */
export function typeText(t: Json): string {
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return t.map(typeText).join(' | ');
  if (isObject(t)) {
    if (t.type === 'record' || t.type === 'enum' || t.type === 'fixed') return `${String(t.type)} ${String(t.name)}`;
    if (t.type === 'array') return `array<${typeText(t.items ?? null)}>`;
    if (t.type === 'map') return `map<${typeText(t.values ?? null)}>`;
    const logical = typeof t.logicalType === 'string' ? t.logicalType : undefined;
    if (logical === 'decimal') return `${typeText(t.type ?? null)} (decimal ${String(t.precision)},${String(t.scale ?? 0)})`;
    if (logical) return `${typeText(t.type ?? null)} (${logical})`;
    if (Object.keys(t).length === 1) return typeText(t.type ?? null);
    return JSON.stringify(t);
  }
  return JSON.stringify(t);
}

function fieldsOf(r: { [k: string]: Json } | undefined): Map<string, AvroField> {
  const out = new Map<string, AvroField>();
  for (const f of Array.isArray(r?.fields) ? r.fields : [])
    if (isObject(f) && typeof f.name === 'string') out.set(f.name, f as unknown as AvroField);
  return out;
}

export function fieldChanges(a: Json, b: Json, prefix = ''): FieldChange[] {
  const fa = fieldsOf(recordOf(a));
  const fb = fieldsOf(recordOf(b));
  const out: FieldChange[] = [];
  for (const [name, f] of fa) if (!fb.has(name)) out.push({ field: prefix + name, change: 'removed', from: typeText(f.type) });
  for (const [name, g] of fb) {
    const f = fa.get(name);
    const path = prefix + name;
    if (!f) {
      out.push({ field: path, change: 'added', to: typeText(g.type) });
      continue;
    }
    const ra = recordOf(f.type);
    const rb = recordOf(g.type);
    if (ra && rb) {
      if (ra.name !== rb.name) out.push({ field: path, change: 'type', from: typeText(f.type), to: typeText(g.type) });
      out.push(...fieldChanges(ra, rb, `${path}.`));
    } else if (JSON.stringify(f.type) !== JSON.stringify(g.type)) {
      // Types that read the same but differ in an attribute are shown whole.
      const [from, to] =
        typeText(f.type) === typeText(g.type) ? [JSON.stringify(f.type), JSON.stringify(g.type)] : [typeText(f.type), typeText(g.type)];
      out.push({ field: path, change: 'type', from, to });
    }
    const da = 'default' in f ? JSON.stringify(f.default) : '(none)';
    const db = 'default' in g ? JSON.stringify(g.default) : '(none)';
    if (da !== db) out.push({ field: path, change: 'default', from: da, to: db });
  }
  return out;
}

export function lineDiff(a: readonly string[], b: readonly string[]): DiffLine[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const same = (s: readonly string[]) => s.map((text): DiffLine => ({ op: ' ', text }));
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  let middle: DiffLine[];
  if (x.length * y.length > MAX_LCS_CELLS) {
    middle = [...x.map((text): DiffLine => ({ op: '-', text })), ...y.map((text): DiffLine => ({ op: '+', text }))];
  } else {
    // lcs[i][j]: length of the longest common subsequence of x[i..] and y[j..].
    const w = y.length + 1;
    const lcs = new Uint32Array((x.length + 1) * w);
    for (let i = x.length - 1; i >= 0; i--)
      for (let j = y.length - 1; j >= 0; j--)
        lcs[i * w + j] = x[i] === y[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    middle = [];
    let i = 0;
    let j = 0;
    while (i < x.length || j < y.length) {
      if (i < x.length && j < y.length && x[i] === y[j]) {
        middle.push({ op: ' ', text: x[i++]! });
        j++;
      } else if (i < x.length && (j === y.length || lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) middle.push({ op: '-', text: x[i++]! });
      else middle.push({ op: '+', text: y[j++]! });
    }
  }
  return [...same(a.slice(0, head)), ...middle, ...same(a.slice(a.length - tail))];
}
