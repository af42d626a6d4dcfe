// The Sink contract on the machine's PostgreSQL, in a scratch database: COPY stage + guarded
// statement (pg-family), a backend killed mid-batch, a closed pool.
import pg from 'pg';
import { createSink } from '../../src/apply/index.js';
import { readRows } from '../../src/metadata/index.js';
import { skipUnless } from '../support/services.js';
import { POSTGRES_WHAT, postgresAvailable, scratchPostgres } from '../support/databases.js';
import { sinkContract, type SinkHarness } from '../contracts/sink.contract.js';
import { pgFaults } from './faults.js';

const up = await postgresAvailable();

sinkContract('PostgreSQL', { skip: skipUnless(up, POSTGRES_WHAT), canKillSessions: true }, async (): Promise<SinkHarness> => {
  const db = await scratchPostgres({ max: 4 });
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  const exec = async (sql: string) => void (await admin.query(sql));
  return {
    dialect: 'postgres',
    limits: {
      dateMin: '-4712-01-01', dateMax: '5874897-12-31',
      timestampMin: '-4712-01-01T00:00:00', timestampMax: '294276-12-31T23:59:59.999999',
      timestamptzMin: '-4712-01-01T00:00:00Z', timestamptzMax: '294276-12-31T23:59:59.999999Z',
      nonFiniteFloats: true, negativeZero: true,
    },
    exec,
    createSink: (o) => createSink({ dialect: 'postgres', connection: db.pool, ...o }),
    readRows: (t) => readRows({ dialect: 'postgres', connection: db.pool }, t),
    ...pgFaults(exec),
    async killSleepingSession() {
      for (;;) {
        const r = await admin.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'");
        if (r.rows.length > 0) {
          for (const { pid } of r.rows) await admin.query('SELECT pg_terminate_backend($1)', [pid]);
          return;
        }
        await new Promise((res) => setTimeout(res, 20));
      }
    },
    closeConnection: () => db.pool.end(),
    async teardown() {
      await admin.end();
      await db.drop();
    },
  };
});
