// The Sink contract on the machine's MariaDB (or MySQL), in a scratch utf8mb4_bin database:
// guarded ON DUPLICATE KEY UPDATE (dialects/mysql.ts), a connection killed mid-batch, a closed pool.
import mysql from 'mysql2/promise';
import { createSink } from '../../src/apply/index.js';
import { readRows } from '../../src/metadata/index.js';
import { skipUnless } from '../support/services.js';
import { MYSQL_URL, MYSQL_WHAT, mysqlAvailable, scratchMysql } from '../support/databases.js';
import { sinkContract, type SinkHarness } from '../contracts/sink.contract.js';
import { mysqlFaults } from './faults.js';

const up = await mysqlAvailable();

sinkContract('MariaDB', { skip: skipUnless(up, MYSQL_WHAT), canKillSessions: true }, async (): Promise<SinkHarness> => {
  const db = await scratchMysql({ connectionLimit: 4 });
  const admin = await mysql.createConnection({ uri: MYSQL_URL, database: db.database });
  const exec = async (sql: string) => void (await admin.query(sql));
  return {
    dialect: 'mysql',
    limits: {
      dateMin: '1000-01-01',
      dateMax: '9999-12-31',
      timestampMin: '1000-01-01T00:00:00',
      timestampMax: '9999-12-31T23:59:59.999999',
      // TIMESTAMP: seconds since 1970 in 32 bits.
      timestamptzMin: '1970-01-01T00:00:01Z',
      timestamptzMax: '2038-01-19T03:14:07.999999Z',
      nonFiniteFloats: false,
      negativeZero: false,
    },
    exec,
    createSink: (o) => createSink({ dialect: 'mysql', connection: db.pool, ...o }),
    readRows: (t) => readRows({ dialect: 'mysql', connection: db.pool }, t),
    ...mysqlFaults(exec),
    async killSleepingSession() {
      for (;;) {
        const [rows] = await admin.query(
          "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND STATE = 'User sleep'",
        );
        const ids = (rows as Array<{ id: number }>).map((r) => r.id);
        if (ids.length > 0) {
          for (const id of ids) await admin.query(`KILL CONNECTION ${Number(id)}`);
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
