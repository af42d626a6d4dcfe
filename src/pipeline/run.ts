/**
 * Wires a config into a running pipeline:
 *   source (outbox in the source DB, or the capture API's outbox in the state store)
 *     → direct: apply batches to the target in source order
 *     → kafka: publish Avro envelopes (registry: configured or embedded) → consumer group → apply
 * Start-up checks every connection and table first; stop() drains in order (source, then the
 * transport, then the sink) so nothing is acknowledged that was not durable.
 */
import type { Logger } from 'pino';
import type { SluiceConfig } from '../config/schema.js';
import type { TableSchema } from '../core/table-schema.js';
import type { SourceDdl } from '../core/contracts.js';
import { qualifiedName } from '../core/table-schema.js';
import { SluiceError } from '../core/errors.js';
import { SchemaHistory } from '../state/index.js';
import type { SqlSink } from '../apply/index.js';
import { connectorNamed } from '../capture/connectors.js';
import { createCaptureApi } from '../capture/api/index.js';
import { mountMetrics, startObserveServer } from '../observe/server.js';
import { createRegistryServer, type RegistryServer } from '../registry/server.js';
import { RegistryClient } from '../registry/client.js';
import { AvroSerde } from '../codec/avro-serde.js';
import { subjectName } from '../codec/subject-strategy.js';
import { tableRecordName } from '../codec/table-avro-schema.js';
import {
  ensureTopics,
  KafkaConsumer,
  KafkaProducer,
  type KafkaConnectionOptions,
  type PartitionPosition,
} from '../transport/kafka/index.js';
import { openEndpoints, lazyStateStore, type RunOptions } from './endpoints.js';
import { consumerOptions, kafkaConnection, registryAuth } from './kafka-options.js';
import { runDirect } from './direct.js';
import { applyHandler, Publisher, runPublisher, type KafkaPathOptions, type RecordDecoder, type RoutedTable } from './kafka-path.js';
import { PipelineStats } from './stats.js';
import { pipelineMetrics } from '../observe/metrics.js';
import { PipelineTracker, partitionLags } from '../observe/tracker.js';
import { AlertMonitor } from '../observe/alerts.js';
import { observeControls } from './observe-controls.js';
import { scheduleReconcile } from './reconcile.js';

export { openEndpoints, lazyStateStore, tableRef, type Endpoints, type RunOptions } from './endpoints.js';
export { consumerOptions, kafkaConnection, registryAuth } from './kafka-options.js';

export interface RunningPipeline {
  readonly stats: PipelineStats;
  readonly tables: readonly TableSchema[];
  readonly sink: SqlSink;
  readonly apiUrl?: string;
  readonly registryUrl?: string;
  /** The observe server (/metrics, /healthz, /readyz), unless observe.enabled is false. */
  readonly observeUrl?: string;
  /** Resolves when the pipeline ends: after stop(), or rejects when a stage fails. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export async function runPipeline(cfg: SluiceConfig, log: Logger, opts: RunOptions = {}): Promise<RunningPipeline> {
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch((err) => log.warn({ err }, 'error while closing'));
    closers.length = 0;
  };
  try {
    const { source, target, tables, specs, sink } = await openEndpoints(cfg, opts, closers);
    const state = lazyStateStore(cfg, closers);
    const stats = new PipelineStats();
    const connector = connectorNamed(cfg.source.connector);
    const opened = await connector.open(cfg.source, {
      pipeline: cfg.name,
      tables,
      ...(source ? { database: source } : {}),
      state: state.get,
      transport: cfg.transport.kind,
      log: log.child({ stage: 'source' }),
    });
    closers.push(() => opened.close());

    /** The Kafka consumer's partitions, once it exists (for /metrics). */
    let positions: () => readonly PartitionPosition[] = () => [];
    // Per-table counters, honest lag and apply histograms, kept by wrapping the relay and the sink.
    const tracker = new PipelineTracker({
      tables: tables.map(qualifiedName),
      targetOf: new Map(tables.map((t) => [qualifiedName(sink.targetOf(t) ?? t), qualifiedName(t)])),
      backlog: () => stats.backlog,
      ...(cfg.transport.kind === 'kafka' ? { partitions: () => partitionLags(positions()) } : {}),
    });
    closers.push(async () => tracker.close());
    const relay = tracker.observeSource(opened.source, { published: cfg.transport.kind === 'kafka' });
    const observedSink = tracker.observeSink(sink);
    /** The shape each table was last bound with: a reported change is recorded against it. */
    const shapes = new Map(tables.map((t) => [qualifiedName(t), t]));
    /** A source table changed shape (log capture): rebind it on the target (adding columns with target.evolve) and record it. */
    const evolveSink = async (t: TableSchema, position: string) => {
      const cols = t.columns.map((c) => c.name).join(', ');
      const evolved = await sink.evolve(t);
      if (evolved) log.info({ table: qualifiedName(t), columns: cols }, 'source table changed shape: target rebound');
      else
        log.error(
          { table: qualifiedName(t), columns: cols },
          'source table changed shape and the target lacks its new column(s): its changes go to dead letters until the target has them (add the columns or set target.evolve: true, restart, then sluice dlq replay)',
        );
      const before = new Map(shapes.get(qualifiedName(t))?.columns.map((c) => [c.name, c.type]));
      const after = new Set(t.columns.map((c) => c.name));
      shapes.set(qualifiedName(t), t);
      await new SchemaHistory(await state.get(), cfg.name).record({
        table: qualifiedName(t),
        position,
        added: t.columns.filter((c) => !before.has(c.name)).map((c) => ({ name: c.name, type: c.type })),
        dropped: [...before.keys()].filter((c) => !after.has(c)),
        retyped: t.columns
          .filter((c) => before.has(c.name) && JSON.stringify(before.get(c.name)) !== JSON.stringify(c.type))
          .map((c) => ({ name: c.name, from: before.get(c.name)!, to: c.type })),
        targetEvolved: evolved,
      });
    };
    /** DDL read from the source's log (source.ddlMessages): kept in the schema history with its statement. */
    const recordDdl = async (d: SourceDdl) =>
      new SchemaHistory(await state.get(), cfg.name).record({
        table: d.table,
        position: d.position,
        added: [],
        dropped: [],
        targetEvolved: false,
        ddl: { tag: d.tag, statement: d.statement },
      });
    const gauges = opened.gauges?.bind(opened);
    const metrics = pipelineMetrics({
      pipeline: cfg.name,
      stats,
      // Consumer positions exist on the Kafka path only: the direct transport shows no consumer lag.
      ...(cfg.transport.kind === 'kafka' ? { positions: () => positions() } : {}),
      tracker,
      ...(gauges ? { sourceGauges: gauges } : {}),
    });
    const observe = await startObserveServer(cfg.observe, metrics, log.child({ stage: 'observe' }));
    if (observe) closers.push(() => observe.close());

    let apiUrl: string | undefined;
    if (cfg.api) {
      const accept = opened.accept;
      if (!accept)
        throw new SluiceError('SLUICE_ERR_CONFIG', `api: the capture API needs source.connector: api (it is ${cfg.source.connector})`, {
          context: { configPath: 'source.connector' },
        });
      const ackTimeoutMs = cfg.api.ackTimeoutMs;
      const api = createCaptureApi({
        tables,
        ...(cfg.api.token ? { token: cfg.api.token } : {}),
        bodyLimit: cfg.api.bodyLimit,
        logger: log.child({ stage: 'capture-api' }),
        accept: (changes) => accept(changes, ackTimeoutMs),
      });
      mountMetrics(api.app, metrics);
      apiUrl = await api.listen(cfg.api.port, cfg.api.host);
      closers.push(() => api.close());
    }

    let registryUrl: string | undefined;
    let viewer: { conn: KafkaConnectionOptions; decoder: RecordDecoder } | undefined;
    let done: Promise<void>;
    const stopStages: Array<() => Promise<void>> = [() => relay.stop()];
    if (cfg.transport.kind === 'direct') {
      const before = await sink.checkpoint(cfg.name);
      if (before) log.info({ checkpoint: before }, 'resuming: changes up to this source position were applied before');
      done = runDirect(relay, observedSink, {
        checkpointName: cfg.name,
        batchSize: cfg.apply.batchSize,
        stats,
        onSchemaChange: (t, position) => evolveSink(t, position),
        onDdl: recordDdl,
        truncate: (t, version) => sink.truncate(t, version),
        onRetry: (err) => log.warn({ err: (err as Error).message }, 'apply failed, retrying'),
      });
    } else {
      const k = cfg.transport;
      let registry: RegistryServer | undefined;
      if (!cfg.registry.url) {
        registry = createRegistryServer({ store: await state.get(), logger: false });
        registryUrl = await registry.listen(cfg.registry.port, '127.0.0.1');
        closers.push(() => registry!.close());
      } else registryUrl = cfg.registry.url;
      const auth = registryAuth(cfg);
      const client = new RegistryClient({ url: registryUrl, ...(auth ? { auth } : {}) });
      const routed: RoutedTable[] = tables.map((t, i) => ({ table: t, topic: specs[i]!.topic ?? k.topic }));
      const conn = kafkaConnection(k, log);
      log.info({ driver: conn.driver.driverName, configured: k.driver }, 'kafka client');
      const topics = await ensureTopics(
        conn,
        [...new Set(routed.map((r) => r.topic))].map((topic) => ({
          topic,
          partitions: k.partitions,
          replicationFactor: k.replicationFactor,
        })),
      );
      if (topics.created.length) log.info({ topics: topics.created, partitions: k.partitions }, 'created topics');
      for (const u of topics.underPartitioned)
        log.warn(
          u,
          'topic has fewer partitions than transport.partitions: per-key concurrency still applies, but fewer consumers can share it',
        );
      const pathOpts: KafkaPathOptions = {
        serde: new AvroSerde(client),
        tables: routed,
        subjectStrategy: k.subjectStrategy,
        keyEncoding: k.keyEncoding,
        namespace: cfg.registry.namespace,
      };
      if (cfg.registry.compatibility) {
        for (const r of routed) await client.setCompatibility(cfg.registry.compatibility, subjectFor(pathOpts, r));
      }
      const producer = new KafkaProducer(conn);
      await producer.connect();
      closers.push(() => producer.close());
      const publisher = new Publisher(producer, pathOpts);
      await publisher.prepare();
      const handler = applyHandler(observedSink, pathOpts, stats);
      viewer = { conn, decoder: handler.decoder };
      const publishing = new AbortController();
      const consumer = new KafkaConsumer({
        ...conn,
        ...consumerOptions(cfg, k),
        topics: [...new Set(routed.map((r) => r.topic))],
        handler,
      });
      await consumer.start();
      positions = () => consumer.positions();
      stopStages.push(() => consumer.stop());
      stopStages.unshift(async () => publishing.abort());
      // Either side failing ends the pipeline: a consumer stopped by a non-retriable error must not
      // leave the publisher running as if all were well.
      done = Promise.all([
        runPublisher(relay, publisher, stats, {
          onRetry: (err) => log.warn({ err: (err as Error).message }, 'publish failed, retrying the batch'),
          onSchemaChange: async (t, position) => {
            await evolveSink(t, position);
            handler.evolve(t);
          },
          onDdl: recordDdl,
          signal: publishing.signal,
        }),
        consumer.done,
      ]).then(() => {});
    }
    if (cfg.reconcile.every) {
      const schedule = scheduleReconcile(cfg, log.child({ stage: 'reconcile' }), { source, target, tables, specs, sink }, state.opened());
      stopStages.unshift(() => schedule.stop());
    }
    const statsTimer = setInterval(() => {
      stats.backlog = opened.backlog();
      stats.snapshots = gauges?.().snapshots ?? [];
    }, 500);
    statsTimer.unref();
    const alertChannel = cfg.reconcile.alert;
    if (
      (alertChannel.slack || alertChannel.webhook) &&
      (cfg.observe.alerts.lagSeconds !== undefined || cfg.observe.alerts.deadLetters || cfg.observe.alerts.retainedBytes !== undefined)
    ) {
      const alerts = new AlertMonitor(
        cfg.name,
        cfg.observe.alerts,
        { lagSeconds: () => tracker.lagMs() / 1000, deadLettered: () => stats.deadLettered, retainedBytes: () => gauges?.().retainedBytes },
        alertChannel,
        log.child({ stage: 'alerts' }),
      );
      closers.push(() => alerts.close());
    }
    if (observe) {
      const auth = registryAuth(cfg);
      observe.attach(
        observeControls(
          cfg,
          log.child({ stage: 'dashboard' }),
          { source, target, tables, specs, sink },
          {
            state,
            ...(cfg.transport.kind === 'kafka' && registryUrl ? { registry: { url: registryUrl, ...(auth ? { auth } : {}) } } : {}),
            ...(viewer ? { kafka: viewer } : {}),
          },
        ),
      );
      observe.setState('running');
      observe.setReadiness({ ready: true, reasons: [] });
      done.catch((err: unknown) => {
        observe.setState('failed');
        observe.setReadiness({ ready: false, reasons: [`pipeline failed: ${(err as Error).message}`] });
      });
    }
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        observe?.setState('stopping');
        observe?.setReadiness({ ready: false, reasons: ['stopping'] });
        clearInterval(statsTimer);
        for (const s of stopStages) await s();
        await done.catch(() => {});
        await closeAll();
      })();
      return stopping;
    };
    return {
      stats,
      tables,
      sink,
      ...(apiUrl ? { apiUrl } : {}),
      ...(registryUrl ? { registryUrl } : {}),
      ...(observe ? { observeUrl: observe.url } : {}),
      done,
      stop,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function subjectFor(opts: KafkaPathOptions, r: RoutedTable): string {
  return subjectName(opts.subjectStrategy, r.topic, tableRecordName(r.table, { namespace: opts.namespace }));
}
