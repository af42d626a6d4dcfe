/**
 * The Controls a running pipeline hands to its observe server: the dead letters of its sink (the
 * same replay/skip code path as `sluice dlq`), reconcile runs and their stored reports, the
 * registry's subjects, snapshots and their controls, the source tables' schema history, the
 * topology and the readiness probes.
 * observe/ sees only these functions.
 */
import type { Logger } from 'pino';
import type { SluiceConfig } from '../config/schema.js';
import { qualifiedName, type TableSchema } from '../core/table-schema.js';
import { SluiceError } from '../core/errors.js';
import { readRows } from '../metadata/index.js';
import type { SqlStore } from '../state/index.js';
import { ReportStore } from '../reconcile/report-store.js';
import type { DeadLetterSummary, DrainResult } from '../apply/index.js';
import type { Controls, DeadLetterItem, DrainOutcome, ReadinessCheck, ReconcileState } from '../observe/controls.js';
import type { OpenConnection } from './connections.js';
import { reconcileFromConfig } from './reconcile.js';
import { snapshotControls } from './snapshot-controls.js';
import { schemaHistoryControls } from './schema-controls.js';
import type { Endpoints } from './endpoints.js';
import type { KafkaConnectionOptions } from '../transport/kafka/index.js';
import type { RecordDecoder } from './kafka-path.js';
import { messageControls } from './message-controls.js';

export interface ControlsOptions {
  readonly state: { get: () => Promise<SqlStore>; opened: () => SqlStore | undefined };
  /** The registry the Kafka path uses, with its credentials. */
  readonly registry?: { url: string; auth?: { token: string } | { username: string; password: string } };
  /** What the message viewer reads the Kafka path's topics with. */
  readonly kafka?: { conn: KafkaConnectionOptions; decoder: RecordDecoder };
}

function item(d: DeadLetterSummary): DeadLetterItem {
  return { ...d, version: d.version.toString() };
}

function outcome(r: DrainResult): DrainOutcome {
  return { applied: r.applied, skipped: r.skipped, released: r.released, ...(r.open ? { open: r.open } : {}) };
}

async function ping(conn: OpenConnection): Promise<void> {
  switch (conn.dialect) {
    case 'postgres':
      await (conn.connection as { query(sql: string): Promise<unknown> }).query('SELECT 1');
      return;
    case 'mysql':
      await (conn.connection as { query(sql: string): Promise<unknown> }).query('SELECT 1');
      return;
    case 'pglite':
      await (conn.connection as { query(sql: string): Promise<unknown> }).query('SELECT 1');
      return;
  }
}

export function observeControls(cfg: SluiceConfig, log: Logger, ep: Endpoints, o: ControlsOptions): Controls {
  const k = cfg.transport.kind === 'kafka' ? cfg.transport : undefined;
  const targetOf = (t: TableSchema) => {
    const target = ep.sink.targetOf(t);
    return target ? qualifiedName(target) : qualifiedName(t);
  };
  const topology = ep.tables.map((t, i) => ({
    table: qualifiedName(t),
    target: targetOf(t),
    ...(k ? { topic: ep.specs[i]!.topic ?? k.topic } : {}),
  }));

  const checks: ReadinessCheck[] = [{ name: 'target', check: () => ping(ep.target) }];
  if (ep.source) checks.push({ name: 'source', check: () => ping(ep.source!) });
  checks.push({
    name: 'state store',
    // Only a store the pipeline opened is probed: opening an embedded one just to probe it costs seconds.
    check: async () => {
      await o.state.opened()?.query('SELECT 1');
    },
  });

  const dl = ep.sink.deadLetters;
  const deadLetters: Controls['deadLetters'] = {
    list: async (q) =>
      (await dl.list({ ...(q.table ? { table: q.table } : {}), status: (q.status ?? 'open') as 'open', limit: q.limit ?? 100 })).map(item),
    show: async (id) => {
      const d = await dl.show(id);
      if (!d) return undefined;
      const source = ep.tables.find((t) => targetOf(t) === d.table);
      const target = source ? ep.sink.targetOf(source) : undefined;
      let targetRow: Record<string, unknown> | null = null;
      if (target) {
        const rows = await readRows(ep.target, target, [d.event.key]);
        targetRow = rows[0] ?? null;
      }
      return {
        ...item(d),
        event: {
          op: d.event.op,
          table: qualifiedName(d.event.table),
          key: d.event.key,
          after: d.event.after ?? null,
          version: d.event.version.toString(),
          source: d.event.source,
        },
        parkedEvents: d.parkedEvents.map((p) => ({ id: p.id, version: p.version.toString(), op: p.op })),
        targetRow,
      };
    },
    replay: async (id) => outcome(await dl.replay(id)),
    skip: async (id) => outcome(await dl.skip(id)),
  };

  let rc: ReconcileState = { running: false };
  const reconcileControls: Controls['reconcile'] = ep.source
    ? {
        state: () => rc,
        start: ({ repair }) => {
          if (rc.running) return false;
          const startedAt = new Date().toISOString();
          rc = { ...rc, running: true, startedAt };
          void (async () => reconcileFromConfig(cfg, log, ep, { repair, state: await o.state.get() }))()
            .then((r) => {
              rc = { running: false, startedAt, ...(r.id !== undefined ? { lastReportId: r.id } : {}) };
            })
            .catch((err: unknown) => {
              log.warn({ err: (err as Error).message }, 'reconcile started from the dashboard failed');
              rc = { running: false, startedAt, lastError: (err as Error).message };
            });
          return true;
        },
        reports: async (limit) => new ReportStore(await o.state.get()).latest(cfg.name, limit),
        report: async (id) => {
          const r = await new ReportStore(await o.state.get()).get(id);
          // Reports of other pipelines sharing the state store are not this dashboard's to show.
          return r && r.name === cfg.name ? r : undefined;
        },
      }
    : undefined;

  const registry: Controls['registry'] = o.registry ? registryView(o.registry.url, o.registry.auth) : undefined;
  const snapshots = snapshotControls(cfg, ep.tables, ep.source, o.state.get);
  const schemaHistory = schemaHistoryControls(cfg, o.state.get);
  const messages =
    k && o.kafka
      ? messageControls({
          conn: o.kafka.conn,
          decoder: o.kafka.decoder,
          keyEncoding: k.keyEncoding,
          routes: ep.tables.map((t, i) => ({ table: t, topic: ep.specs[i]!.topic ?? k.topic })),
          target: ep.target,
          targetOf: (t) => ep.sink.targetOf(t),
        })
      : undefined;

  return {
    pipeline: cfg.name,
    transport: cfg.transport.kind,
    topology,
    checks,
    deadLetters,
    ...(reconcileControls ? { reconcile: reconcileControls } : {}),
    ...(registry ? { registry } : {}),
    ...(messages ? { messages } : {}),
    ...(snapshots ? { snapshots } : {}),
    ...(schemaHistory ? { schemaHistory } : {}),
  };
}

function registryView(url: string, auth?: { token: string } | { username: string; password: string }): NonNullable<Controls['registry']> {
  const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  if (auth && 'token' in auth) headers.authorization = `Bearer ${auth.token}`;
  else if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url.replace(/\/$/, '')}${path}`, { headers, signal: AbortSignal.timeout(5_000) });
    if (!res.ok)
      throw new SluiceError('SLUICE_ERR_CONFIG', `registry.url: GET ${path} answered ${res.status}`, {
        context: { configPath: 'registry.url' },
      });
    return (await res.json()) as T;
  };
  return {
    subjects: async () => {
      const subjects = await get<string[]>('/subjects');
      return Promise.all(
        subjects
          .sort()
          .map(async (subject) => ({ subject, versions: await get<number[]>(`/subjects/${encodeURIComponent(subject)}/versions`) })),
      );
    },
    schema: (subject, version) => get(`/subjects/${encodeURIComponent(subject)}/versions/${version}`),
  };
}
