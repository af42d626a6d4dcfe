/**
 * The keys every source connector shares: the tables to replicate and the source database. Each
 * connector's spec extends these with its own keys.
 */
import { z } from 'zod';
import { ConnectionSchema, TableSpecSchema } from '../config/common.js';

export const sourceTables = z.array(TableSpecSchema).min(1).describe('Tables to replicate.');

export const sourceBatchSize = z.number().int().min(1).max(100_000).default(2000).describe('Most changes handed on per source batch.');

export { ConnectionSchema };
