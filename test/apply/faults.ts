// Fault injection for the sink contract: a trigger that fails (or sleeps) on a marker value, so a
// test decides exactly which row of a batch hits a deadlock-class error or hangs mid-transaction.
import { quoteIdent } from '../support/databases.js';

/** PostgreSQL and PGlite (PL/pgSQL). */
export function pgFaults(exec: (sql: string) => Promise<void>, canSleep = true) {
  return {
    async installFaults(table: string) {
      const fn = quoteIdent('postgres', `${table}_fault`);
      await exec(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.name = 'boom-deadlock' THEN RAISE EXCEPTION 'injected deadlock' USING ERRCODE = '40P01'; END IF;
          ${canSleep ? "IF NEW.name = 'boom-sleep' THEN PERFORM pg_sleep(30); END IF;" : ''}
          RETURN NEW;
        END $$`);
      await exec(
        `CREATE TRIGGER ${quoteIdent('postgres', `${table}_fault`)} BEFORE INSERT OR UPDATE ON ${quoteIdent('postgres', table)} FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
      );
    },
    async removeFaults(table: string) {
      await exec(`DROP TRIGGER ${quoteIdent('postgres', `${table}_fault`)} ON ${quoteIdent('postgres', table)}`);
      await exec(`DROP FUNCTION ${quoteIdent('postgres', `${table}_fault`)}()`);
    },
  };
}

/** MariaDB / MySQL (SIGNAL with the deadlock errno). */
export function mysqlFaults(exec: (sql: string) => Promise<void>) {
  const body = `BEGIN
      IF NEW.name = 'boom-deadlock' THEN SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'injected deadlock'; END IF;
      IF NEW.name = 'boom-sleep' THEN DO SLEEP(30); END IF;
    END`;
  return {
    async installFaults(table: string) {
      for (const when of ['INSERT', 'UPDATE']) {
        await exec(
          `CREATE TRIGGER ${quoteIdent('mysql', `${table}_fault_${when.toLowerCase()}`)} BEFORE ${when} ON ${quoteIdent('mysql', table)} FOR EACH ROW ${body}`,
        );
      }
    },
    async removeFaults(table: string) {
      for (const when of ['insert', 'update']) await exec(`DROP TRIGGER ${quoteIdent('mysql', `${table}_fault_${when}`)}`);
    },
  };
}
