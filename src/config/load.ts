/**
 * Loads a YAML config: ${VAR} references are replaced from the environment (secrets stay out of the
 * file), then the result is validated by the zod spec. Every error names the key path and what was
 * expected, e.g. `target.connection.url: url is required for dialect postgres`.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { SluiceError } from '../core/errors.js';
import { ConfigSchema, type SluiceConfig } from './schema.js';

export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<SluiceConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SluiceError('SLUICE_ERR_CONFIG', `Cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new SluiceError('SLUICE_ERR_CONFIG', `Config file ${path} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  // YAML reads an empty file (or one of comments only) as null: say so, rather than list every
  // top-level key as required.
  if (doc === null || doc === undefined) {
    throw new SluiceError(
      'SLUICE_ERR_CONFIG',
      `Config file ${path} is empty: it needs at least name, source, transport and target (see docs/config.md)`,
      { context: { configPath: '' } },
    );
  }
  return parseConfig(doc, env, path);
}

export function parseConfig(doc: unknown, env: NodeJS.ProcessEnv = process.env, origin = 'config'): SluiceConfig {
  if (doc === null || doc === undefined) {
    throw new SluiceError(
      'SLUICE_ERR_CONFIG',
      `${origin} is empty: it needs at least name, source, transport and target (see docs/config.md)`,
      { context: { configPath: '' } },
    );
  }
  const substituted = substitute(doc, env, []);
  const res = ConfigSchema.safeParse(substituted);
  if (res.success) return res.data;
  const lines = res.error.issues.map((i) => describeIssue(i, substituted));
  const first = res.error.issues[0];
  throw new SluiceError('SLUICE_ERR_CONFIG', `Invalid ${origin}:\n${lines.map((l) => `  - ${l}`).join('\n')}`, {
    context: { configPath: first ? keyPath(first.path) : '' },
  });
}

function describeIssue(issue: z.core.$ZodIssue, doc: unknown): string {
  const where = keyPath(issue.path) || '(top level)';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(ConfigSchema, issue.path, doc);
      return issue.keys
        .map((k) => {
          const near = nearest(k, known);
          return `${where}: unknown key "${k}"${near ? ` (did you mean ${near}?)` : known.length ? ` (valid keys: ${known.join(', ')})` : ''}`;
        })
        .join('; ');
    }
    case 'invalid_type': {
      const { found, value } = valueAt(doc, issue.path);
      if (!found || value === undefined) return `${where}: required (${article(issue.expected)})`;
      return `${where}: expected ${article(issue.expected)}, got ${shown(value, issue.path)}`;
    }
    case 'invalid_value':
      return `${where}: ${shown(valueAt(doc, issue.path).value, issue.path)} is not one of ${issue.values.map((v) => String(v)).join(', ')}${suggest(valueAt(doc, issue.path).value, issue.values)}`;
    case 'invalid_union':
      if ('discriminator' in issue && Array.isArray((issue as { options?: unknown[] }).options)) {
        const options = (issue as { options: unknown[] }).options;
        const { found, value } = valueAt(doc, issue.path);
        if (!found || value === undefined) return `${where}: required (one of ${options.map(String).join(', ')})`;
        return `${where}: ${shown(value, issue.path)} is not one of ${options.map(String).join(', ')}${suggest(value, options)}`;
      }
      return `${where}: ${issue.message}${valueAt(doc, issue.path).found ? `, got ${shown(valueAt(doc, issue.path).value, issue.path)}` : ''}`;
    case 'too_small':
    case 'too_big':
    case 'invalid_format': {
      const { found, value } = valueAt(doc, issue.path);
      return `${where}: ${issue.message}${found && (typeof value !== 'object' || value === null) ? `, got ${shown(value, issue.path)}` : ''}`;
    }
    default:
      return `${where}: ${issue.message}`;
  }
}

export function keyPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): { found: boolean; value: unknown } {
  let v = doc;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !(String(p) in (v as object))) return { found: false, value: undefined };
    v = (v as Record<string, unknown>)[String(p)];
  }
  return { found: true, value: v };
}

/** A value as the user wrote it, short, and masked under a key that holds a secret. */
function shown(value: unknown, path: readonly PropertyKey[]): string {
  if (SECRET_KEY.test(String(path[path.length - 1] ?? ''))) return '***';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list (${value.length} item${value.length === 1 ? '' : 's'})`;
  if (typeof value === 'object') return `a mapping (keys ${Object.keys(value as object).join(', ') || 'none'})`;
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function suggest(value: unknown, options: readonly unknown[]): string {
  if (typeof value !== 'string') return '';
  const near = nearest(value, options.map(String));
  return near ? ` (did you mean ${near}?)` : '';
}

/** The closest candidate within a few edits (a typo, a case slip), or none. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0.5 : editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const swap = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1] ? prev[j - 2]! : Infinity;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1), swap);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * Whether a dotted key (`transport.brokers`, `source.tables[].name`) is one the config accepts in
 * any variant: for hints, messages and docs that name keys.
 */
export function isConfigKey(path: string): boolean {
  let frontier: Schema[] = [ConfigSchema as unknown as Schema];
  for (const part of path.replace(/\[\]/g, '.[]').split('.').filter(Boolean)) {
    frontier = frontier.flatMap((s) => childrenOf(s, part));
    if (frontier.length === 0) return false;
  }
  return true;
}

function childrenOf(s: Schema, key: string): Schema[] {
  for (let depth = 0; depth < 20; depth++) {
    const d = s._zod.def;
    if (d.type === 'union' && d.options) return d.options.flatMap((o) => childrenOf(o, key));
    if (d.type === 'object') return d.shape?.[key] ? [d.shape[key]] : [];
    if (d.element) return key === '[]' ? [d.element] : [];
    if (d.valueType) return [d.valueType];
    const inner = d.innerType ?? d.in;
    if (!inner) return [];
    s = inner;
  }
  return [];
}

interface SchemaDef {
  type: string;
  shape?: Record<string, Schema>;
  innerType?: Schema;
  in?: Schema;
  element?: Schema;
  valueType?: Schema;
  options?: Schema[];
  discriminator?: string;
  values?: unknown[];
}
interface Schema {
  _zod: { def: SchemaDef };
}

/**
 * The keys the schema accepts at `path`, following the document where the schema branches (the
 * transport's kind, the source's connector), for "did you mean" hints.
 */
function knownKeys(root: unknown, path: readonly PropertyKey[], doc: unknown): string[] {
  let s = root as Schema;
  let v = doc;
  const objectOf = (x: Schema, value: unknown): Schema | undefined => {
    for (let depth = 0; depth < 20; depth++) {
      const d = x._zod.def;
      if (d.type === 'object') return x;
      if (d.type === 'union' && d.options) {
        const objects = d.options.map((o) => objectOf(o, value)).filter((o): o is Schema => !!o);
        if (d.discriminator && value && typeof value === 'object') {
          const tag = (value as Record<string, unknown>)[d.discriminator];
          const match = objects.find((o) => o._zod.def.shape?.[d.discriminator!]?._zod.def.values?.includes(tag));
          if (match) return match;
        }
        return objects[0];
      }
      const inner = d.innerType ?? d.in;
      if (!inner) return undefined;
      x = inner;
    }
    return undefined;
  };
  for (const p of path) {
    const next = (x: Schema): Schema | undefined => {
      for (let depth = 0; depth < 20; depth++) {
        const d = x._zod.def;
        if (typeof p === 'number' && d.element) return d.element;
        if (typeof p === 'string' && d.valueType) return d.valueType;
        if (typeof p === 'string' && (d.type === 'object' || d.type === 'union')) return objectOf(x, v)?._zod.def.shape?.[p];
        const inner = d.innerType ?? d.in;
        if (!inner) return undefined;
        x = inner;
      }
      return undefined;
    };
    const n = next(s);
    if (!n) return [];
    s = n;
    v = v && typeof v === 'object' ? (v as Record<string, unknown>)[String(p)] : undefined;
  }
  return Object.keys(objectOf(s, v)?._zod.def.shape ?? {});
}

const VAR_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function substitute(v: unknown, env: NodeJS.ProcessEnv, path: PropertyKey[]): unknown {
  if (typeof v === 'string') {
    return v.replace(VAR_RE, (_, name: string, fallback: string | undefined) => {
      const value = env[name] ?? fallback;
      if (value === undefined) {
        throw new SluiceError('SLUICE_ERR_CONFIG', `${keyPath(path)}: environment variable ${name} is not set`, {
          context: { configPath: keyPath(path) },
        });
      }
      return value;
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => substitute(x, env, [...path, i]));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, env, [...path, k])]));
  return v;
}

const SECRET_KEY = /password|token|secret|webhookurl|authorization|api[-_]?key/i;

/** The config with secrets masked, safe to print or log. */
export function redactConfig(v: unknown, key = ''): unknown {
  if (typeof v === 'string') {
    if (SECRET_KEY.test(key)) return '***';
    return /^[a-z]+:\/\//i.test(v) ? v.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@') : v;
  }
  if (Array.isArray(v)) return v.map((x) => redactConfig(x, key));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactConfig(x, k)]));
  return v;
}
