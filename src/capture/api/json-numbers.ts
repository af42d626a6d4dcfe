/**
 * Finds the JSON number literals that JSON.parse rounds (docs/guarantees.md: lossless-values):
 * `"amount": 12345678901234567.89`
 * arrives as 12345678901234568 and would be stored as such without a word. JSON.parse on Node 20
 * gives no access to a literal's source text, so this scans the text itself, once it is known to be
 * valid JSON, and names each rounded literal by its path (`changes[3].row.amount`, the same spelling
 * as the validation's field names). Callers refuse those paths where exactness matters (decimal and
 * json columns); a float column is a double anyway.
 *
 * Cost: one regular-expression test per body; the scan runs only when the text holds a run of 16 or
 * more digits or a three-digit exponent (a literal with at most 15 significant digits and an
 * exponent within ±99 always survives a double exactly).
 */

/** 16 significant digits, or a three-digit exponent (1e400 → Infinity, 1e-400 → 0). */
const MAYBE_ROUNDED = /\d(?:\.?\d){15}|[eE][+-]?\d{3}/;

/** Paths of number literals whose value JSON.parse does not keep exactly; undefined when there are none. */
export function roundedNumberPaths(text: string): Set<string> | undefined {
  if (!MAYBE_ROUNDED.test(text)) return undefined;
  return scan(text);
}

interface Frame {
  array: boolean;
  /** Current array index, or the current object key (undefined until the key is read). */
  at: number | string | undefined;
  expectKey: boolean;
}

/** Assumes `text` is valid JSON (JSON.parse accepted it). */
function scan(text: string): Set<string> | undefined {
  const stack: Frame[] = [];
  let found: Set<string> | undefined;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 0x5c /* \ */) j += 2;
        else if (d === 0x22) break;
        else j++;
      }
      const top = stack[stack.length - 1];
      if (top && !top.array && top.expectKey) {
        top.at = JSON.parse(text.slice(i, j + 1)) as string;
        top.expectKey = false;
      }
      i = j + 1;
    } else if (c === 0x7b /* { */) {
      stack.push({ array: false, at: undefined, expectKey: true });
      i++;
    } else if (c === 0x5b /* [ */) {
      stack.push({ array: true, at: 0, expectKey: false });
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      i++;
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.array) top.at = (top.at as number) + 1;
      else if (top) top.expectKey = true;
      i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < n && /[0-9.eE+-]/.test(text[j]!)) j++;
      const literal = text.slice(i, j);
      if (isRounded(literal)) (found ??= new Set()).add(pathOf(stack));
      i = j;
    } else {
      i++; // whitespace, ':', true, false, null
    }
  }
  return found;
}

function pathOf(stack: readonly Frame[]): string {
  let path = '';
  for (const f of stack) {
    if (f.array) path += `[${f.at as number}]`;
    else path += path === '' ? String(f.at) : `.${String(f.at)}`;
  }
  return path;
}

/** Whether the literal's value differs from the double JSON.parse makes of it. */
export function isRounded(literal: string): boolean {
  const n = Number(literal);
  if (!Number.isFinite(n) || (n === 0 && /[1-9]/.test(literal.split(/[eE]/)[0]!))) return true;
  const digits = literal.replace(/^-/, '').split(/[eE]/)[0]!.replace('.', '').replace(/^0+/, '');
  if (digits.length <= 15) return false;
  return normalise(literal) !== normalise(String(Number(literal)));
}

/** "0.000123" and "1.23e-4" → "123e-3": significant digits and the exponent of the point before them. */
function normalise(s: string): string {
  const negative = s.startsWith('-');
  const [mantissa = '', exp = '0'] = s.replace(/^-/, '').split(/[eE]/);
  const [int = '', frac = ''] = mantissa.split('.');
  let digits = int + frac;
  let e = Number(exp) + int.length;
  while (digits.startsWith('0')) {
    digits = digits.slice(1);
    e--;
  }
  digits = digits.replace(/0+$/, '');
  if (digits === '') return '0';
  return `${negative ? '-' : ''}${digits}e${e}`;
}
