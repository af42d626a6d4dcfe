/**
 * What one reconcile run found and did: stored in the state store, printed, and summarised in alerts.
 * Keys are given as their canonical key text (the same text the version rows use), capped at
 * `keyLimit` per table and kind so a badly drifted table still makes a small report; what is left
 * out is counted (keysLeftOut), never dropped silently.
 */

export type DriftKind = 'missing' | 'extra' | 'different';

export interface TableReport {
  /** Source table, "schema.name" or "name". */
  readonly table: string;
  /** Target table as introspected. */
  readonly target: string;
  /** Rows read on the source and on the target by the range checksums. */
  readonly sourceRows: number;
  readonly targetRows: number;
  /** Key ranges checksummed, and how many of them differed. */
  readonly ranges: number;
  readonly rangesDiffering: number;
  /** Rows compared one by one (streamed key + row hash) inside differing ranges. */
  readonly rowsCompared: number;
  /** Confirmed drift: stable and different after replication passed a fresh source position. */
  readonly missing: number;
  readonly extra: number;
  readonly different: number;
  /** Rows that kept changing through every re-check round: not repaired, not counted as drift. */
  readonly inFlight: number;
  /** Up to keyLimit keys of each kind. */
  readonly keys: Readonly<Record<DriftKind | 'inFlight', readonly string[]>>;
  /**
   * How many keys of each kind `keys` does not list (its count minus the keys listed): cut at
   * keyLimit, or never collected when more rows differed than reconcile keeps (the table's repair
   * is refused then). All zero: `keys` is complete.
   */
  readonly keysLeftOut: Readonly<Record<DriftKind | 'inFlight', number>>;
  readonly repair: RepairOutcome;
  /** Set when the table could not be reconciled (the run goes on with the next table). */
  readonly error?: string;
  readonly durationMs: number;
}

export type RepairOutcome =
  | { readonly status: 'not-requested' }
  | { readonly status: 'nothing-to-do' }
  | { readonly status: 'done'; readonly inserted: number; readonly updated: number; readonly deleted: number; readonly skipped: number }
  | { readonly status: 'refused'; readonly reason: string };

export interface ReconcileReport {
  /** Assigned by the report store; absent before it is saved. */
  readonly id?: number;
  readonly name: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly repairRequested: boolean;
  /** Keys listed per table and kind (reconcile.keyLimit); the rest are counted in keysLeftOut. */
  readonly keyLimit: number;
  readonly tables: readonly TableReport[];
  /** Figures of the run (queries issued, bytes read, ...) for benchmarks and the log. */
  readonly stats: ReconcileStats;
}

export interface ReconcileStats {
  queries: number;
  /** Approximate bytes of result rows received from both databases. */
  bytes: number;
  rechecks: number;
  waitMs: number;
}

export function confirmedDrift(t: TableReport): number {
  return t.missing + t.extra + t.different;
}

export function hasDrift(r: ReconcileReport): boolean {
  return r.tables.some((t) => confirmedDrift(t) > 0);
}

/** A few lines for a terminal or a log. */
export function formatReport(r: ReconcileReport): string {
  const lines = [
    `reconcile ${r.name}: ${r.tables.length} table${r.tables.length === 1 ? '' : 's'} in ${(r.durationMs / 1000).toFixed(1)} s${r.repairRequested ? ' (repair)' : ''}`,
  ];
  for (const t of r.tables) {
    if (t.error) {
      lines.push(`  ${t.table}: FAILED: ${t.error}`);
      continue;
    }
    const drift = confirmedDrift(t);
    const head = `  ${t.table} → ${t.target}: ${t.sourceRows} source rows, ${t.targetRows} target rows, ${t.ranges} ranges (${t.rangesDiffering} differing), ${t.rowsCompared} rows compared`;
    lines.push(head);
    lines.push(
      drift === 0 && t.inFlight === 0
        ? '    in sync'
        : `    missing ${t.missing}, extra ${t.extra}, different ${t.different}, in flight ${t.inFlight}`,
    );
    for (const kind of KINDS) {
      const left = leftOut(t, kind);
      if (t.keys[kind].length) lines.push(`    ${kind}: ${t.keys[kind].join(', ')}${left > 0 ? ` … and ${left} more` : ''}`);
      else if (left > 0) lines.push(`    ${kind}: ${left} keys not listed`);
    }
    if (KINDS.some((k) => leftOut(t, k) > 0))
      lines.push(`    (keys listed up to reconcile.keyLimit${r.keyLimit === undefined ? '' : `, ${r.keyLimit}`} per kind)`);
    if (t.repair.status === 'done')
      lines.push(
        `    repaired: inserted ${t.repair.inserted}, updated ${t.repair.updated}, deleted ${t.repair.deleted}, skipped ${t.repair.skipped}`,
      );
    if (t.repair.status === 'refused') lines.push(`    repair refused: ${t.repair.reason}`);
  }
  return lines.join('\n');
}

const KINDS = ['missing', 'extra', 'different', 'inFlight'] as const;

/** Reports stored before keysLeftOut existed have none: derived from the counts. */
function leftOut(t: TableReport, kind: DriftKind | 'inFlight'): number {
  return t.keysLeftOut?.[kind] ?? Math.max(0, (kind === 'inFlight' ? t.inFlight : t[kind]) - t.keys[kind].length);
}
