/**
 * Identifier quoting, the one place SQL text is built from names: every table and column name is
 * quoted and escaped, so a name with quotes, spaces or a keyword is just a name. Values are never
 * written into SQL text: they are bound parameters (or COPY data).
 */
import type { TableRef } from './types.js';

/** PostgreSQL / PGlite: "name" with " doubled. */
export function quotePg(name: string): string {
  if (name.includes('\u0000')) throw new TypeError('An identifier cannot contain NUL');
  return `"${name.replace(/"/g, '""')}"`;
}

/** MariaDB / MySQL: `name` with ` doubled. */
export function quoteMysql(name: string): string {
  if (name.includes('\u0000')) throw new TypeError('An identifier cannot contain NUL');
  return `\`${name.replace(/`/g, '``')}\``;
}

export function qualifiedPg(table: TableRef): string {
  return table.schema ? `${quotePg(table.schema)}.${quotePg(table.name)}` : quotePg(table.name);
}

export function qualifiedMysql(table: TableRef): string {
  return table.schema ? `${quoteMysql(table.schema)}.${quoteMysql(table.name)}` : quoteMysql(table.name);
}
