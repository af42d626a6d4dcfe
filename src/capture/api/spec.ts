import { z } from 'zod';
import { identifier } from '../../config/common.js';
import { ConnectionSchema, sourceBatchSize, sourceTables } from '../spec-common.js';

export const apiSpec = z
  .object({
    connector: z
      .literal('api')
      .describe(
        'api: changes arrive over HTTP (POST /v1/changes) or the SDK and are buffered durably in the state store; needs the `api` key.',
      ),
    connection: ConnectionSchema.optional().describe('Where table metadata is read (default: the target).'),
    tables: sourceTables,
    outboxTable: identifier.default('sluice_outbox').describe('Name of the buffer table in the state store.'),
    batchSize: sourceBatchSize,
    pollIntervalMs: z.number().int().min(5).max(60_000).default(100).describe('How often an idle relay looks for buffered changes.'),
  })
  .strict();

export type ApiSourceConfig = z.infer<typeof apiSpec>;
