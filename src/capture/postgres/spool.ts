/**
 * Disk spool for transactions PostgreSQL streams while they are still in progress (protocol 2,
 * `streaming 'on'`): their changes arrive in blocks, interleaved with other transactions, long
 * before the commit that gives them their versions. Each top-level transaction's messages are
 * appended to a file of its own as they come (memory stays bounded whatever the transaction's
 * size) and read back in order once it commits; an abort deletes the file, a subtransaction's abort
 * marks its changes to be skipped. A crash loses nothing: the slot has not been confirmed past
 * the transaction, so the server streams it again.
 *
 * File format: one record per message, Int32 length + the pgoutput message as received.
 */
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const FLUSH_BYTES = 1 << 20;

export class SpoolFile {
  private fd: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Subtransactions rolled back: their messages are skipped on reading. */
  readonly abortedSubXids = new Set<number>();
  messages = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  append(message: Buffer): void {
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(message.length);
    // The payload is a view into the connection's buffer: copied before it is reused.
    this.pending.push(len, Buffer.from(message));
    this.pendingBytes += message.length + 4;
    this.messages++;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    writeSync(this.fd, Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** The spooled messages in arrival order; the file is closed for writing first. */
  *read(): Generator<Buffer> {
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
    const fd = openSync(this.path, 'r');
    try {
      let buf = Buffer.alloc(FLUSH_BYTES);
      let start = 0;
      let end = 0;
      for (;;) {
        if (end - start < 4 || end - start < 4 + buf.readUInt32BE(start)) {
          // Not a whole record left in the buffer: move the rest to the front and read on.
          const need = end - start >= 4 ? 4 + buf.readUInt32BE(start) : 4;
          if (need > buf.length) {
            const bigger = Buffer.alloc(need * 2);
            buf.copy(bigger, 0, start, end);
            buf = bigger;
          } else buf.copy(buf, 0, start, end);
          end -= start;
          start = 0;
          const n = readSync(fd, buf, end, buf.length - end, null);
          if (n === 0) {
            if (end !== 0) throw new RangeError(`spool ${this.path}: truncated record`);
            return;
          }
          end += n;
          continue;
        }
        const len = buf.readUInt32BE(start);
        yield buf.subarray(start + 4, start + 4 + len);
        start += 4 + len;
      }
    } finally {
      closeSync(fd);
    }
  }

  discard(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    rmSync(this.path, { force: true });
  }
}

export class Spool {
  private readonly files = new Map<number, SpoolFile>();

  constructor(private readonly dir: string) {
    // Files of a previous run belong to transactions the server will stream again.
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }

  file(xid: number): SpoolFile {
    let f = this.files.get(xid);
    if (!f) {
      f = new SpoolFile(join(this.dir, `${xid}.spool`));
      this.files.set(xid, f);
    }
    return f;
  }

  /** Whether a streamed transaction is still waiting for its commit or abort. */
  get open(): boolean {
    return this.files.size > 0;
  }

  /** Hands the committed transaction's file over (the caller reads and discards it). */
  take(xid: number): SpoolFile | undefined {
    const f = this.files.get(xid);
    this.files.delete(xid);
    return f;
  }

  abort(xid: number, subXid: number): void {
    if (subXid === xid) this.take(xid)?.discard();
    else this.files.get(xid)?.abortedSubXids.add(subXid);
  }

  /** Drops every transaction still open: after a reconnection the server streams them again from their start. */
  reset(): void {
    for (const f of this.files.values()) f.discard();
    this.files.clear();
  }

  close(): void {
    for (const f of this.files.values()) f.discard();
    this.files.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
