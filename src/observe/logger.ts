/**
 * The process logger (pino). Secrets never reach a log line: anything under a key that names a
 * credential is redacted wherever it appears, and connection URLs are logged with their password cut.
 *
 * Format: one JSON object per line for machines (log shippers, files, pipes), or one readable line
 * per entry for a person at a terminal. Default: readable when the log goes to a terminal, JSON
 * otherwise; SLUICE_LOG_FORMAT=json|pretty (or a command's --log-format) decides instead.
 */
import { isatty } from 'node:tty';
import { pino, type DestinationStream, type Logger } from 'pino';
import { SluiceError } from '../core/errors.js';

const SECRET_KEYS = ['password', 'token', 'tokens', 'authorization', 'secret', 'apiKey', 'basic'];

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** `fd` 2 keeps stdout for a command's own output (a report, JSON). */
  fd?: 1 | 2;
  format?: LogFormat;
  /** Where lines go instead of `fd` (tests). */
  stream?: { write(text: string): unknown; isTTY?: boolean };
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const fd = opts.fd ?? 1;
  const tty = opts.stream ? opts.stream.isTTY === true : isatty(fd);
  const format = opts.format ?? logFormatFromEnv() ?? (tty ? 'pretty' : 'json');
  const sink = opts.stream ?? pino.destination({ fd, sync: true });
  const write = (s: string) => void sink.write(s);
  const color = tty && format === 'pretty' && !process.env.NO_COLOR;
  // Only a log that shares the terminal with the live line has to step around it.
  const emit = tty ? (s: string) => aboveLiveLine(() => write(s)) : write;
  const destination: DestinationStream = { write: (line: string) => emit(format === 'pretty' ? prettyLine(line, color) : line) };
  return pino(
    {
      name: opts.name ?? 'sluice',
      level: opts.level ?? process.env.SLUICE_LOG_LEVEL ?? 'info',
      redact: { paths: SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `req.headers.${k}`]), censor: '[redacted]' },
    },
    destination,
  );
}

/** A command's --log-format value. */
export function logFormatOption(v: string | undefined): LogFormat | undefined {
  if (v === undefined) return undefined;
  if ((LOG_FORMATS as readonly string[]).includes(v)) return v as LogFormat;
  throw new SluiceError('SLUICE_ERR_CONFIG', `--log-format must be ${LOG_FORMATS.join(' or ')}, got "${v}"`, {
    context: { configPath: '--log-format' },
  });
}

function logFormatFromEnv(): LogFormat | undefined {
  const v = process.env.SLUICE_LOG_FORMAT?.toLowerCase();
  return v === 'json' || v === 'pretty' ? v : undefined;
}

const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: 'TRACE', color: '90' },
  20: { name: 'DEBUG', color: '36' },
  30: { name: 'INFO ', color: '32' },
  40: { name: 'WARN ', color: '33' },
  50: { name: 'ERROR', color: '31' },
  60: { name: 'FATAL', color: '35' },
};
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v']);

/** A pino JSON line as `12:00:01.234 INFO  message key=value …`; an error with its stack below. */
export function prettyLine(json: string, color = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const lvl = LEVELS[Number(o.level)] ?? { name: String(o.level).toUpperCase().padEnd(5), color: '0' };
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 23) : '';
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  let stack = '';
  const fields = Object.entries(o)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => {
      if (k === 'err' && v && typeof v === 'object') {
        const e = v as { message?: string; code?: string; stack?: string };
        if (Number(o.level) >= 50 && e.stack)
          stack = `\n${e.stack
            .split('\n')
            .map((l) => `    ${l}`)
            .join('\n')}`;
        return `err=${JSON.stringify(`${e.code ? `${e.code}: ` : ''}${e.message ?? ''}`)}`;
      }
      return `${k}=${typeof v === 'string' && !/[\s"=]/.test(v) && v !== '' ? v : JSON.stringify(v)}`;
    });
  const msg = typeof o.msg === 'string' ? o.msg : '';
  return `${paint('90', time)} ${paint(lvl.color, lvl.name)} ${msg}${fields.length ? `  ${paint('90', fields.join(' '))}` : ''}${stack}\n`;
}

// --- the live line ----------------------------------------------------------------------------
// A progress line redrawn in place with \r on a terminal. Anything else written to the terminal
// (a log entry) must first erase it and then draw it again below, or the two end up on one row.

interface Live {
  out: { write(s: string): unknown };
  text: string;
}
let live: Live | undefined;

/** Draws `text` as the live line on `out` (a terminal), replacing the previous one. */
export function drawLiveLine(out: { write(s: string): unknown }, text: string): void {
  live = { out, text };
  out.write(`\r\x1b[2K${text}`);
}

/** Ends the live line: what was drawn last stays on screen and the cursor moves below it. */
export function endLiveLine(): void {
  if (!live) return;
  live.out.write('\n');
  live = undefined;
}

/** Runs `write` (which prints whole lines) with the live line erased before and drawn again after. */
export function aboveLiveLine(write: () => void): void {
  if (!live) return write();
  live.out.write('\r\x1b[2K');
  try {
    write();
  } finally {
    live.out.write(live.text);
  }
}

/** postgres://user:secret@host/db → postgres://user:***@host/db, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}

export type { Logger };
