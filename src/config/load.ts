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
  return parseConfig(doc, env, path);
}

export function parseConfig(doc: unknown, env: NodeJS.ProcessEnv = process.env, origin = 'config'): SluiceConfig {
  const substituted = substitute(doc, env, []);
  const res = ConfigSchema.safeParse(substituted);
  if (res.success) return res.data;
  const lines = res.error.issues.map(describeIssue);
  const first = res.error.issues[0];
  throw new SluiceError('SLUICE_ERR_CONFIG', `Invalid ${origin}:\n${lines.map((l) => `  - ${l}`).join('\n')}`, { context: { configPath: first ? keyPath(first.path) : '' } });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = keyPath(issue.path) || '(top level)';
  if (issue.code === 'unrecognized_keys') return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_union' && 'discriminator' in issue) return `${where}: ${issue.message}`;
  return `${where}: ${issue.message}`;
}

export function keyPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

const VAR_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function substitute(v: unknown, env: NodeJS.ProcessEnv, path: PropertyKey[]): unknown {
  if (typeof v === 'string') {
    return v.replace(VAR_RE, (_, name: string, fallback: string | undefined) => {
      const value = env[name] ?? fallback;
      if (value === undefined) {
        throw new SluiceError('SLUICE_ERR_CONFIG', `${keyPath(path)}: environment variable ${name} is not set`, { context: { configPath: keyPath(path) } });
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
