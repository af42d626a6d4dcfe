/**
 * Config pieces that more than one part's spec uses (a database connection, a table entry). They sit
 * apart from schema.ts because each source connector's spec is built from them, and schema.ts builds
 * the `source` key from those specs: keeping them here avoids an import cycle.
 */
import { z } from 'zod';

export const identifier = z.string().min(1).max(128);

export const ConnectionSchema = z
  .object({
    dialect: z
      .enum(['postgres', 'mysql', 'pglite'])
      .describe('Database engine: postgres (PostgreSQL), mysql (MariaDB or MySQL), pglite (embedded PostgreSQL, in-process).'),
    url: z
      .string()
      .optional()
      .describe(
        'Connection URL for postgres or mysql, e.g. postgres://app:${PGPASSWORD}@db:5432/shop. Example: mysql://root@127.0.0.1:3306/shop',
      ),
    dataDir: z.string().optional().describe('pglite only: directory that keeps the database; omitted means in memory (lost on exit).'),
    poolSize: z.number().int().min(1).max(100).default(8).describe('Largest number of connections sluice opens to this database.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.dialect !== 'pglite' && !c.url)
      ctx.addIssue({ code: 'custom', path: ['url'], message: `url is required for dialect ${c.dialect}` });
    if (c.dialect === 'pglite' && c.url) ctx.addIssue({ code: 'custom', path: ['url'], message: 'pglite takes dataDir, not url' });
  })
  .describe('A database sluice connects to.');

export const TableSpecSchema = z.union([
  identifier.describe('Table name, optionally schema-qualified: "coupon" or "public.coupon".'),
  z
    .object({
      name: identifier.describe('Table name, optionally schema-qualified.'),
      keyColumns: z
        .array(identifier)
        .min(1)
        .optional()
        .describe('Key columns for a table without a primary key (the table is refused otherwise).'),
      topic: z.string().optional().describe('Kafka topic for this table (default: transport.topic).'),
      target: identifier.optional().describe("Target table name when it differs from the source's."),
    })
    .strict(),
]);
