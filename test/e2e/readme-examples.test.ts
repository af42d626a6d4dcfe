// The README's outbox example, exactly as README.md shows it: its SQL block runs against real
// PostgreSQL, the outbox row it writes must hold the row the table holds (now() included), and the
// pipeline must make the target equal to the source. An example that stores one created_at in the
// table and another in the outbox leaves drift that the README's own reconcile command reports.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { createOutboxWriter } from '../../src/capture/outbox/writer.js';
import { coerceRow, type FieldProblem } from '../../src/capture/row-values.js';
import { introspect, readRows, type DbConnection } from '../../src/metadata/index.js';
import { QUICKSTART_DDL } from '../../src/quickstart/tables.js';
import type { ApplyBatchMessage } from '../../src/apply/index.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres, type ScratchPostgres } from '../support/databases.js';
import { skipUnless } from '../support/services.js';

/** The fenced ```sql blocks of README.md, as written. */
function readmeSqlBlocks(): string[] {
  const text = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  return [...text.matchAll(/^```sql\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

describe('README examples', { skip: skipUnless(await postgresAvailable(), POSTGRES_WHAT) }, () => {
  let src: ScratchPostgres;
  let dst: ScratchPostgres;
  before(async () => {
    src = await scratchPostgres();
    dst = await scratchPostgres();
    // What examples/production/setup.sh creates on the source.
    for (const ddl of QUICKSTART_DDL) {
      await src.pool.query(ddl);
      await dst.pool.query(ddl);
    }
    await src.pool.query(createOutboxWriter({ dialect: 'postgres' }).ddl);
  });
  after(async () => {
    await src?.drop();
    await dst?.drop();
  });

  test('the outbox SQL example writes the row the table holds, and the pipeline leaves no drift', { timeout: 120_000 }, async () => {
    const blocks = readmeSqlBlocks().filter((b) => b.includes('sluice_outbox'));
    assert.equal(blocks.length, 1, 'README.md has one SQL example that writes the outbox');
    await src.pool.query(blocks[0]!);

    const source: DbConnection = { dialect: 'postgres', connection: src.pool };
    const coupon = await introspect(source, { name: 'coupon' });
    const rows = await readRows(source, coupon);
    assert.equal(rows.length, 1, 'the example inserts one coupon');
    // The outbox row decoded as the relay decodes it.
    const outbox = await src.pool.query<{ key_json: string; row_json: string }>('SELECT key_json, row_json FROM sluice_outbox');
    assert.equal(outbox.rows.length, 1, 'the example writes one outbox row');
    const problems: FieldProblem[] = [];
    const image = coerceRow(coupon, JSON.parse(outbox.rows[0]!.row_json), 'row', problems);
    assert.deepEqual(problems, []);
    assert.deepEqual(image, rows[0], 'the outbox row holds the row as the table stores it');
    assert.deepEqual(coerceRow(coupon, JSON.parse(outbox.rows[0]!.key_json), 'key', problems, coupon.primaryKey), { id: rows[0]!.id });

    const cfg = parseConfig({
      name: 'readme',
      source: {
        connector: 'outbox',
        connection: { dialect: 'postgres', url: src.url },
        tables: ['coupon', 'coupon_history'],
        pollIntervalMs: 20,
      },
      transport: { kind: 'direct' },
      target: { connection: { dialect: 'postgres', url: dst.url } },
      observe: { enabled: false },
    });
    let appliedBatch!: () => void;
    const applied = new Promise<void>((resolve) => {
      appliedBatch = resolve;
    });
    const onBatch = (m: unknown) => {
      if ((m as ApplyBatchMessage).applied > 0) appliedBatch();
    };
    subscribe('sluice:apply:batch', onBatch);
    try {
      const pipeline = await runPipeline(cfg, pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' }));
      try {
        await Promise.race([
          applied,
          pipeline.done.then(() => {
            throw new Error('the pipeline ended before it applied the change');
          }),
        ]);
      } finally {
        await pipeline.stop();
      }
    } finally {
      unsubscribe('sluice:apply:batch', onBatch);
    }
    const target: DbConnection = { dialect: 'postgres', connection: dst.pool };
    assert.deepEqual(await readRows(target, await introspect(target, { name: 'coupon' })), rows, 'target equals source');
  });
});
