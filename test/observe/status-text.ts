/**
 * Reads back the tables table `sluice status` prints, by column: cells are right-aligned under
 * their header, so a cell ends where its header does. Splitting on spaces would not do: headers
 * ("dead letters", "lag: captured") and lags ("12 ms") hold spaces themselves.
 */
export interface StatusTable {
  /** Header names in order ("published" and "applied" appear twice: the counts, then the stage lags). */
  readonly head: string[];
  /** Each row's cells in header order, by its first cell (the table). */
  readonly rows: Map<string, string[]>;
}

export function statusTable(text: string): StatusTable {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => /^table\s{2,}topic\s{2,}/.test(l));
  if (at < 0) throw new Error(`no tables table in:\n${text}`);
  const header = lines[at]!;
  const head: string[] = [];
  const ends: number[] = [];
  for (const m of header.matchAll(/\S+(?: \S+)*/g)) {
    head.push(m[0]);
    ends.push(m.index + m[0].length);
  }
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(at + 1)) {
    if (!line.trim()) break;
    const first = line.split(/\s{2,}/)[0]!;
    // The first column is left-aligned; every other cell lies between the previous header's end and its own.
    rows.set(first, [first, ...ends.slice(1).map((end, i) => line.slice(i === 0 ? first.length : ends[i]!, end).trim())]);
  }
  return { head, rows };
}
