import { SluiceError } from '../core/errors.js';
import { runMigrations } from './migrations.js';
import { openPgliteStore } from './pglite-store.js';
import { openPostgresStore } from './postgres-store.js';
import type { SqlStore } from './sql-store.js';

export const DEFAULT_STATE_DIR = './.sluice/state';

export interface OpenStateStoreOptions {
  /** A `postgres://` (or `postgresql://`) URL: use that PostgreSQL database. */
  url?: string;
  /** Without `url`: the embedded PGlite data directory (default `./.sluice/state`). */
  dataDir?: string;
}

/** Opens the state store and brings its tables up to date. */
export async function openStateStore(opts: OpenStateStoreOptions = {}): Promise<SqlStore> {
  let store: SqlStore;
  if (opts.url !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(opts.url)) {
      throw new SluiceError('SLUICE_ERR_CONFIG', 'The state store URL must start with postgres:// or postgresql://', {
        context: { configPath: 'state.url' },
      });
    }
    store = openPostgresStore({ url: opts.url });
  } else {
    store = await openPgliteStore({ dataDir: opts.dataDir ?? DEFAULT_STATE_DIR });
  }
  try {
    await runMigrations(store);
  } catch (err) {
    await store.close().catch(() => {});
    throw new SluiceError('SLUICE_ERR_STORE', `Could not prepare the state store: ${(err as Error).message}`, {
      cause: err,
      retriable: true,
    });
  }
  return store;
}
