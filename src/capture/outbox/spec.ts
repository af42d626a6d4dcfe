import { z } from 'zod';
import { identifier } from '../../config/common.js';
import { ConnectionSchema, sourceBatchSize, sourceTables } from '../spec-common.js';

export const outboxSpec = z
  .object({
    connector: z
      .literal('outbox')
      .describe('outbox: the application writes changes into sluice_outbox inside its own transactions (SDK helper), sluice relays them.'),
    connection: ConnectionSchema.describe('The source database holding the outbox table.'),
    tables: sourceTables,
    outboxTable: identifier.default('sluice_outbox').describe('Name of the outbox table.'),
    batchSize: sourceBatchSize,
    pollIntervalMs: z.number().int().min(5).max(60_000).default(100).describe('How often an idle relay looks for new outbox rows.'),
  })
  .strict();

export type OutboxSourceConfig = z.infer<typeof outboxSpec>;
