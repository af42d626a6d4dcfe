/**
 * The one place a target database's failure is classified (by SQLSTATE for PostgreSQL and PGlite,
 * by errno / SQLSTATE for MariaDB and MySQL, by code or message for the drivers' own errors):
 *
 *   transient  trying the same batch again can pass: connection lost or refused, server shutting
 *              down or restarting, deadlock, serialization failure, lock timeout, too many
 *              connections, query cancelled, a closed pool. The transaction is rolled back and a
 *              retriable SluiceError is thrown: nothing of the batch is applied.
 *   poison     this event cannot be applied as it is: constraint violation, value out of range,
 *              invalid text for the type, a trigger raising an error. The event goes to the
 *              dead-letter table and its key is parked; the rest of the batch applies.
 *   fatal      nothing will apply until someone acts: missing table or column, no privilege,
 *              syntax. A non-retriable SluiceError; nothing of the batch is applied.
 */
import { SluiceError, type ErrorCode, type ErrorContext } from '../core/errors.js';
import { ValueError } from '../core/portable-values.js';

export type ErrorClass = 'transient' | 'poison' | 'fatal';

/**
 * The apply error code. core/errors.ts has no apply code yet (that file belongs to core): until it
 * gains `SLUICE_ERR_APPLY` (and docs/errors.md its line), apply reports its failures under that
 * name anyway, so adding it there changes no behaviour.
 */
export const APPLY_ERROR_CODE: ErrorCode = 'SLUICE_ERR_APPLY';

// --- PostgreSQL / PGlite ------------------------------------------------------------------------

const PG_TRANSIENT_STATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available (lock_timeout)
  '57014', // query_canceled (statement_timeout, pg_cancel_backend)
  '57P01', // admin_shutdown (pg_terminate_backend, fast shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovery)
  '57P05', // idle_session_timeout
  '25P03', // idle_in_transaction_session_timeout
  '58000', // system_error
  '58030', // io_error
]);

const PG_POISON_STATES = new Set([
  '54000', // program_limit_exceeded (e.g. an index row too large for this value)
  'P0001', // raise_exception: a trigger refused the row
  '42804', // datatype_mismatch raised for a value, e.g. a domain cast
]);

function pgClass(state: string): ErrorClass {
  if (state.startsWith('08') || state.startsWith('53') || PG_TRANSIENT_STATES.has(state)) return 'transient';
  if (state.startsWith('22') || state.startsWith('23') || PG_POISON_STATES.has(state)) return 'poison';
  return 'fatal';
}

// --- MariaDB / MySQL ------------------------------------------------------------------------------

const MYSQL_TRANSIENT_ERRNOS = new Set([
  1040, // ER_CON_COUNT_ERROR: too many connections
  1053, // ER_SERVER_SHUTDOWN
  1152,
  1153,
  1154,
  1155,
  1156,
  1157,
  1158,
  1159,
  1160,
  1161, // network read/write errors, aborted connection
  1205, // ER_LOCK_WAIT_TIMEOUT
  1213, // ER_LOCK_DEADLOCK
  1290, // ER_OPTION_PREVENTS_STATEMENT (--read-only during a failover)
  1317, // ER_QUERY_INTERRUPTED
  1927, // ER_CONNECTION_KILLED (MariaDB)
  1969, // ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
  3024, // ER_QUERY_TIMEOUT (MySQL max_execution_time)
  4031, // ER_CLIENT_INTERACTION_TIMEOUT (MySQL)
  2002,
  2003,
  2006,
  2013,
  2055, // client: can't connect, server gone away, lost connection
]);

const MYSQL_POISON_ERRNOS = new Set([
  1048, // ER_BAD_NULL_ERROR
  1062, // ER_DUP_ENTRY (a unique key other than the one applied by)
  1264, // ER_WARN_DATA_OUT_OF_RANGE
  1265, // WARN_DATA_TRUNCATED
  1292, // ER_TRUNCATED_WRONG_VALUE (bad date/time)
  1366, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
  1367, // ER_ILLEGAL_VALUE_FOR_TYPE
  1406, // ER_DATA_TOO_LONG
  1411, // ER_WRONG_VALUE_FOR_TYPE
  1451,
  1452, // foreign key
  1644, // ER_SIGNAL_EXCEPTION: a trigger refused the row
  1690, // ER_DATA_OUT_OF_RANGE
  3140, // ER_INVALID_JSON_TEXT (MySQL)
  3819, // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
  4025, // ER_CONSTRAINT_FAILED (MariaDB check constraint)
  4078, // ER_ILLEGAL_PARAMETER_DATA_TYPE_FOR_OPERATION (e.g. a bad UUID)
]);

function mysqlClass(errno: number, state: string | undefined): ErrorClass {
  if (MYSQL_TRANSIENT_ERRNOS.has(errno)) return 'transient';
  if (MYSQL_POISON_ERRNOS.has(errno)) return 'poison';
  if (state && (state.startsWith('22') || state.startsWith('23'))) return 'poison';
  if (state && (state.startsWith('08') || state === '40001')) return 'transient';
  return 'fatal';
}

// --- driver errors without a server code ---------------------------------------------------------

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTCONN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CONNECTION_KILLED',
  'POOL_CLOSED',
]);

const TRANSIENT_MESSAGES = [
  /connection terminated/i,
  /not queryable/i, // pg: "Client has encountered a connection error and is not queryable"
  /cannot use a pool after calling end/i,
  /timeout exceeded when trying to connect/i,
  /pool is closed/i, // mysql2
  /connection is in closed state/i, // mysql2
  /connection lost/i,
  /pglite is closed/i,
];

export function classifyError(err: unknown): ErrorClass {
  if (err instanceof ValueError) return 'poison';
  if (err instanceof SluiceError) return err.retriable ? 'transient' : 'fatal';
  const e = err as { code?: unknown; errno?: unknown; sqlState?: unknown; message?: unknown } | null;
  if (e && typeof e === 'object') {
    // mysql2 server errors carry errno + sqlState; its client errors a string code.
    if (typeof e.errno === 'number' && typeof e.sqlState === 'string') return mysqlClass(e.errno, e.sqlState);
    if (typeof e.code === 'string') {
      if (/^[0-9A-Z]{5}$/.test(e.code) && !NETWORK_CODES.has(e.code)) return pgClass(e.code);
      if (NETWORK_CODES.has(e.code)) return 'transient';
    }
    if (typeof e.errno === 'number' && e.errno >= 1000 && e.errno < 5000) return mysqlClass(e.errno, undefined);
    if (typeof e.message === 'string' && TRANSIENT_MESSAGES.some((re) => re.test(e.message as string))) return 'transient';
  }
  return 'fatal';
}

/** Server code of a driver error, for the dead-letter record ("23514", "ER_CONSTRAINT_FAILED/4025"). */
export function errorCodeOf(err: unknown): string {
  if (err instanceof ValueError) return 'SLUICE_VALUE';
  const e = err as { code?: unknown; errno?: unknown; sqlState?: unknown } | null;
  // mysql2 names errnos after MySQL's list, which MariaDB's numbers do not always follow: keep the numbers.
  if (e && typeof e.sqlState === 'string' && typeof e.errno === 'number') return `${e.sqlState}/${e.errno}`;
  if (e && typeof e.code === 'string') return e.code;
  if (e && typeof e.errno === 'number') return String(e.errno);
  return err instanceof Error ? err.name : 'UNKNOWN';
}

export function errorMessageOf(err: unknown): string {
  if (err instanceof Error) {
    const detail = (err as { detail?: unknown }).detail;
    return typeof detail === 'string' && detail ? `${err.message} (${detail})` : err.message;
  }
  return String(err);
}

export function applyError(message: string, opts: { cause?: unknown; retriable: boolean; context?: ErrorContext }): SluiceError {
  return new SluiceError(APPLY_ERROR_CODE, message, opts);
}

/** A failure of a whole batch as the SluiceError the caller sees (kept as is when it already is one). */
export function batchError(err: unknown, cls: ErrorClass, what: string): SluiceError {
  if (err instanceof SluiceError) return err;
  const detail = errorMessageOf(err);
  return cls === 'transient'
    ? applyError(`${what} failed on a transient error, nothing applied (retry): ${detail}`, { cause: err, retriable: true })
    : applyError(`${what} failed, nothing applied: ${detail}`, { cause: err, retriable: false });
}
