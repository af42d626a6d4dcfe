/**
 * The one table of source connectors: `source.connector` in the config names one of these, the
 * config's `source` key is the union of their specs, and the pipeline opens the one named. A new
 * connector is a folder beside these and one line here.
 */
import type { z } from 'zod';
import { apiConnector } from './api/connector.js';
import { outboxConnector } from './outbox/connector.js';
import { postgresConnector } from './postgres/connector.js';
import type { SourceConnector } from './connector.js';

export const CONNECTORS = [outboxConnector, apiConnector, postgresConnector] as const;

type Specs<T extends readonly SourceConnector[]> = { -readonly [K in keyof T]: T[K]['spec'] };

/** The specs in the same order, as a tuple type, so the config's union keeps each member's type. */
export const SOURCE_SPECS = CONNECTORS.map((c) => c.spec) as unknown as Specs<typeof CONNECTORS>;

export type ConnectorName = (typeof CONNECTORS)[number]['name'];

export function connectorNamed(name: string): SourceConnector<z.ZodType> {
  const c = CONNECTORS.find((x) => x.name === name);
  if (!c) throw new Error(`no source connector "${name}"`);
  return c as unknown as SourceConnector<z.ZodType>;
}
