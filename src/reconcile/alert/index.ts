/**
 * Reconcile alerts. Key concepts and data flow:
 * - a finished ReconcileReport → shouldAlert (confirmed drift, or a table that failed) → one POST
 *   per configured target: Slack (slack.ts, Block Kit) and/or a generic webhook (webhook.ts, JSON);
 * - delivery never throws and never blocks a run for long: 5 s timeout, one retry;
 * - webhook URLs are secrets (a Slack webhook URL is its own credential): logs and returned errors
 *   carry only scheme and host. Payload shapes: docs/reconcile-alerts.md.
 */
import type { Logger } from '../../observe/logger.js';
import { hasDrift, type ReconcileReport } from '../report.js';
import { slackPayload } from './slack.js';
import { DEFAULT_TOP_KEYS, webhookPayload } from './webhook.js';

export { escapeMrkdwn, slackPayload, type SlackPayload } from './slack.js';
export { alertSummary, DEFAULT_TOP_KEYS, WEBHOOK_EVENT, webhookPayload, type WebhookPayload, type WebhookTable } from './webhook.js';

export interface AlertTargets {
  slack?: { webhookUrl: string };
  webhook?: { url: string; headers?: Record<string, string> };
}

export type AlertTarget = 'slack' | 'webhook';

export interface AlertResult {
  target: AlertTarget;
  ok: boolean;
  error?: string;
}

export interface AlertOptions {
  /** Per attempt, including reading the answer. Default 5000. */
  timeoutMs?: number;
  /** Keys of each kind shown per table. Default 5. */
  topKeys?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;
/** Wait before the one retry, unless the answer's Retry-After says otherwise. */
const RETRY_DELAY_MS = 1_000;
/** A Retry-After longer than this is cut to it: an alert must not hold a run. */
const MAX_RETRY_AFTER_MS = 5_000;
const BODY_IN_ERROR = 200;

/** True when a run deserves an alert: confirmed drift in a table, or a table that failed with an error. */
export function shouldAlert(report: ReconcileReport): boolean {
  return hasDrift(report) || report.tables.some((t) => t.error !== undefined);
}

/**
 * Sends the report's alert to each configured target (concurrently), only when the run found
 * confirmed drift (`hasDrift`) or a table failed with an error (a reconcile that could not check a
 * table is as worth knowing as drift). Rows only in flight never alert. Returns one result per
 * target tried, in the order slack, webhook; [] when there was nothing to alert on.
 *
 * Never throws: a failed delivery is logged (`warn`, with the target kind and the URL cut to
 * scheme and host) and returned with its error. A network error, timeout, 5xx or 429 is retried
 * once after 1 s (or the answer's Retry-After, at most 5 s); any other non-2xx answer is final.
 */
export async function sendAlerts(
  report: ReconcileReport,
  targets: AlertTargets,
  log: Pick<Logger, 'warn' | 'info'>,
  opts: AlertOptions = {},
): Promise<AlertResult[]> {
  if (!shouldAlert(report)) return [];
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const topKeys = opts.topKeys ?? DEFAULT_TOP_KEYS;
  const jobs: Array<Promise<AlertResult>> = [];
  if (targets.slack) {
    const url = targets.slack.webhookUrl;
    jobs.push(guarded('slack', url, log, () => deliver('slack', url, {}, slackPayload(report, topKeys), timeoutMs, log)));
  }
  if (targets.webhook) {
    const { url, headers = {} } = targets.webhook;
    jobs.push(guarded('webhook', url, log, () => deliver('webhook', url, headers, webhookPayload(report, topKeys), timeoutMs, log)));
  }
  return Promise.all(jobs);
}

/** `https://hooks.slack.com/services/T0/B0/secret` → `https://hooks.slack.com/***`: no path, query or user. */
export function redactWebhookUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/***`;
  } catch {
    return '(invalid URL)';
  }
}

/** Even a bug building the payload must not throw out of sendAlerts. */
async function guarded(target: AlertTarget, url: string, log: Pick<Logger, 'warn'>, run: () => Promise<AlertResult>): Promise<AlertResult> {
  try {
    return await run();
  } catch (err) {
    const error = scrub(`could not send: ${(err as Error)?.message ?? String(err)}`, url);
    log.warn({ target, url: redactWebhookUrl(url), error }, 'reconcile alert failed');
    return { target, ok: false, error };
  }
}

type Attempt = { ok: true } | { ok: false; error: string; retry: boolean; retryAfterMs?: number };

async function deliver(
  target: AlertTarget,
  url: string,
  headers: Record<string, string>,
  payload: unknown,
  timeoutMs: number,
  log: Pick<Logger, 'warn' | 'info'>,
): Promise<AlertResult> {
  const where = redactWebhookUrl(url);
  const body = JSON.stringify(payload);
  let attempt = await post(url, headers, body, timeoutMs);
  if (!attempt.ok && attempt.retry) {
    const delay = attempt.retryAfterMs ?? RETRY_DELAY_MS;
    await new Promise((r) => setTimeout(r, delay));
    attempt = await post(url, headers, body, timeoutMs);
  }
  if (attempt.ok) {
    log.info({ target, url: where }, 'reconcile alert sent');
    return { target, ok: true };
  }
  const error = scrub(attempt.error, url);
  log.warn({ target, url: where, error }, 'reconcile alert failed');
  return { target, ok: false, error };
}

async function post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<Attempt> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, error: 'invalid webhook URL', retry: false };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    return { ok: false, error: `webhook URL must be http(s), not ${parsed.protocol}`, retry: false };
  let res: Response;
  let text: string;
  try {
    res = await fetch(parsed, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    return { ok: false, error: networkError(err, timeoutMs), retry: true };
  }
  if (res.ok) return { ok: true };
  const retry = res.status >= 500 || res.status === 429;
  const retryAfterMs = retry ? retryAfter(res.headers.get('retry-after')) : undefined;
  const snippet = text.slice(0, BODY_IN_ERROR).trim();
  return {
    ok: false,
    error: `HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`,
    retry,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/** Retry-After as delay-seconds or an HTTP date, capped at 5 s; undefined when absent or unreadable. */
function retryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - Date.now();
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/** fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, …). */
function networkError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${e?.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}

/** Removes the URL (and its secret path) from a message that may quote it. */
function scrub(message: string, url: string): string {
  let out = message.split(url).join(redactWebhookUrl(url));
  try {
    const { pathname, search } = new URL(url);
    for (const secret of [pathname + search, pathname]) if (secret.length > 1) out = out.split(secret).join('/***');
  } catch {
    /* not a URL: nothing more to find */
  }
  return out;
}
