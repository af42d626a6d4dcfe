/**
 * The streaming replication connection: START_REPLICATION of a logical slot with pgoutput, frames
 * in, standby status updates out. node-postgres speaks the CopyBoth sub-protocol this needs (its
 * connection emits each CopyData and writes ours), so no replication library is used: the ones on
 * npm acknowledge the last *received* position from a timer by default, which advances the slot
 * past changes not yet durable (docs/guarantees.md: slot-advances-when-durable).
 *
 * The server is told only `durable`: the position up to which everything is applied or
 * broker-acknowledged. Socket reads pause while the consumer is behind (`pause`/`resume`), so a
 * burst of WAL never piles up in memory.
 */
import pg from 'pg';
import { SluiceError } from '../../core/errors.js';
import { decodeFrame, standbyStatus, type ReplicationFrame } from './pgoutput.js';
import { formatLsn, type Lsn } from './lsn.js';
import { quotePg } from '../../metadata/index.js';
import { REPLICATION_GUCS } from './values.js';

export interface ReplicationOptions {
  url: string;
  slot: string;
  publication: string;
  /** Where to start; 0 lets the server start at the slot's confirmed position. */
  from: Lsn;
  /** Protocol 2 with streaming of in-progress transactions (PostgreSQL 14+). */
  streaming: boolean;
  /** Logical decoding messages too (pg_logical_emit_message; PostgreSQL 14+). */
  messages?: boolean;
  /** logical_decoding_work_mem for this connection, e.g. "64MB". */
  decodingWorkMem?: string;
  onFrame(frame: ReplicationFrame): void;
  /** The connection ended or failed; `err` absent after `close()`. */
  onEnd(err?: Error): void;
}

interface CopyBothConnection {
  on(event: 'copyData', f: (msg: { chunk: Buffer }) => void): void;
  once(event: 'replicationStart', f: () => void): void;
  sendCopyFromChunk(chunk: Buffer): void;
  stream: { pause(): void; resume(): void };
}

export class ReplicationStream {
  private readonly client: pg.Client;
  private conn!: CopyBothConnection;
  private closed = false;
  private ended = false;

  private constructor(private readonly o: ReplicationOptions) {
    this.client = new pg.Client({
      connectionString: o.url,
      replication: 'database',
      options: `${REPLICATION_GUCS}${o.decodingWorkMem ? ` -c logical_decoding_work_mem=${o.decodingWorkMem}` : ''}`,
    } as pg.ClientConfig);
  }

  static async open(o: ReplicationOptions): Promise<ReplicationStream> {
    const s = new ReplicationStream(o);
    await s.start();
    return s;
  }

  private async start(): Promise<void> {
    // Until replication has started, a failure is open()'s to report (and retry); after, onEnd's.
    let streaming = false;
    const end = (err?: Error) => {
      if (this.ended || !streaming) return;
      this.ended = true;
      this.o.onEnd(
        this.closed ? undefined : (err ?? new SluiceError('SLUICE_ERR_SOURCE', 'the replication connection ended', { retriable: true })),
      );
    };
    this.client.on('error', (err) => end(sourceError(err)));
    this.client.on('end', () => end());
    try {
      await this.client.connect();
    } catch (err) {
      throw sourceError(err as Error, 'cannot open a replication connection');
    }
    this.conn = (this.client as unknown as { connection: CopyBothConnection }).connection;
    const started = new Promise<void>((resolve) =>
      this.conn.once('replicationStart', () => {
        streaming = true;
        resolve();
      }),
    );
    this.conn.on('copyData', ({ chunk }) => {
      try {
        this.o.onFrame(decodeFrame(chunk));
      } catch (err) {
        end(err as Error);
      }
    });
    const opts = [
      `proto_version '${this.o.streaming ? 2 : 1}'`,
      `publication_names '${quotePg(this.o.publication).replace(/'/g, "''")}'`,
      ...(this.o.streaming ? [`streaming 'on'`] : []),
      ...(this.o.messages ? [`messages 'true'`] : []),
    ];
    // The query settles only when replication ends (CopyDone, an error, or the connection closing).
    const running = this.client.query(
      `START_REPLICATION SLOT ${quotePg(this.o.slot)} LOGICAL ${formatLsn(this.o.from)} (${opts.join(', ')})`,
    );
    running.then(
      () => end(),
      (err: Error) => end(sourceError(err)),
    );
    try {
      await Promise.race([
        started,
        running.then(
          () => {
            throw new SluiceError('SLUICE_ERR_SOURCE', 'replication ended before it started', { retriable: true });
          },
          (err: Error) => {
            // e.g. 55006: the slot is still held by a process that just stopped or died.
            throw sourceError(err, 'cannot start replication');
          },
        ),
      ]);
    } catch (err) {
      this.closed = true;
      await this.client.end().catch(() => {});
      throw err;
    }
  }

  /** Tells the server everything up to `durable` may be released; `ping` asks for an answer (a keepalive with the current end of WAL). */
  confirm(durable: Lsn, ping = false): void {
    if (this.ended) return;
    this.conn.sendCopyFromChunk(standbyStatus(durable, Date.now(), ping));
  }

  pause(): void {
    this.conn.stream.pause();
  }

  resume(): void {
    this.conn.stream.resume();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client.end().catch(() => {});
  }
}

/**
 * What passes by itself: the network (the server restarting, a failover), SQLSTATE class 08
 * (connection exceptions), 57P01–57P03 (terminated, crash shutdown, starting up), 53300 (too many
 * connections) and 55006 (the slot still held by a previous instance that is shutting down).
 */
const RETRIABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '55006',
]);

/** Whether a failure of a source connection is worth retrying (the connection was lost or refused). */
export function passesByItself(err: unknown): boolean {
  if (err instanceof SluiceError) return err.retriable;
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code;
  // pg's own connection failures ("Connection terminated unexpectedly") carry no code; a
  // programming error is never retried.
  if (code === undefined) return !(err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError);
  return RETRIABLE_CODES.has(code) || code.startsWith('08');
}

function sourceError(err: Error, what = 'replication failed'): SluiceError {
  if (err instanceof SluiceError) return err;
  const retriable = passesByItself(err);
  return new SluiceError('SLUICE_ERR_SOURCE', `${what}: ${err.message}`, { cause: err, retriable });
}
