/**
 * The capture HTTP API: applications POST row changes, sluice makes them durable, then answers.
 * Data flow: request → bearer check (onRequest; GET /healthz is open) → JSON body (application/json
 * only; 413 above bodyLimit; rounded number literals noted) → changes.ts validates every change
 * through row-values.ts (all or nothing: 400 names each change and field) → `accept` (the pipeline's:
 * outbox commit or Kafka ack) → 200 {accepted}; kept but not acknowledged in api.ackTimeoutMs → 202
 * {accepted, published: false}; accept failing → 503 retriable (500 if not), nothing kept.
 */
export { createCaptureApi, DEFAULT_BODY_LIMIT, AUTH_REALM } from './server.js';
export { parseChanges, TableCatalog, MAX_PROBLEMS } from './changes.js';
export type { CaptureApi, CaptureApiOptions, CapturedChange, ErrorAnswer, ErrorAnswerCode, ProblemItem } from './types.js';
