/**
 * Log sequence numbers: PostgreSQL prints them as two hex halves ("16/B374D848"), sometimes
 * zero-padded; as bigints they compare and serialise without that ambiguity.
 */
export type Lsn = bigint;

export function parseLsn(text: string): Lsn {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!m) throw new RangeError(`not an LSN: "${text}"`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/**
 * The version of the `seq`-th change (0-based) of a transaction that commits at `commitLsn`: later
 * commits give greater versions, and so do later changes inside one transaction. A row changed by
 * two transactions is serialised by its lock, so the later one's commit LSN is the greater one.
 *
 * 16 bits are the position inside the transaction: a position past 65535 runs into the next
 * commit's range, which stays harmless while a transaction has fewer changes than 65536 times the
 * bytes between its commit record and the next commit touching the same row (at least a commit
 * record plus a row change, ~80 bytes: over 5 million changes). LSNs below 2^47 (128 TiB of WAL)
 * keep versions inside a signed 64-bit integer (docs/guarantees.md: log-versions).
 */
export function changeVersion(commitLsn: Lsn, seq: number): bigint {
  return (commitLsn << 16n) + BigInt(seq);
}

/** A version below every change committed at or after `lsn`: what rows copied by a snapshot taken from there carry. */
export function snapshotVersion(lsn: Lsn): bigint {
  return (lsn << 16n) - 1n;
}
