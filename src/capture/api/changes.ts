/**
 * Reads the body of POST /v1/changes into validated changes, or into the list of everything wrong
 * with it (each problem naming the change and the field), never into part of the changes. Values go
 * through row-values.ts, so the HTTP API, the SDK and the outbox accept exactly the same texts.
 *
 * Accepted shapes: one change `{table, op, row?, key?, context?}` (fields named `row.amount`), or
 * `{changes: [change, …]}` (fields named `changes[3].row.amount`). `op` is c/u/d, or
 * insert/update/delete. c/u carry the full row image; `key`, when given, must equal the row's key
 * columns. d carries `key`, or a `row` whose key columns are used (its other columns must exist
 * but are not kept).
 */
import { coerceRow, coerceValue, keyOf, type FieldProblem } from '../row-values.js';
import { qualifiedName, type Column, type ColumnValue, type Row, type TableSchema } from '../../core/table-schema.js';
import { decimalToUnscaled, show } from '../../core/portable-values.js';
import type { CapturedChange, ProblemItem } from './types.js';

const OPS = new Map<string, 'c' | 'u' | 'd'>([
  ['c', 'c'],
  ['u', 'u'],
  ['d', 'd'],
  ['insert', 'c'],
  ['update', 'u'],
  ['delete', 'd'],
]);
const ITEM_KEYS = new Set(['table', 'op', 'row', 'key', 'context']);
/** An answer names at most this many problems (a 10 000-change batch of one bad column stays small). */
export const MAX_PROBLEMS = 100;

/** Looks tables up by `name` or `schema.name`; a bare name two schemas share must be qualified. */
export class TableCatalog {
  private readonly byName = new Map<string, TableSchema | 'ambiguous'>();
  readonly names: readonly string[];

  constructor(tables: readonly TableSchema[]) {
    for (const t of tables) {
      this.byName.set(qualifiedName(t), t);
      if (t.schema) {
        const bare = this.byName.get(t.name);
        this.byName.set(t.name, bare === undefined ? t : bare === t ? t : 'ambiguous');
      }
    }
    this.names = tables.map(qualifiedName);
  }

  find(name: string): TableSchema | 'ambiguous' | undefined {
    return this.byName.get(name);
  }
}

export type ParseResult = { ok: true; changes: CapturedChange[] } | { ok: false; problems: ProblemItem[]; invalidChanges: number };

/**
 * @param rounded paths of JSON number literals JSON.parse rounded (json-numbers.ts), refused in
 *   decimal and json columns.
 */
export function parseChanges(body: unknown, catalog: TableCatalog, rounded?: ReadonlySet<string>): ParseResult {
  if (!isObject(body)) {
    return {
      ok: false,
      invalidChanges: 0,
      problems: [{ index: null, field: '', message: 'expected a change object or {"changes": [...]}' }],
    };
  }
  if (!Object.hasOwn(body, 'changes')) {
    const problems: FieldProblem[] = [];
    const change = parseChange(body, '', catalog, rounded, problems);
    return change
      ? { ok: true, changes: [change] }
      : { ok: false, invalidChanges: 1, problems: problems.slice(0, MAX_PROBLEMS).map((p) => ({ index: 0, ...p })) };
  }
  const extra = Object.keys(body).filter((k) => k !== 'changes');
  if (!Array.isArray(body.changes) || extra.length > 0) {
    const problems: ProblemItem[] = extra.map((k) => ({
      index: null,
      field: k,
      message: 'unknown property (a batch is {"changes": [...]})',
    }));
    if (!Array.isArray(body.changes)) problems.unshift({ index: null, field: 'changes', message: 'expected an array of changes' });
    return { ok: false, invalidChanges: 0, problems };
  }
  const changes: CapturedChange[] = [];
  const problems: ProblemItem[] = [];
  let invalid = 0;
  const items = body.changes as unknown[];
  for (let i = 0; i < items.length; i++) {
    const found: FieldProblem[] = [];
    const change = parseChange(items[i], `changes[${i}]`, catalog, rounded, found);
    if (change) changes.push(change);
    else {
      invalid++;
      for (const p of found) if (problems.length < MAX_PROBLEMS) problems.push({ index: i, ...p });
    }
  }
  return invalid === 0 ? { ok: true, changes } : { ok: false, invalidChanges: invalid, problems };
}

/** One change; undefined (with at least one problem pushed) when anything is wrong with it. */
function parseChange(
  input: unknown,
  path: string,
  catalog: TableCatalog,
  rounded: ReadonlySet<string> | undefined,
  problems: FieldProblem[],
): CapturedChange | undefined {
  const at = (field: string) => (path === '' ? field : `${path}.${field}`);
  if (!isObject(input)) {
    problems.push({ field: path, message: 'expected a change object {table, op, row?, key?, context?}' });
    return undefined;
  }
  const before = problems.length;
  for (const k of Object.keys(input))
    if (!ITEM_KEYS.has(k)) problems.push({ field: at(k), message: 'unknown property (a change has table, op, row, key, context)' });

  let table: TableSchema | undefined;
  if (typeof input.table !== 'string')
    problems.push({ field: at('table'), message: input.table === undefined ? 'is missing' : 'expected a table name' });
  else {
    const t = catalog.find(input.table);
    if (t === 'ambiguous')
      problems.push({ field: at('table'), message: `"${input.table}" exists in more than one schema; name it as schema.table` });
    else if (t === undefined)
      problems.push({ field: at('table'), message: `unknown table ${JSON.stringify(input.table)} (known: ${listNames(catalog.names)})` });
    else table = t;
  }

  const op = typeof input.op === 'string' ? OPS.get(input.op) : undefined;
  if (op === undefined)
    problems.push({
      field: at('op'),
      message:
        input.op === undefined ? 'is missing (c, u or d)' : `unknown op ${show(input.op, 40)} (expected c, u, d, insert, update or delete)`,
    });

  const context = input.context;
  if (context !== undefined && context !== null && typeof context !== 'string')
    problems.push({ field: at('context'), message: 'expected a string' });

  if (!table || !op) return undefined;
  const rowIn = input.row ?? undefined;
  const keyIn = input.key ?? undefined;
  let key: Row | undefined;
  let row: Row | undefined;
  if (op === 'c' || op === 'u') {
    if (rowIn === undefined) problems.push({ field: at('row'), message: 'is missing (an insert or update carries the full row image)' });
    else {
      checkRounded(table, rowIn, at('row'), rounded, problems);
      row = coerceRow(table, rowIn, at('row'), problems);
    }
    const given = keyIn === undefined ? undefined : coerceKey(table, keyIn, at('key'), 'key', rounded, problems);
    if (row && given) compareKeys(table, given, keyOf(table, row), at('key'), 'row', problems);
    if (row) key = keyOf(table, row);
  } else {
    if (keyIn === undefined && rowIn === undefined)
      problems.push({ field: at('key'), message: 'is missing (a delete carries key, or a row holding the key columns)' });
    const given = keyIn === undefined ? undefined : coerceKey(table, keyIn, at('key'), 'key', rounded, problems);
    const fromRow = rowIn === undefined ? undefined : coerceKey(table, rowIn, at('row'), 'row', rounded, problems);
    if (given && fromRow) compareKeys(table, given, fromRow, at('key'), 'row', problems);
    key = given ?? fromRow;
  }
  if (problems.length > before || !key) return undefined;
  const change: CapturedChange = { table, op, key };
  if (row) change.row = row;
  if (typeof context === 'string') change.context = context;
  return change;
}

/**
 * The primary-key columns of `input`. As `key`: nothing but key columns. As a delete's `row`: other
 * columns may be present (a before image) but must exist; only the key columns are kept.
 */
function coerceKey(
  table: TableSchema,
  input: unknown,
  path: string,
  as: 'key' | 'row',
  rounded: ReadonlySet<string> | undefined,
  problems: FieldProblem[],
): Row | undefined {
  if (!isObject(input)) {
    problems.push({ field: path, message: `expected an object of ${as === 'key' ? 'key ' : ''}column values` });
    return undefined;
  }
  const before = problems.length;
  for (const k of Object.keys(input)) {
    if (table.primaryKey.includes(k)) continue;
    const exists = table.columns.some((c) => c.name === k);
    if (!exists) problems.push({ field: `${path}.${k}`, message: `${table.name} has no column "${k}"` });
    else if (as === 'key')
      problems.push({ field: `${path}.${k}`, message: `is not a key column (the key of ${table.name} is ${table.primaryKey.join(', ')})` });
  }
  const key: Row = {};
  for (const name of table.primaryKey) {
    const col = table.columns.find((c) => c.name === name);
    if (!col) {
      problems.push({ field: `${path}.${name}`, message: `key column "${name}" is not among ${table.name}'s columns` });
      continue;
    }
    if (!Object.hasOwn(input, name)) {
      problems.push({
        field: `${path}.${name}`,
        message: `is missing (${as === 'key' ? 'the key holds' : 'a delete needs'} every primary-key column: ${table.primaryKey.join(', ')})`,
      });
      continue;
    }
    if (rounded && col.type.kind === 'decimal' && rounded.has(`${path}.${name}`)) {
      problems.push({ field: `${path}.${name}`, message: roundedMessage });
      continue;
    }
    const r = coerceValue(col, input[name]);
    if ('problem' in r) problems.push({ field: `${path}.${name}`, message: r.problem });
    else key[name] = r.value;
  }
  return problems.length === before ? key : undefined;
}

function compareKeys(table: TableSchema, given: Row, actual: Row, path: string, other: string, problems: FieldProblem[]): void {
  for (const name of table.primaryKey) {
    const col = table.columns.find((c) => c.name === name)!;
    if (!sameValue(col, given[name] ?? null, actual[name] ?? null)) {
      problems.push({
        field: `${path}.${name}`,
        message: `is ${display(given[name])} but ${other}.${name} is ${display(actual[name])} (the key must match the row)`,
      });
    }
  }
}

const roundedMessage = 'is a JSON number with more digits than JSON parsing keeps exactly; send it as a string';

/** Decimal values and json documents that JSON.parse rounded (json-numbers.ts). */
function checkRounded(
  table: TableSchema,
  rowIn: unknown,
  path: string,
  rounded: ReadonlySet<string> | undefined,
  problems: FieldProblem[],
): void {
  if (!rounded || !isObject(rowIn)) return;
  for (const col of table.columns) {
    const field = `${path}.${col.name}`;
    if (col.type.kind === 'decimal' && rounded.has(field)) problems.push({ field, message: roundedMessage });
    if (col.type.kind === 'json') {
      for (const p of rounded) {
        if (p.startsWith(`${field}.`) || p.startsWith(`${field}[`)) {
          problems.push({
            field,
            message: `holds a number (at ${p.slice(path.length + 1)}) with more digits than JSON parsing keeps exactly; send the document as JSON text`,
          });
          break;
        }
      }
    }
  }
}

function sameValue(col: Column, a: ColumnValue, b: ColumnValue): boolean {
  if (a === null || b === null) return a === b;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (col.type.kind === 'decimal' && typeof a === 'string' && typeof b === 'string') {
    const x = decimalToUnscaled(a, col.type.scale);
    return x !== undefined && x === decimalToUnscaled(b, col.type.scale);
  }
  return Object.is(a, b);
}

function display(v: ColumnValue | undefined): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  return JSON.stringify(v);
}

function listNames(names: readonly string[]): string {
  return names.length <= 10 ? names.join(', ') : `${names.slice(0, 10).join(', ')}, … ${names.length - 10} more`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
