/** The outbox connector: the application's own outbox table in the source database, relayed in seq order. */
import { SluiceError } from '../../core/errors.js';
import { defineConnector } from '../connector.js';
import { outboxDbOf } from './db.js';
import { outboxDdl } from './ddl.js';
import { OutboxSource } from './relay.js';
import { outboxSpec } from './spec.js';

export const outboxConnector = defineConnector({
  name: 'outbox',
  spec: outboxSpec,
  async open(o, ctx) {
    if (!ctx.database) {
      throw new SluiceError('SLUICE_ERR_CONFIG', 'source.connection: the outbox connector needs the source database', {
        context: { configPath: 'source.connection' },
      });
    }
    const db = outboxDbOf(ctx.database);
    await db.query(outboxDdl(db.dialect, o.outboxTable));
    const relay = new OutboxSource({
      name: ctx.pipeline,
      db,
      tables: ctx.tables,
      outboxTable: o.outboxTable,
      batchSize: o.batchSize,
      pollIntervalMs: o.pollIntervalMs,
    });
    return { source: relay, backlog: () => relay.backlog, close: async () => {} };
  },
});
