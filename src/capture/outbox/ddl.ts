/**
 * The outbox table, per dialect. `seq` is taken when the row is inserted; rows become visible at
 * commit, possibly out of seq order (docs/guarantees.md: no-high-water-mark), so the relay keeps
 * no high-water mark: it reads
 * whatever is there in seq order, publishes, then deletes exactly the rows it published.
 */
export type OutboxDialect = 'postgres' | 'mysql' | 'pglite';

export function quoteIdent(dialect: OutboxDialect, name: string): string {
  return dialect === 'mysql' ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`;
}

export function outboxDdl(dialect: OutboxDialect, table: string): string {
  const t = quoteIdent(dialect, table);
  if (dialect === 'mysql') {
    return `CREATE TABLE IF NOT EXISTS ${t} (
  seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  table_name VARCHAR(255) NOT NULL,
  op CHAR(1) NOT NULL,
  key_json LONGTEXT NOT NULL,
  row_json LONGTEXT NULL,
  context TEXT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)
) ENGINE=InnoDB`;
  }
  return `CREATE TABLE IF NOT EXISTS ${t} (
  seq bigserial PRIMARY KEY,
  table_name text NOT NULL,
  op char(1) NOT NULL,
  key_json text NOT NULL,
  row_json text,
  context text,
  created_at timestamptz(6) NOT NULL DEFAULT clock_timestamp()
)`;
}
