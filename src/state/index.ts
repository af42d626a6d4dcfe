/**
 * State store: the one SQL database holding sluice's own state (registry schemas now; checkpoints,
 * dead letters and reconcile reports later). PostgreSQL in production, embedded PGlite by default.
 * Data flow: openStateStore() → SqlStore (query / transaction) → migrations run at open → feature
 * code (registry/store, …) reads and writes its own `sluice_<feature>_*` tables through SqlStore.
 * Writers that race across processes use transactions + advisory locks + withConflictRetry.
 */
export type { SqlDialect, SqlExecutor, SqlStore } from './sql-store.js';
export { isConflict, sqlState, storeError, withConflictRetry } from './sql-store.js';
export { openStateStore, DEFAULT_STATE_DIR } from './open.js';
export type { OpenStateStoreOptions } from './open.js';
export { openPostgresStore } from './postgres-store.js';
export { openPgliteStore } from './pglite-store.js';
export { MIGRATIONS, runMigrations } from './migrations.js';
export { SchemaHistory, type SchemaChangeEntry } from './schema-history.js';
export type { Migration } from './migrations.js';
