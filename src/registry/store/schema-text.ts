/**
 * The text a registered schema is stored, compared and returned as. Like Confluent's
 * `AvroSchema.canonicalString()` (Avro's `Schema.toString(referencedSchemas)`), named types that
 * come from references are written by name, not inlined: the schema text carries only what it
 * defines itself. `contentHash` identifies a distinct schema (type + text + references): one id
 * per hash.
 */
import { createHash } from 'node:crypto';
import { canonicalText, normalizedText } from '../avro/canonical.js';
import type { AvroNode } from '../avro/schema-model.js';
import type { SchemaReference } from './types.js';

/** Canonical (or normalized) text of `root`, with the named types in `external` written by name. */
export function schemaText(root: AvroNode, external: ReadonlySet<string>, normalized: boolean): string {
  const text = normalized ? normalizedText(root) : canonicalText(root);
  if (external.size === 0) return text;
  return JSON.stringify(replaceExternal(JSON.parse(text), '', external, normalized));
}

/** The text with every referenced type inlined: what a client sending a self-contained schema sends. */
export function expandedNormalizedText(root: AvroNode): string {
  return normalizedText(root);
}

export function contentHash(schemaType: string, text: string, references: readonly SchemaReference[]): string {
  return createHash('sha256')
    .update(JSON.stringify([schemaType, text, references.map((r) => [r.name, r.subject, r.version])]))
    .digest('hex');
}

const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

/**
 * Walks canonical JSON tracking the enclosing namespace as Avro does, and replaces the inline
 * definition of each external named type with its name (full, unless in the enclosing namespace).
 */
function replaceExternal(json: unknown, ns: string, external: ReadonlySet<string>, normalized: boolean): unknown {
  if (Array.isArray(json)) return json.map((b) => replaceExternal(b, ns, external, normalized));
  if (json === null || typeof json !== 'object') return json;
  const obj = json as Record<string, unknown>;
  const type = obj.type;
  if (typeof type === 'string' && NAMED.has(type) && typeof obj.name === 'string') {
    const name = obj.name;
    let namespace: string;
    if (name.includes('.')) namespace = name.slice(0, name.lastIndexOf('.'));
    else if (typeof obj.namespace === 'string') namespace = obj.namespace;
    else namespace = ns;
    const short = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name;
    const fullName = namespace ? `${namespace}.${short}` : short;
    if (external.has(fullName)) return normalized || namespace !== ns ? fullName : short;
    if (Array.isArray(obj.fields)) {
      for (const f of obj.fields as Array<Record<string, unknown>>) f.type = replaceExternal(f.type, namespace, external, normalized);
    }
    return obj;
  }
  if (type === 'array') obj.items = replaceExternal(obj.items, ns, external, normalized);
  else if (type === 'map') obj.values = replaceExternal(obj.values, ns, external, normalized);
  return obj;
}
