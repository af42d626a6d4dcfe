/**
 * The capture SDK for in-process use: `createCapture({url, token})`, then
 * `capture.table('coupon').insert(row)` / `.update(row)` / `.delete(key)` after the business
 * transaction committed. Calls made in the same tick go out as one POST /v1/changes, in call order,
 * one request at a time; each call resolves `{ok: true}` or `{ok: false, error}` and never throws or
 * rejects, so capture can never break the business logic it observes.
 *
 * SDK or transactional outbox (createOutboxWriter)? The SDK is "after commit, best effort with
 * retries": a change is sent after your transaction commits, retried through network errors and
 * 5xx for a bounded time, then reported to onError. A crash between commit and send, or an outage
 * longer than the retries, loses the change (it also may arrive twice after a timeout, in order).
 * The outbox writes the change in the same transaction as the business row: it is captured exactly
 * when the transaction commits, survives any crash, and is ordered per row by the row lock
 * (docs/guarantees.md: outbox-after-business-row). Prefer the outbox whenever the change must not
 * be lost (money, stock, anything a
 * reconcile would otherwise have to repair) and your database is one sluice reads; use the SDK for
 * sources sluice cannot reach, or where an occasional loss is acceptable and repaired by reconcile.
 */
export { createCapture } from './client.js';
export { CAPTURE_REJECTED, CAPTURE_UNAVAILABLE } from './errors.js';
export { DEFAULTS as CAPTURE_DEFAULTS } from './options.js';
export type { CaptureOptions, CaptureLogger } from './options.js';
export type { Capture, CaptureResult, CaptureStats, CallOptions, SdkChange, TableCapture } from './types.js';
