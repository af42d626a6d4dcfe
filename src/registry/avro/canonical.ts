/**
 * Text forms of a parsed schema. The registry stores and compares schemas by their canonical text,
 * as Confluent's registry compares `AvroSchema.canonicalString()` (Avro's `Schema.toString()`):
 * compact JSON, attributes in a fixed order, each named type written out once and referred to by
 * name afterwards, so whitespace and key order never make two schemas differ.
 *
 * `normalized` (the REST API's `normalize=true`) goes further: every name written in full, no
 * `namespace` attributes, custom properties sorted, so schemas that only differ in how names were
 * spelled compare equal.
 */
import type { AvroNode, FieldNode, NamedNode, Props } from './schema-model.js';

export function canonicalText(root: AvroNode): string {
  return JSON.stringify(toJson(root, { normalized: false }));
}

export function normalizedText(root: AvroNode): string {
  return JSON.stringify(toJson(root, { normalized: true }));
}

interface Ctx {
  normalized: boolean;
  written: Set<string>;
}

function toJson(root: AvroNode, o: { normalized: boolean }): unknown {
  return node(root, '', { ...o, written: new Set() });
}

function node(t: AvroNode, ns: string, ctx: Ctx): unknown {
  switch (t.kind) {
    case 'primitive':
      return Object.keys(t.props).length === 0 ? t.type : { type: t.type, ...sortedProps(t.props, ctx) };
    case 'array':
      return { type: 'array', items: node(t.items, ns, ctx), ...sortedProps(t.props, ctx) };
    case 'map':
      return { type: 'map', values: node(t.values, ns, ctx), ...sortedProps(t.props, ctx) };
    case 'union':
      return t.branches.map((b) => node(b, ns, ctx));
    default:
      return named(t, ns, ctx);
  }
}

function named(t: NamedNode, ns: string, ctx: Ctx): unknown {
  if (ctx.written.has(t.fullName)) return ctx.normalized ? t.fullName : refName(t, ns);
  ctx.written.add(t.fullName);
  const out: Record<string, unknown> = { type: t.kind === 'record' ? t.type : t.kind };
  if (ctx.normalized) {
    out.name = t.fullName;
    // A full name without dots inside a namespace would be read as belonging to that namespace.
    if (t.namespace === '' && ns !== '') out.namespace = '';
  } else {
    out.name = t.name;
    if (t.namespace !== ns) out.namespace = t.namespace;
  }
  if (t.doc !== undefined) out.doc = t.doc;
  if (t.kind === 'record') out.fields = t.fields.map((f) => field(f, t.namespace, ctx));
  if (t.kind === 'enum') {
    out.symbols = t.symbols;
    if (t.default !== undefined) out.default = t.default;
  }
  if (t.kind === 'fixed') out.size = t.size;
  if (t.aliases.length) out.aliases = t.aliases.map((a) => (ctx.normalized ? a : shortAlias(a, t.namespace)));
  Object.assign(out, sortedProps(t.props, ctx));
  return out;
}

function field(f: FieldNode, ns: string, ctx: Ctx): unknown {
  const out: Record<string, unknown> = { name: f.name, type: node(f.type, ns, ctx) };
  if (f.doc !== undefined) out.doc = f.doc;
  if (f.hasDefault) out.default = f.default;
  if (f.order !== undefined && f.order !== 'ascending') out.order = f.order;
  if (f.aliases.length) out.aliases = f.aliases;
  Object.assign(out, sortedProps(f.props, ctx));
  return out;
}

function refName(t: NamedNode, ns: string): string {
  return t.namespace === ns ? t.name : t.fullName;
}

function shortAlias(alias: string, ns: string): string {
  return ns && alias.startsWith(`${ns}.`) && !alias.slice(ns.length + 1).includes('.') ? alias.slice(ns.length + 1) : alias;
}

function sortedProps(p: Props, ctx: Ctx): Props {
  const keys = Object.keys(p);
  if (ctx.normalized) keys.sort();
  const out: Props = {};
  for (const k of keys) out[k] = p[k];
  return out;
}
