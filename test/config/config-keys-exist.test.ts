// Every config key a person is told about exists in the config schema (src/config/schema.ts): the
// keys named in the docs (docs/*.md, README.md) and in the strings of src/** (error messages,
// report reasons, log lines, the descriptions docs/config.md is generated from).
//
// What counts as a key: a dotted path that starts with a top-level config key and has at least one
// more segment, `a.b.c` or `a.b[0].c` (an index, or `[]`, is an array's element), at a word
// boundary (not after a letter, digit, '.', '/', '$' or '-', so `cfg.reconcile.every` or
// `src/reconcile/x` are not keys) and not followed by '(' (a call in a code sample). A path whose
// last segment is a file extension (reconcile.md, apply.ts) is a file name. In src/, only string
// and template literals count (a template's `${…}` reads as 0 inside brackets, so
// `source.tables[${i}]` is `source.tables[0]`, and as a space elsewhere), never code or import paths. A path exists when the schema has it, or when
// it lies under a key whose value is a free-form record (reconcile.alert.webhook.headers.X).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { z } from 'zod';
import { ConfigSchema } from '../../src/config/schema.js';

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
}

/** Every key path of the schema ('a.b', 'a.b[]', 'a.b[].c'), and the paths that take any key below. */
function schemaPaths(): { paths: Set<string>; open: Set<string> } {
  const root = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const paths = new Set<string>();
  const open = new Set<string>();
  const walk = (s: JsonSchema, path: string) => {
    if (path) paths.add(path);
    // A discriminated union (transport, source) has the keys of every variant.
    for (const v of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) walk(v, path);
    for (const [k, child] of Object.entries(s.properties ?? {})) walk(child, path ? `${path}.${k}` : k);
    if (typeof s.additionalProperties === 'object' || (s.additionalProperties === true && !s.properties)) open.add(path);
    if (s.items) walk(s.items, `${path}[]`);
  };
  walk(root, '');
  return { paths, open };
}

const { paths, open } = schemaPaths();
const topLevel = [...paths].filter((p) => !/[.[]/.test(p));
// `observe` is read by the pipeline (cfg.observe) and named in the docs: its keys are checked even
// while the schema lacks it, so that a doc cannot name a key nothing parses.
const TOP = [...new Set([...topLevel, 'observe'])];
const FILE_EXT = new Set(['md', 'ts', 'js', 'mjs', 'cjs', 'json', 'yaml', 'yml', 'sql', 'sh', 'txt', 'html']);
const KEY = new RegExp(`(?<![A-Za-z0-9_.$/-])(?:${TOP.join('|')})(?:\\.[A-Za-z_][A-Za-z0-9_]*|\\[\\d*\\])+(?![A-Za-z0-9_(])`, 'g');

/** The config keys named in a text. */
function keysIn(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(KEY)) {
    const key = m[0];
    const last = /\.([A-Za-z0-9_]+)$/.exec(key)?.[1];
    if (last && FILE_EXT.has(last)) continue;
    if (!/[.[]/.test(key)) continue;
    out.push(key);
  }
  return out;
}

function exists(key: string): boolean {
  const p = key.replace(/\[\d*\]/g, '[]');
  if (paths.has(p)) return true;
  for (const o of open) if (p.startsWith(`${o}.`)) return true;
  return false;
}

/** String and template literals of a TypeScript file with their line, import paths left out. */
function literals(file: string): Array<{ text: string; line: number }> {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: Array<{ text: string; line: number }> = [];
  const visit = (n: ts.Node) => {
    if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n) || ts.isImportTypeNode(n)) return;
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) return;
    const line = () => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) out.push({ text: n.text, line: line() });
    else if (ts.isTemplateExpression(n)) {
      let text = n.head.text;
      for (const span of n.templateSpans) text += `${text.endsWith('[') ? '0' : ' '}${span.literal.text}`;
      out.push({ text, line: line() });
    }
    n.forEachChild(visit);
  };
  visit(sf);
  return out;
}

function files(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p, ext));
    else if (p.endsWith(ext)) out.push(p);
  }
  return out;
}

const where = (file: string, line: number) => `${relative(process.cwd(), file)}:${line}`;

test('the key pattern finds keys and only keys', () => {
  assert.deepEqual(keysIn('above reconcile.repair.maxShare (5%)'), ['reconcile.repair.maxShare']);
  assert.deepEqual(keysIn('source.tables[3]: no target; `transport.brokers`, state.url.'), [
    'source.tables[3]',
    'transport.brokers',
    'state.url',
  ]);
  assert.deepEqual(keysIn('source.tables[].name and registry.url'), ['source.tables[].name', 'registry.url']);
  assert.deepEqual(
    keysIn('see docs/reconcile.md, src/reconcile/canonical.ts, cfg.reconcile.every, apply.ts, reconcile.run(x), sluice.reconcile.drift'),
    [],
  );
  assert.deepEqual(keysIn('the target, name: x, reconcile: { every: 30m }'), []);
  assert.ok(
    exists('reconcile.maxRepairShare') &&
      exists('source.tables[0].keyColumns') &&
      exists('transport.brokers') &&
      exists('transport.consumer.lanes'),
  );
  assert.ok(exists('reconcile.alert.webhook.headers.Authorization'), 'a record takes any key');
  assert.ok(!exists('reconcile.repair.maxShare') && !exists('transport.kafka.brokers') && !exists('state.dir'));
});

test('every config key named in the docs exists in the schema', () => {
  const docs = [...files('docs', '.md'), 'README.md'];
  const missing: string[] = [];
  for (const file of docs) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((text, i) => {
        for (const key of keysIn(text)) if (!exists(key)) missing.push(`${where(file, i + 1)}: ${key}`);
      });
  }
  assert.deepEqual(missing, [], `config keys named in the docs but not in src/config/schema.ts:\n${missing.join('\n')}`);
});

test('every config key named in a message or string of src/ exists in the schema', () => {
  const missing: string[] = [];
  for (const file of files('src', '.ts')) {
    for (const { text, line } of literals(file)) {
      for (const key of keysIn(text)) if (!exists(key)) missing.push(`${where(file, line)}: ${key}`);
    }
  }
  assert.deepEqual(missing, [], `config keys named in src/ but not in src/config/schema.ts:\n${missing.join('\n')}`);
});
