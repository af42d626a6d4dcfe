/**
 * The config file's schema: one zod spec drives parsing, `sluice check`, error messages with the key
 * path, and the generated reference in docs/config.md (CI fails when that file is stale).
 * Every key has a description; secrets are read from the environment with ${VAR} and never logged.
 */
import { z } from 'zod';
import { COMPATIBILITY_LEVELS } from '../registry/compatibility/types.js';
import { SUBJECT_STRATEGIES } from '../codec/subject-strategy.js';
import { KEY_ENCODINGS } from '../codec/key-encoding.js';
import { ConnectionSchema, TableSpecSchema } from './common.js';
import { SOURCE_SPECS } from '../capture/connectors.js';

export { ConnectionSchema, TableSpecSchema } from './common.js';

const KafkaSchema = z
  .object({
    kind: z.literal('kafka'),
    brokers: z.array(z.string().min(1)).min(1).describe('Bootstrap servers, host:port. Example: ["127.0.0.1:9092"]'),
    driver: z
      .enum(['auto', 'confluent', 'kafkajs'])
      .default('auto')
      .describe(
        'Kafka client: confluent (@confluentinc/kafka-javascript on librdkafka, an optional dependency with a native build), kafkajs (pure JS), or auto: confluent where it is installed, else kafkajs.',
      ),
    topic: z
      .string()
      .min(1)
      .describe(
        'The domain topic: every table goes here unless its table entry names another. Several tables per topic is the normal case.',
      ),
    partitions: z.number().int().min(1).max(10_000).default(3).describe('Partition count for topics sluice creates.'),
    replicationFactor: z
      .number()
      .int()
      .min(1)
      .max(16)
      .default(1)
      .describe('Replication factor for topics sluice creates (3 in production).'),
    clientId: z.string().default('sluice').describe('Kafka client id.'),
    groupId: z.string().optional().describe('Consumer group id (default: sluice-<name>).'),
    subjectStrategy: z
      .enum(SUBJECT_STRATEGIES)
      .default('TopicRecordNameStrategy')
      .describe('How registry subjects are named; TopicRecordNameStrategy lets several tables share a topic.'),
    keyEncoding: z
      .enum(KEY_ENCODINGS)
      .default('auto')
      .describe(
        'Record key bytes: auto (Java Long/Integer/String serializer layout for one-column keys, else json) or json. Partitions follow these bytes: never change it on a live topic.',
      ),
    ssl: z.boolean().default(false).describe('Use TLS to the brokers.'),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string(),
        password: z.string().describe('Secret: use ${ENV_VAR}.'),
      })
      .strict()
      .optional()
      .describe('SASL authentication (e.g. Amazon MSK, Confluent Cloud, Redpanda Cloud).'),
    consumer: z
      .object({
        lanes: z
          .number()
          .int()
          .min(1)
          .max(4096)
          .optional()
          .describe(
            'Lanes keys are hashed into (at least apply.concurrency; default: apply.concurrency). More lanes, less head-of-line blocking behind a slow key.',
          ),
        maxInFlight: z
          .number()
          .int()
          .min(1)
          .max(10_000_000)
          .default(10_000)
          .describe('Records fetched but not yet applied before fetching pauses (memory bound).'),
        commitIntervalMs: z
          .number()
          .int()
          .min(10)
          .max(600_000)
          .default(1_000)
          .describe('How often applied offsets are committed (also on rebalance and stop). Shorter: less replayed after a crash.'),
        drainTimeoutMs: z
          .number()
          .int()
          .min(0)
          .max(600_000)
          .default(10_000)
          .describe(
            'How long a rebalance or stop waits for running batches before abandoning them (uncommitted, replayed by the next owner).',
          ),
        sessionTimeoutMs: z
          .number()
          .int()
          .min(1_000)
          .max(3_600_000)
          .default(10_000)
          .describe(
            'Group session timeout: how long the partitions of a member that died wait before another member (or the restarted process, with kafkajs) takes them over. With driver confluent a restarted member takes them back at once (static membership).',
          ),
        heartbeatIntervalMs: z
          .number()
          .int()
          .min(100)
          .max(600_000)
          .default(1_000)
          .describe('Group heartbeat interval (well below sessionTimeoutMs).'),
        rebalanceTimeoutMs: z
          .number()
          .int()
          .min(1_000)
          .max(3_600_000)
          .default(60_000)
          .describe('How long the group waits for members to rejoin during a rebalance.'),
        maxWaitMs: z
          .number()
          .int()
          .min(0)
          .max(60_000)
          .default(500)
          .describe('How long a fetch waits on the broker for data (fetch.max.wait.ms).'),
        maxBytesPerPartition: z
          .number()
          .int()
          .min(1024)
          .max(1 << 30)
          .optional()
          .describe('Largest fetch per partition in bytes (client default when omitted).'),
        fromBeginning: z
          .boolean()
          .default(true)
          .describe('Where a group with no committed offset starts: the earliest record (true) or new records only.'),
      })
      .strict()
      .prefault({})
      .describe('The consumer group applying to the target.'),
  })
  .strict()
  .refine((k) => k.consumer.heartbeatIntervalMs < k.consumer.sessionTimeoutMs, {
    message: 'transport.consumer.heartbeatIntervalMs must be below sessionTimeoutMs',
    path: ['consumer', 'heartbeatIntervalMs'],
  });

const DirectSchema = z.object({ kind: z.literal('direct') }).strict();

export const ConfigSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only')
      .describe('Pipeline name: names checkpoints, the consumer group and metrics.'),
    state: z
      .object({
        url: z
          .string()
          .optional()
          .describe('PostgreSQL URL of the state store (registry, checkpoints, dead letters). Omitted: embedded PGlite under dataDir.'),
        dataDir: z.string().default('./.sluice').describe('Directory for embedded state (PGlite) when no url is given.'),
      })
      .strict()
      .prefault({})
      .describe('Where sluice keeps its own state.'),
    source: z
      .discriminatedUnion('connector', SOURCE_SPECS)
      .describe('Where changes come from: one connector (outbox, api or postgres) with its own keys.'),
    api: z
      .object({
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(8080)
          .describe('Port of the capture HTTP API (POST /v1/changes), health and metrics.'),
        host: z.string().default('127.0.0.1').describe('Address to bind.'),
        token: z.string().optional().describe('Bearer token the API requires (use ${ENV_VAR}); omitted: no auth.'),
        bodyLimit: z
          .number()
          .int()
          .min(1024)
          .max(1 << 30)
          .default(8 * 1024 * 1024)
          .describe('Largest request body in bytes (413 above).'),
        ackTimeoutMs: z
          .number()
          .int()
          .min(0)
          .max(600_000)
          .default(10_000)
          .describe(
            'With the Kafka transport, how long a request waits for the broker to acknowledge its changes (they are stored durably first); after that it is answered 202: kept, published later, not to be sent again.',
          ),
      })
      .strict()
      .optional()
      .describe('The HTTP server of `sluice run`: capture API, /healthz, /metrics.'),
    observe: z
      .object({
        enabled: z.boolean().default(true).describe('Serve /metrics, /healthz and /readyz on a server of their own.'),
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .optional()
          .describe(
            'Port of the observe server (default 9464; when that is taken by another process and this key is not set, any free port, logged).',
          ),
        host: z.string().default('127.0.0.1').describe('Address to bind (0.0.0.0 for a scraper on another host).'),
        token: z
          .string()
          .optional()
          .describe(
            "Bearer token the dashboard's state-changing requests need (replay, skip, start a reconcile; use ${ENV_VAR}). Omitted: those requests are refused; reading stays open on observe.host.",
          ),
        stallSeconds: z
          .number()
          .min(0)
          .default(120)
          .describe('/readyz answers 503 when changes wait and none was applied for this long (0: never).'),
        alerts: z
          .object({
            lagSeconds: z
              .number()
              .min(0)
              .optional()
              .describe(
                "Alert when replication lag stays above this many seconds for forSeconds (sent to reconcile.alert's Slack/webhook targets). Omitted: no lag alert.",
              ),
            forSeconds: z
              .number()
              .min(0)
              .default(60)
              .describe('How long a condition must hold before its alert fires, and be clear before it resolves.'),
            retainedBytes: z
              .number()
              .int()
              .min(0)
              .optional()
              .describe(
                'Alert when the source server keeps more than this many bytes of WAL for the pipeline (log capture), e.g. 10737418240 for 10 GiB: raised before the disk fills. Omitted: no alert (the metric sluice_source_retained_bytes is always there).',
              ),
            deadLetters: z
              .boolean()
              .default(true)
              .describe('Alert when new dead letters appear (resolved after forSeconds without a new one).'),
            minIntervalSeconds: z
              .number()
              .min(0)
              .default(300)
              .describe('At most one firing message per alert in this many seconds (a flapping condition does not spam).'),
          })
          .strict()
          .prefault({})
          .describe('Operational alerts, delivered to the targets of reconcile.alert.'),
      })
      .strict()
      .prefault({})
      .describe('Metrics, health, the dashboard and alerts of the running pipeline.'),
    transport: z
      .discriminatedUnion('kind', [KafkaSchema, DirectSchema])
      .describe('kafka: through a Kafka cluster (scale-out); direct: one process applies from the durable outbox, no broker.'),
    registry: z
      .object({
        url: z
          .string()
          .optional()
          .describe(
            'A Confluent-compatible registry (sluice, Confluent, Karapace, Apicurio ccompat, Redpanda). Omitted: sluice serves its own, embedded, from the state store.',
          ),
        port: z.number().int().min(0).max(65535).default(8081).describe('Port of the embedded registry.'),
        username: z.string().optional().describe('Basic-auth user for the registry.'),
        password: z.string().optional().describe('Basic-auth password (use ${ENV_VAR}).'),
        token: z.string().optional().describe('Bearer token for the registry (use ${ENV_VAR}).'),
        compatibility: z.enum(COMPATIBILITY_LEVELS).optional().describe("Compatibility level to set on sluice's subjects."),
        namespace: z.string().default('sluice').describe('Avro namespace prefix of the table records.'),
      })
      .strict()
      .prefault({})
      .describe('Schema registry (used with the kafka transport).'),
    target: z
      .object({
        connection: ConnectionSchema.describe('The target database.'),
        evolve: z
          .boolean()
          .default(false)
          .describe(
            'When a log source sees a table gain columns, add them to the target table (nullable) before the first change that carries them. false: such changes are dead-lettered, naming the column, until the target has it (then restart and `sluice dlq replay`).',
          ),
      })
      .strict()
      .describe('Where changes are applied, by primary key.'),
    apply: z
      .object({
        concurrency: z.number().int().min(1).max(256).default(16).describe('Keys applied in parallel (per-key order is always kept).'),
        batchSize: z.number().int().min(1).max(50_000).default(500).describe('Most changes per target transaction.'),
      })
      .strict()
      .prefault({})
      .describe('How changes are applied to the target.'),
    reconcile: z
      .object({
        every: z
          .string()
          .regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 30m, 1h, 90s')
          .optional()
          .describe('Run reconcile on this schedule inside `sluice run` (e.g. 30m). Absent: only `sluice reconcile` runs it.'),
        tables: z.array(z.string()).optional().describe('Tables to reconcile (source names); default all configured tables.'),
        repair: z.boolean().default(false).describe('Scheduled runs repair confirmed drift (`sluice reconcile --repair` does it once).'),
        maxRepairShare: z
          .number()
          .min(0)
          .max(1)
          .default(0.05)
          .describe("Above this share of a table's rows drifted, repair is refused and the alert recommends a re-snapshot."),
        repairRowsPerSecond: z.number().int().min(1).default(2000).describe('Rate cap of repair writes.'),
        rangeMs: z.number().int().min(10).max(10_000).default(100).describe("Target duration of one key range's checksum query."),
        recheckRounds: z
          .number()
          .int()
          .min(2)
          .max(20)
          .default(5)
          .describe('Re-check rounds for rows found different before they count as in flight.'),
        waitTimeoutMs: z
          .number()
          .int()
          .min(100)
          .default(60_000)
          .describe('Longest wait for replication to pass a source position before comparing.'),
        keyLimit: z.number().int().min(0).max(10_000).default(20).describe('Keys listed per table and kind in the report and the alert.'),
        alert: z
          .object({
            slack: z
              .object({ webhookUrl: z.string().url().describe('Slack incoming-webhook URL (a secret: use ${ENV_VAR}).') })
              .strict()
              .optional(),
            webhook: z
              .object({
                url: z.string().url().describe('URL a JSON summary is POSTed to.'),
                headers: z
                  .record(z.string(), z.string())
                  .optional()
                  .describe('Extra request headers (e.g. Authorization: use ${ENV_VAR}).'),
              })
              .strict()
              .optional(),
          })
          .strict()
          .prefault({})
          .describe('Where confirmed drift is reported.'),
      })
      .strict()
      .prefault({})
      .describe('Reconciliation: compare source and target by key-range checksums, re-check, repair, alert.'),
  })
  .strict();

export type SluiceConfig = z.infer<typeof ConfigSchema>;
export type ConnectionConfig = z.infer<typeof ConnectionSchema>;
export type TableSpec = z.infer<typeof TableSpecSchema>;
export type SourceConfig = SluiceConfig['source'];
export type KafkaConfig = z.infer<typeof KafkaSchema>;

/** The source database a connector reads, when its spec has one (not every connector needs a database). */
export function sourceConnection(source: SourceConfig): ConnectionConfig | undefined {
  return 'connection' in source ? source.connection : undefined;
}
