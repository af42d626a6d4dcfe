/**
 * The dashboard's schema history: every change of a source table's shape the pipeline recorded
 * (state/schema-history.ts, what `sluice schema` prints), read from the state store so `sluice
 * dashboard` shows the same as the running pipeline's own server. Only a log-capture source
 * reports shape changes; the outbox and the capture API carry the shape the config gives them.
 */
import type { SluiceConfig } from '../config/schema.js';
import { SchemaHistory, type SqlStore } from '../state/index.js';
import type { Controls, SchemaChangeItem } from '../observe/controls.js';
import { tableRef } from './endpoints.js';

const named = (name: string) => {
  const ref = tableRef(name);
  return `${ref.schema ?? 'public'}.${ref.name}`;
};

export function schemaHistoryControls(cfg: SluiceConfig, state: () => Promise<SqlStore>): Controls['schemaHistory'] {
  if (cfg.source.connector !== 'postgres') return undefined;
  const configured = cfg.source.tables.map((t) => named(typeof t === 'string' ? t : t.name));
  let history: Promise<SchemaHistory> | undefined;
  return {
    tables: configured,
    tableNamed: (name) => {
      const n = named(name);
      return configured.includes(n) ? n : undefined;
    },
    list: async (table) => {
      const entries = await (await (history ??= state().then((s) => new SchemaHistory(s, cfg.name)))).list(table);
      return entries.map((e): SchemaChangeItem => {
        const ddl = e.ddl;
        return {
          table: e.table,
          position: e.position,
          added: e.added,
          dropped: e.dropped,
          // Entries recorded before retypes were tracked have none.
          retyped: e.retyped ?? [],
          targetEvolved: e.targetEvolved,
          ...(ddl ? { ddl: { tag: ddl.tag, statement: ddl.statement } } : {}),
          recordedAt: e.recordedAt ?? null,
        };
      });
    },
  };
}
