/**
 * Renders the config reference (docs/config.md) from the zod spec, so the documentation cannot
 * drift from what the parser accepts: `npm run docs` writes it, a test fails when it is stale.
 */
import { z } from 'zod';
import { ConfigSchema } from './schema.js';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
}

export function configReference(): string {
  const root = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: string[] = [];
  walk(root, '', rows, true);
  return [
    '# Configuration reference',
    '',
    'Generated from `src/config/schema.ts` by `npm run docs`; a test fails when this file is stale.',
    'Any string value may contain `${ENV_VAR}` (or `${ENV_VAR:-default}`): secrets belong in the environment.',
    '',
    '| key | type | default | description |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/**
 * `path` is the key exactly as it is written in a config file (`transport.brokers`); `when` names
 * the variant it belongs to (`kind: kafka`), shown beside the key, never inside it, so the reference
 * cannot be read as naming a key that does not exist.
 */
function walk(s: JsonSchema, path: string, rows: string[], required: boolean, when = ''): void {
  const variants = s.anyOf ?? s.oneOf;
  if (variants && !s.properties) {
    const objects = variants.filter((v) => v.properties);
    if (objects.length) {
      if (path) rows.push(row(path, s, required, when, variants));
      const tag = discriminator(objects);
      for (const v of objects) {
        const variant = tag ? [when, `${tag}: ${String(v.properties![tag]!.const)}`].filter(Boolean).join(', ') : when;
        for (const [k, child] of Object.entries(v.properties!))
          walk(child, path ? `${path}.${k}` : k, rows, v.required?.includes(k) ?? false, variant);
      }
      return;
    }
  }
  if (s.properties) {
    if (path) rows.push(row(path, s, required, when));
    for (const [k, child] of Object.entries(s.properties))
      walk(child, path ? `${path}.${k}` : k, rows, s.required?.includes(k) ?? false, when);
    return;
  }
  if (s.items?.properties || s.items?.anyOf) {
    rows.push(row(path, s, required, when));
    walk(s.items, `${path}[]`, rows, true, when);
    return;
  }
  rows.push(row(path, s, required, when));
}

/** The key whose constant value tells the variants of a union apart (`kind`, `connector`). */
function discriminator(objects: JsonSchema[]): string | undefined {
  return Object.keys(objects[0]!.properties!).find((k) => objects.every((o) => o.properties?.[k]?.const !== undefined));
}

function typeOf(s: JsonSchema, variants?: JsonSchema[]): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((e) => `\`${String(e)}\``).join(' \\| ');
  const vs = variants ?? s.anyOf ?? s.oneOf;
  if (vs) return vs.map((v) => typeOf(v)).join(' or ');
  if (s.type === 'array') return `array of ${s.items ? typeOf(s.items) : 'any'}`;
  const t = Array.isArray(s.type) ? s.type.join('\\|') : (s.type ?? 'any');
  return t === 'integer' && (s.minimum !== undefined || s.maximum !== undefined) ? `integer ${s.minimum ?? ''}..${s.maximum ?? ''}` : t;
}

function row(path: string, s: JsonSchema, required: boolean, when: string, variants?: JsonSchema[]): string {
  const def = s.default === undefined ? (required ? '*required*' : '') : `\`${JSON.stringify(s.default)}\``;
  const desc = (s.description ?? variants?.find((v) => v.description)?.description ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return `| \`${path}\`${when ? ` (${when})` : ''} | ${typeOf(s, variants)} | ${def} | ${desc} |`;
}
