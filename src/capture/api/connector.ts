/**
 * The api connector: changes posted to the capture API (or sent by the SDK) are written to a buffer
 * table in the state store in the request's transaction, then relayed like an outbox. With Kafka a
 * request is answered once the broker acknowledged its changes (the relay deletes a row only then).
 */
import { qualifiedName } from '../../core/table-schema.js';
import { defineConnector } from '../connector.js';
import { outboxDdl, quoteIdent } from '../outbox/ddl.js';
import { OutboxSource } from '../outbox/relay.js';
import { createOutboxWriter } from '../outbox/writer.js';
import { apiSpec } from './spec.js';

export const apiConnector = defineConnector({
  name: 'api',
  spec: apiSpec,
  async open(o, ctx) {
    const state = await ctx.state();
    const db = { dialect: state.dialect, query: (sql: string, params?: unknown[]) => state.query<Record<string, unknown>>(sql, params) };
    await db.query(outboxDdl(db.dialect, o.outboxTable));
    const relay = new OutboxSource({
      name: ctx.pipeline,
      db,
      tables: ctx.tables,
      outboxTable: o.outboxTable,
      batchSize: o.batchSize,
      pollIntervalMs: o.pollIntervalMs,
    });
    const writer = createOutboxWriter({ dialect: db.dialect, table: o.outboxTable });
    const buffer = quoteIdent(db.dialect, o.outboxTable);
    return {
      source: relay,
      backlog: () => relay.backlog,
      async accept(changes, ackTimeoutMs) {
        const through = await state.transaction(async (tx) => {
          await writer.write(
            tx,
            changes.map((c) => ({
              table: qualifiedName(c.table),
              op: c.op,
              ...(c.row ? { row: c.row } : { key: c.key }),
              ...(c.context ? { context: c.context } : {}),
            })),
          );
          // The highest seq this transaction sees: its own rows' and any committed before.
          const rows = await tx.query<{ s: string }>(`SELECT max(seq)::text AS s FROM ${buffer}`);
          return rows[0]!.s;
        });
        // Direct transport: the buffer is durable, which is all the request waits for. Kafka:
        // answered once the broker acknowledged the changes.
        if (ctx.transport === 'kafka' && !(await relay.publishedThrough(through, ackTimeoutMs))) return { published: false };
        return undefined;
      },
      close: async () => {},
    };
  },
});
