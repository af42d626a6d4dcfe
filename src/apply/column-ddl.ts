/**
 * The column type a target gains when `target.evolve` adds a source's new column: the native type
 * that holds the portable type without loss on each engine (the same types reconcile reads back).
 */
import type { ColumnType } from '../core/table-schema.js';
import type { Dialect } from '../metadata/index.js';

export function columnDdl(type: ColumnType, dialect: Dialect): string {
  const mysql = dialect === 'mysql';
  switch (type.kind) {
    case 'boolean':
      return mysql ? 'BOOLEAN' : 'boolean';
    case 'int16':
      return mysql ? 'SMALLINT' : 'smallint';
    case 'int32':
      return mysql ? 'INT' : 'integer';
    case 'int64':
      return mysql ? 'BIGINT' : 'bigint';
    case 'float32':
      return mysql ? 'FLOAT' : 'real';
    case 'float64':
      return mysql ? 'DOUBLE' : 'double precision';
    case 'decimal':
      return mysql ? `DECIMAL(${type.precision},${type.scale})` : `numeric(${type.precision},${type.scale})`;
    case 'string':
      return type.maxLength !== undefined
        ? mysql
          ? `VARCHAR(${type.maxLength})`
          : `varchar(${type.maxLength})`
        : mysql
          ? 'LONGTEXT'
          : 'text';
    case 'json':
      return mysql ? 'JSON' : 'jsonb';
    case 'bytes':
      return mysql ? 'LONGBLOB' : 'bytea';
    case 'uuid':
      return mysql ? 'CHAR(36)' : 'uuid';
    case 'date':
      return mysql ? 'DATE' : 'date';
    case 'time':
      return mysql ? 'TIME(6)' : 'time(6)';
    case 'timestamp':
      return mysql ? 'DATETIME(6)' : 'timestamp(6)';
    case 'timestamptz':
      return mysql ? 'DATETIME(6)' : 'timestamptz(6)';
  }
}
