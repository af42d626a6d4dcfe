// The Sink contract on embedded PGlite (in memory, one instance for the file: ≈0.9 GB each):
// COPY FROM '/dev/blob' stage + the guarded statement of pg-load.ts; no connection to kill, a
// closed instance instead.
import { PGlite } from '@electric-sql/pglite';
import { createSink } from '../../src/apply/index.js';
import { readRows } from '../../src/metadata/index.js';
import { sinkContract, type SinkHarness } from '../contracts/sink.contract.js';
import { pgFaults } from './faults.js';

sinkContract('PGlite', { skip: false }, async (): Promise<SinkHarness> => {
  const db = await PGlite.create();
  const exec = async (sql: string) => void (await db.exec(sql));
  return {
    dialect: 'pglite',
    limits: {
      dateMin: '-4712-01-01',
      dateMax: '5874897-12-31',
      timestampMin: '-4712-01-01T00:00:00',
      timestampMax: '294276-12-31T23:59:59.999999',
      timestamptzMin: '-4712-01-01T00:00:00Z',
      timestamptzMax: '294276-12-31T23:59:59.999999Z',
      nonFiniteFloats: true,
      negativeZero: true,
    },
    exec,
    createSink: (o) => createSink({ dialect: 'pglite', connection: db, ...o }),
    readRows: (t) => readRows({ dialect: 'pglite', connection: db }, t),
    ...pgFaults(exec, false),
    closeConnection: () => db.close(),
    async teardown() {
      if (!db.closed) await db.close();
    },
  };
});
