/**
 * createCapture: queues changes, sends them to POST /v1/changes in call order, one request in flight
 * at a time (a retried request must never land after a later one; docs/guarantees.md:
 * ordered-retries), and settles each
 * call's promise with `{ok}`; nothing here throws into the caller or rejects.
 *
 * A request's outcome, per change: 200 → ok; network error, timeout, 408, 429, 5xx → sent again with
 * backoff (core/retry.ts) up to `retries` times, then failed; 400 → the changes it names fail, the
 * others of the request are sent again without them (one bad change does not sink its neighbours);
 * 413 → the request is split in halves; any other 4xx → failed. A 5xx whose JSON says
 * `retriable: false` (the API's "accept failed for good") is failed without retrying.
 */
import { SluiceError } from '../../core/errors.js';
import { retry } from '../../core/retry.js';
import { rowToJson } from '../row-values.js';
import type { ErrorAnswer, ProblemItem } from '../api/types.js';
import { rejected, unavailable } from './errors.js';
import { DEFAULTS, type CaptureOptions } from './options.js';
import type { Capture, CaptureResult, CaptureStats, SdkChange, TableCapture } from './types.js';

interface Pending {
  change: SdkChange;
  /** The change as JSON, made at call time: later mutation of the caller's object changes nothing. */
  json: string;
  settle: (r: CaptureResult) => void;
}

type Outcome =
  | { kind: 'ok' }
  | { kind: 'failed'; error: SluiceError }
  | { kind: 'invalid'; error: SluiceError; problems: ProblemItem[] }
  | { kind: 'too_large'; error: SluiceError };

const OK: CaptureResult = Object.freeze({ ok: true });
const OP_NAMES = { c: 'insert', u: 'update', d: 'delete' } as const;

export function createCapture(opts: CaptureOptions): Capture {
  // The one place that throws: a wrong setup, at start-up, never in a business call.
  let endpoint: string;
  try {
    endpoint = new URL('v1/changes', opts.url.endsWith('/') ? opts.url : `${opts.url}/`).toString();
  } catch (err) {
    throw new SluiceError('SLUICE_ERR_CONFIG', `capture url ${JSON.stringify(opts.url)} is not a URL`, {
      cause: err,
      context: { configPath: 'url' },
    });
  }
  const retries = opts.retries ?? DEFAULTS.retries;
  const maxBatch = Math.max(1, opts.maxBatch ?? DEFAULTS.maxBatch);
  const lingerMs = opts.lingerMs ?? DEFAULTS.lingerMs;
  const timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const log = opts.logger;

  const stats: CaptureStats = { sent: 0, failed: 0, retried: 0 };
  const queue: Pending[] = [];
  const unsettled = new Set<Promise<CaptureResult>>();
  let pumping = false;
  let timer: { cancel(): void } | undefined;
  let closing: Promise<void> | undefined;

  function issue(table: unknown, op: SdkChange['op'], values: unknown, callOpts: unknown): Promise<CaptureResult> {
    try {
      const change: SdkChange = { table: table as string, op };
      if (op === 'd') change.key = values as Record<string, unknown>;
      else change.row = values as Record<string, unknown>;
      const context = (callOpts as { context?: unknown } | undefined)?.context;
      if (typeof context === 'string') change.context = context;
      if (closing) return failNow(unavailable('capture is closed; the change was not sent', false, { table: String(table) }), change);
      if (typeof table !== 'string' || table === '')
        return failNow(rejected(`capture.table(): expected a table name, got ${String(table)}`), change);
      if (values === null || typeof values !== 'object' || Array.isArray(values)) {
        return failNow(
          rejected(`${table} ${OP_NAMES[op]}: expected ${op === 'd' ? 'the key' : 'the row'} as an object of column values`, { table }),
          change,
        );
      }
      let json: string;
      try {
        json = serialise(change);
      } catch (err) {
        return failNow(
          rejected(
            `${table} ${OP_NAMES[op]}: the ${op === 'd' ? 'key' : 'row'} cannot be sent as JSON: ${(err as Error).message}`,
            { table },
            err,
          ),
          change,
        );
      }
      let settle!: (r: CaptureResult) => void;
      const p = new Promise<CaptureResult>((resolve) => (settle = resolve));
      unsettled.add(p);
      void p.then(() => unsettled.delete(p));
      queue.push({ change, json, settle });
      schedule();
      return p;
    } catch (err) {
      // Unreachable by design; kept so that no path can throw into business logic.
      return Promise.resolve({ ok: false, error: rejected(`capture failed unexpectedly: ${(err as Error)?.message}`, {}, err) });
    }
  }

  /** A change that never left the process: reported after the caller's call returned. */
  function failNow(error: SluiceError, change: SdkChange): Promise<CaptureResult> {
    return new Promise((resolve) =>
      queueMicrotask(() => {
        report(error, [change]);
        resolve({ ok: false, error });
      }),
    );
  }

  function schedule(): void {
    if (pumping || timer !== undefined) return;
    if (lingerMs > 0) {
      const t = setTimeout(kick, lingerMs);
      timer = { cancel: () => clearTimeout(t) };
    } else {
      const t = setImmediate(kick);
      timer = { cancel: () => clearImmediate(t) };
    }
  }

  function kick(): void {
    timer = undefined;
    void pump();
  }

  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length > 0) await deliver(queue.splice(0, maxBatch));
    } catch (err) {
      // deliver() does not throw; if it ever did, nothing may stay unsettled.
      const left = queue.splice(0);
      fail(unavailable(`capture failed unexpectedly: ${(err as Error)?.message}`, false, {}, err), left);
    } finally {
      pumping = false;
    }
  }

  async function deliver(batch: Pending[]): Promise<void> {
    let rest = batch;
    while (rest.length > 0) {
      const outcome = await send(rest);
      switch (outcome.kind) {
        case 'ok':
          stats.sent += rest.length;
          for (const p of rest) p.settle(OK);
          return;
        case 'failed':
          fail(outcome.error, rest);
          return;
        case 'too_large':
          if (rest.length === 1) {
            fail(outcome.error, rest);
            return;
          }
          await deliver(rest.slice(0, rest.length >> 1));
          rest = rest.slice(rest.length >> 1);
          break;
        case 'invalid': {
          const byIndex = new Map<number, ProblemItem[]>();
          for (const p of outcome.problems) {
            if (p.index === null || !Number.isInteger(p.index) || p.index < 0 || p.index >= rest.length) {
              fail(outcome.error, rest); // an answer we cannot map to our changes
              return;
            }
            byIndex.set(p.index, [...(byIndex.get(p.index) ?? []), p]);
          }
          if (byIndex.size === 0) {
            fail(outcome.error, rest);
            return;
          }
          const next: Pending[] = [];
          rest.forEach((p, i) => {
            const problems = byIndex.get(i);
            if (problems) fail(refusedChange(p.change, problems), [p]);
            else next.push(p);
          });
          rest = next; // valid on their own: sent again, still in call order
          break;
        }
      }
    }
  }

  /** One request, retried; resolves to what became of it (never rejects). */
  async function send(batch: Pending[]): Promise<Outcome> {
    const body = `{"changes":[${batch.map((p) => p.json).join(',')}]}`;
    try {
      return await retry(
        async (attempt) => {
          if (attempt > 0) {
            stats.retried += batch.length;
            log?.debug({ attempt, changes: batch.length }, 'capture: sending again');
          }
          return await post(body);
        },
        {
          retries,
          initialMs: opts.retryInitialMs ?? DEFAULTS.retryInitialMs,
          maxMs: opts.retryMaxMs ?? DEFAULTS.retryMaxMs,
          isRetriable: (e) => e instanceof SluiceError && e.retriable,
        },
      );
    } catch (err) {
      return {
        kind: 'failed',
        error: err instanceof SluiceError ? err : unavailable(`capture request failed: ${(err as Error)?.message}`, false, {}, err),
      };
    }
  }

  /** Answers that sending again may fix are thrown (retriable SluiceError); the rest are returned. */
  async function post(body: string): Promise<Outcome> {
    let status: number;
    let text: string;
    try {
      const res = await fetch(endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why =
        e.name === 'TimeoutError' || e.name === 'AbortError'
          ? `no answer within ${timeoutMs} ms`
          : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw unavailable(`capture API at ${redact(endpoint)} could not be reached: ${why}`, true, {}, err);
    }
    if (status >= 200 && status < 300) return { kind: 'ok' };
    const answer = parseAnswer(text);
    const said = answer?.message ?? (text.trim().slice(0, 200) || `HTTP ${status}`);
    if (status >= 500 || status === 408 || status === 429) {
      throw unavailable(`capture API answered ${status}: ${said}`, !(status >= 500 && answer?.retriable === false), { status });
    }
    if (status === 400 && answer?.error_code === 'invalid_changes' && Array.isArray(answer.items)) {
      return { kind: 'invalid', error: rejected(`capture API refused the changes: ${said}`, { status }), problems: answer.items };
    }
    if (status === 413) return { kind: 'too_large', error: rejected(`capture API answered 413: ${said}`, { status }) };
    if (status === 401) return { kind: 'failed', error: rejected(`capture API answered 401: ${said} (check the token)`, { status }) };
    return { kind: 'failed', error: rejected(`capture API answered ${status}: ${said}`, { status }) };
  }

  function fail(error: SluiceError, items: Pending[]): void {
    if (items.length === 0) return;
    report(
      error,
      items.map((p) => p.change),
    );
    const result: CaptureResult = { ok: false, error };
    for (const p of items) p.settle(result);
  }

  function report(error: SluiceError, changes: SdkChange[]): void {
    stats.failed += changes.length;
    log?.warn(
      { err: error, tables: [...new Set(changes.map((c) => c.table))], changes: changes.length },
      'capture: changes were not delivered',
    );
    if (!opts.onError) return;
    try {
      const r = opts.onError(error, changes) as unknown;
      if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).then === 'function') {
        (r as Promise<unknown>).then(undefined, (err: unknown) => log?.error({ err }, 'capture: onError rejected'));
      }
    } catch (err) {
      log?.error({ err }, 'capture: onError threw');
    }
  }

  function flush(): Promise<void> {
    if (timer !== undefined) {
      timer.cancel();
      kick();
    }
    return Promise.all([...unsettled]).then(() => undefined);
  }

  return {
    table(name: string): TableCapture {
      return {
        insert: (row, o) => issue(name, 'c', row, o),
        update: (row, o) => issue(name, 'u', row, o),
        delete: (key, o) => issue(name, 'd', key, o),
      };
    },
    flush,
    close() {
      closing ??= flush();
      return closing;
    },
    get stats() {
      return { ...stats };
    },
  };
}

/** One change as the API reads it; bigint → digit string, Buffer → base64, Date → ISO text (row-values.ts). */
function serialise(c: SdkChange): string {
  let s = `{"table":${JSON.stringify(c.table)},"op":"${c.op}"`;
  if (c.row !== undefined) s += `,"row":${rowToJson(c.row)}`;
  if (c.key !== undefined) s += `,"key":${rowToJson(c.key)}`;
  if (c.context !== undefined) s += `,"context":${JSON.stringify(c.context)}`;
  return `${s}}`;
}

/** A change the API refused, its problems named from the change's own point of view (`row.amount`). */
function refusedChange(change: SdkChange, problems: ProblemItem[]): SluiceError {
  const fields = problems.map((p) => ({ field: p.field.replace(/^changes\[\d+\]\.?/, ''), message: p.message }));
  const text = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  return rejected(`capture API refused ${change.table} ${OP_NAMES[change.op]}: ${text}`, {
    table: change.table,
    field: fields[0]?.field,
    status: 400,
    problems: fields,
  });
}

function parseAnswer(text: string): Partial<ErrorAnswer> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' ? (v as Partial<ErrorAnswer>) : undefined;
  } catch {
    return undefined;
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}
