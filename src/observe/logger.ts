/**
 * The process logger (pino). Secrets never reach a log line: anything under a key that names a
 * credential is redacted wherever it appears, and connection URLs are logged with their password cut.
 */
import { pino, type Logger } from 'pino';

const SECRET_KEYS = ['password', 'token', 'tokens', 'authorization', 'secret', 'apiKey', 'basic'];

/** `fd` 2 keeps stdout for a command's own output (a report, JSON). */
export function createLogger(opts: { level?: string; name?: string; fd?: 1 | 2 } = {}): Logger {
  return pino({
    name: opts.name ?? 'sluice',
    level: opts.level ?? process.env.SLUICE_LOG_LEVEL ?? 'info',
    redact: { paths: SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `req.headers.${k}`]), censor: '[redacted]' },
  }, pino.destination({ fd: opts.fd ?? 1, sync: true }));
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
