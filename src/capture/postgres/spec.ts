import { z } from 'zod';
import { identifier } from '../../config/common.js';
import { ConnectionSchema, sourceBatchSize, sourceTables } from '../spec-common.js';

export const postgresSpec = z
  .object({
    connector: z
      .literal('postgres')
      .describe(
        'postgres: reads the PostgreSQL write-ahead log through logical decoding (pgoutput); no change to the application. Needs wal_level=logical and a role with REPLICATION and SELECT.',
      ),
    connection: ConnectionSchema.describe('The source PostgreSQL database (dialect: postgres).'),
    tables: sourceTables,
    slot: identifier
      .regex(/^[a-z0-9_]+$/, 'lower-case letters, digits and _ only (a replication slot name)')
      .optional()
      .describe(
        'Replication slot name (default: sluice_<name> with - and . as _). Created when missing; dropped only by `sluice slot drop`.',
      ),
    publication: identifier
      .optional()
      .describe(
        'Publication name (default: the slot name). Created for the listed tables when missing, unless createPublication is false.',
      ),
    createPublication: z
      .boolean()
      .default(true)
      .describe(
        'Create the publication when it does not exist (needs ownership of the tables); false: it must exist (created by an administrator).',
      ),
    snapshot: z
      .enum(['initial', 'never'])
      .default('initial')
      .describe(
        "initial: a table with no snapshot recorded yet has its existing rows copied (in key order, resumable) while the log streams; never: only changes from the slot's creation on.",
      ),
    snapshotChunkRows: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(10_000)
      .describe('Rows per snapshot chunk: the unit of progress kept across restarts.'),
    truncate: z
      .enum(['refuse', 'apply'])
      .default('refuse')
      .describe(
        'A TRUNCATE of a replicated table: refuse stops the pipeline with an error naming the table (nothing after it is applied); apply empties the target table too (direct transport only), its keys kept as tombstones so a replayed older change cannot bring a row back.',
      ),
    transactions: z
      .enum(['whole', 'batch'])
      .default('whole')
      .describe(
        'With the direct transport: whole applies each source transaction as one target transaction; batch groups several small transactions per target transaction (faster). Transactions above maxTransactionChanges are applied in chunks either way.',
      ),
    maxTransactionChanges: z
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .default(100_000)
      .describe(
        'Largest source transaction held in memory and applied atomically; a larger one is applied in chunks of apply.batchSize (a reader of the target may then see it half-applied).',
      ),
    streamInProgress: z
      .boolean()
      .default(true)
      .describe(
        'PostgreSQL 14+: have the server stream a large transaction while it is still in progress (protocol 2) and spool it to disk until it commits, so memory stays bounded whatever its size; false: protocol 1 (the server spools it instead and sends it after the commit).',
      ),
    decodingWorkMem: z
      .string()
      .regex(/^\d+(kB|MB|GB)$/, 'a size such as 64MB')
      .optional()
      .describe(
        "logical_decoding_work_mem for this connection: how much of a transaction the server decodes in memory before it streams (or spills) it. Default: the server's setting (64MB).",
      ),
    spoolDir: z
      .string()
      .optional()
      .describe(
        'Directory for transactions streamed in progress (default: a folder under the system temp directory, per pipeline). Emptied at start: the server streams again whatever was not confirmed.',
      ),
    ddlMessages: z
      .boolean()
      .default(false)
      .describe(
        'PostgreSQL 14+: read the DDL that the event trigger of `sluice slot ddl install` writes into the log, so every schema change of the replicated tables is recorded with its statement at its exact position (`sluice schema`). The trigger is installed once by a superuser; `sluice check` says when it is missing.',
      ),
    batchSize: sourceBatchSize,
    statusIntervalMs: z
      .number()
      .int()
      .min(100)
      .max(60_000)
      .default(1_000)
      .describe('How often the confirmed position is reported to the server when nothing else asks for it.'),
  })
  .strict();

export type PostgresSourceConfig = z.infer<typeof postgresSpec>;
