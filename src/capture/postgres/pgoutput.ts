/**
 * A decoder of the pgoutput logical-replication messages (protocol versions 1 and 2), pure: bytes
 * in, messages out, no I/O. Written here rather than taken from an npm library because none of
 * them decodes the protocol-2 stream messages (in-progress transactions), and the one maintained
 * client parses column values through node-postgres' global type parsers, which turn timestamptz
 * into a millisecond Date; here every value stays the server's text, and the source converts it
 * by the column's portable type.
 *
 * Message grammar (PostgreSQL 15 "Logical Replication Message Formats"; [xid] only inside a
 * streamed block, between Stream Start and Stream Stop):
 *   B  Begin          Int64 final (commit) LSN, Int64 commit time (µs since 2000-01-01), Int32 xid
 *   C  Commit         Int8 flags, Int64 commit LSN, Int64 end LSN, Int64 commit time
 *   O  Origin         Int64 LSN, String name
 *   R  Relation       [xid] Int32 oid, String namespace, String name, Int8 replica identity,
 *                     Int16 ncols, ncols × (Int8 flags (1 = key), String name, Int32 type oid, Int32 typmod)
 *   Y  Type           [xid] Int32 oid, String namespace, String name
 *   I  Insert         [xid] Int32 oid, 'N' TupleData
 *   U  Update         [xid] Int32 oid, ['K' TupleData | 'O' TupleData], 'N' TupleData
 *   D  Delete         [xid] Int32 oid, 'K' | 'O', TupleData
 *   T  Truncate       [xid] Int32 nrels, Int8 options (1 cascade, 2 restart identity), nrels × Int32 oid
 *   M  Message        [xid] Int8 flags (1 transactional), Int64 LSN, String prefix, Int32 n, Byte[n]
 *   S  Stream Start   Int32 xid, Int8 first segment (1)
 *   E  Stream Stop
 *   c  Stream Commit  Int32 xid, Int8 flags, Int64 commit LSN, Int64 end LSN, Int64 commit time
 *   A  Stream Abort   Int32 xid, Int32 subtransaction xid
 *   TupleData         Int16 ncols, ncols × ('n' null | 'u' unchanged TOAST | 't' Int32 n Byte[n] text | 'b' Int32 n Byte[n] binary)
 */
import type { Lsn } from './lsn.js';

/** A column value as sent: its text, null, or "unchanged": a TOASTed value the update did not touch, not sent. */
export type TupleValue = string | null | typeof UNCHANGED;
export const UNCHANGED: unique symbol = Symbol('unchanged TOAST value');

export interface RelationColumn {
  readonly name: string;
  readonly key: boolean;
  readonly typeOid: number;
  readonly typmod: number;
}

export type PgOutputMessage =
  | { tag: 'begin'; commitLsn: Lsn; commitTime: bigint; xid: number }
  | { tag: 'commit'; commitLsn: Lsn; endLsn: Lsn; commitTime: bigint }
  | { tag: 'origin'; lsn: Lsn; name: string }
  | { tag: 'relation'; xid?: number; oid: number; schema: string; name: string; replicaIdentity: string; columns: RelationColumn[] }
  | { tag: 'type'; xid?: number; oid: number; schema: string; name: string }
  | { tag: 'insert'; xid?: number; oid: number; row: TupleValue[] }
  | { tag: 'update'; xid?: number; oid: number; old?: TupleValue[]; oldKind?: 'key' | 'full'; row: TupleValue[] }
  | { tag: 'delete'; xid?: number; oid: number; old: TupleValue[]; oldKind: 'key' | 'full' }
  | { tag: 'truncate'; xid?: number; oids: number[]; cascade: boolean; restartIdentity: boolean }
  | { tag: 'message'; xid?: number; transactional: boolean; lsn: Lsn; prefix: string; content: Buffer }
  | { tag: 'stream-start'; xid: number; first: boolean }
  | { tag: 'stream-stop' }
  | { tag: 'stream-commit'; xid: number; commitLsn: Lsn; endLsn: Lsn; commitTime: bigint }
  | { tag: 'stream-abort'; xid: number; subXid: number };

class Reader {
  pos = 0;
  constructor(private readonly b: Buffer) {}
  u8(): number {
    return this.b.readUInt8(this.pos++);
  }
  i16(): number {
    const v = this.b.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i32(): number {
    const v = this.b.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u32(): number {
    const v = this.b.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    const v = this.b.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    const v = this.b.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  /** A NUL-terminated string. */
  str(): string {
    const end = this.b.indexOf(0, this.pos);
    if (end < 0) throw new RangeError('pgoutput: unterminated string');
    const s = this.b.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}

/**
 * Decodes one pgoutput message. `inStream` says whether it sits inside a streamed block (its data
 * messages then start with the transaction's xid); the caller keeps that state from the
 * stream-start and stream-stop messages it gets back.
 */
export function decodePgOutput(buf: Buffer, inStream = false): PgOutputMessage {
  const r = new Reader(buf);
  const tag = String.fromCharCode(r.u8());
  const xid = () => (inStream ? { xid: r.u32() } : {});
  switch (tag) {
    case 'B':
      return { tag: 'begin', commitLsn: r.u64(), commitTime: r.i64(), xid: r.u32() };
    case 'C': {
      r.u8();
      return { tag: 'commit', commitLsn: r.u64(), endLsn: r.u64(), commitTime: r.i64() };
    }
    case 'O':
      return { tag: 'origin', lsn: r.u64(), name: r.str() };
    case 'R': {
      const x = xid();
      const oid = r.u32();
      const schema = r.str();
      const name = r.str();
      const replicaIdentity = String.fromCharCode(r.u8());
      const n = r.i16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < n; i++) {
        const flags = r.u8();
        columns.push({ key: (flags & 1) === 1, name: r.str(), typeOid: r.u32(), typmod: r.i32() });
      }
      return { tag: 'relation', ...x, oid, schema, name, replicaIdentity, columns };
    }
    case 'Y': {
      const x = xid();
      return { tag: 'type', ...x, oid: r.u32(), schema: r.str(), name: r.str() };
    }
    case 'I': {
      const x = xid();
      const oid = r.u32();
      expect(r, 'N', 'insert');
      return { tag: 'insert', ...x, oid, row: tuple(r) };
    }
    case 'U': {
      const x = xid();
      const oid = r.u32();
      let kind = String.fromCharCode(r.u8());
      let old: TupleValue[] | undefined;
      let oldKind: 'key' | 'full' | undefined;
      if (kind === 'K' || kind === 'O') {
        oldKind = kind === 'K' ? 'key' : 'full';
        old = tuple(r);
        kind = String.fromCharCode(r.u8());
      }
      if (kind !== 'N') throw new RangeError(`pgoutput: update without a new tuple (got "${kind}")`);
      return { tag: 'update', ...x, oid, ...(old ? { old, oldKind } : {}), row: tuple(r) };
    }
    case 'D': {
      const x = xid();
      const oid = r.u32();
      const kind = String.fromCharCode(r.u8());
      if (kind !== 'K' && kind !== 'O') throw new RangeError(`pgoutput: delete without an old tuple (got "${kind}")`);
      return { tag: 'delete', ...x, oid, oldKind: kind === 'K' ? 'key' : 'full', old: tuple(r) };
    }
    case 'T': {
      const x = xid();
      const n = r.i32();
      const options = r.u8();
      const oids: number[] = [];
      for (let i = 0; i < n; i++) oids.push(r.u32());
      return { tag: 'truncate', ...x, oids, cascade: (options & 1) === 1, restartIdentity: (options & 2) === 2 };
    }
    case 'M': {
      const x = xid();
      const transactional = (r.u8() & 1) === 1;
      const lsn = r.u64();
      const prefix = r.str();
      const content = r.bytes(r.i32());
      return { tag: 'message', ...x, transactional, lsn, prefix, content };
    }
    case 'S':
      return { tag: 'stream-start', xid: r.u32(), first: r.u8() === 1 };
    case 'E':
      return { tag: 'stream-stop' };
    case 'c': {
      const x = r.u32();
      r.u8();
      return { tag: 'stream-commit', xid: x, commitLsn: r.u64(), endLsn: r.u64(), commitTime: r.i64() };
    }
    case 'A':
      return { tag: 'stream-abort', xid: r.u32(), subXid: r.u32() };
    default:
      throw new RangeError(`pgoutput: unknown message type "${tag}" (0x${buf[0]?.toString(16)})`);
  }
}

function expect(r: Reader, c: string, what: string): void {
  const got = String.fromCharCode(r.u8());
  if (got !== c) throw new RangeError(`pgoutput: ${what} expected "${c}", got "${got}"`);
}

function tuple(r: Reader): TupleValue[] {
  const n = r.i16();
  const out: TupleValue[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const kind = r.u8();
    if (kind === 0x6e /* n */) out[i] = null;
    else if (kind === 0x75 /* u */) out[i] = UNCHANGED;
    else if (kind === 0x74 /* t */) out[i] = r.bytes(r.i32()).toString('utf8');
    else throw new RangeError(`pgoutput: column ${i}: unexpected value kind 0x${kind.toString(16)} (binary mode is not requested)`);
  }
  return out;
}

// --- the replication protocol's own frames (inside CopyData) -------------------------------------

/** Microseconds between 1970-01-01 and 2000-01-01, PostgreSQL's epoch. */
const PG_EPOCH_US = 946_684_800_000_000n;

export type ReplicationFrame =
  { kind: 'xlog'; start: Lsn; walEnd: Lsn; payload: Buffer } | { kind: 'keepalive'; walEnd: Lsn; replyRequested: boolean };

/**
 *   w  XLogData                 Int64 start, Int64 current end of WAL, Int64 send time, Byte[] payload
 *   k  Primary keepalive        Int64 current end of WAL, Int64 send time, Byte1 reply requested
 */
export function decodeFrame(buf: Buffer): ReplicationFrame {
  if (buf[0] === 0x77) return { kind: 'xlog', start: buf.readBigUInt64BE(1), walEnd: buf.readBigUInt64BE(9), payload: buf.subarray(25) };
  if (buf[0] === 0x6b) return { kind: 'keepalive', walEnd: buf.readBigUInt64BE(1), replyRequested: buf[17] === 1 };
  throw new RangeError(`replication: unknown frame 0x${buf[0]?.toString(16)}`);
}

/**
 *   r  Standby status update    Int64 written, Int64 flushed, Int64 applied, Int64 client time, Byte1 reply requested
 * The slot's confirmed position follows `flushed`: only ever what is durable downstream.
 */
export function standbyStatus(durable: Lsn, nowMs: number = Date.now(), replyRequested = false): Buffer {
  const b = Buffer.alloc(34);
  b[0] = 0x72;
  b.writeBigUInt64BE(durable, 1);
  b.writeBigUInt64BE(durable, 9);
  b.writeBigUInt64BE(durable, 17);
  b.writeBigInt64BE(BigInt(nowMs) * 1000n - PG_EPOCH_US, 25);
  b[33] = replyRequested ? 1 : 0;
  return b;
}

/** A pgoutput commit time (µs since 2000-01-01) as "YYYY-MM-DDTHH:MM:SS.ffffffZ". */
export function commitTimeText(us: bigint): string {
  const unixUs = us + PG_EPOCH_US;
  const ms = unixUs / 1000n;
  const frac = ((unixUs % 1_000_000n) + 1_000_000n) % 1_000_000n;
  return `${new Date(Number(ms)).toISOString().slice(0, 19)}.${frac.toString().padStart(6, '0')}Z`;
}
