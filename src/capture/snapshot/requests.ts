/**
 * Incremental snapshot requests and their controls, as the CLI and the dashboard see them.
 *
 * The running source is the only writer of a request's progress (it writes after each durable
 * chunk). A pause or a cancel is therefore a separate item (`control:incremental:<table>`) that
 * the source reads before each chunk: a control written while a chunk is in flight is never
 * overwritten by that chunk's progress. A pause takes effect after the chunk in flight; a resume
 * removes the pause and the source continues after the last durable chunk; a cancel ends the
 * request where it is (rows already copied stay copied: they were versioned below their
 * watermark, so they never overwrote anything newer).
 */
import type { ProgressStore, SnapshotProgress } from './progress.js';

export type SnapshotControl = 'pause' | 'cancel';
export type SnapshotState = 'waiting' | 'running' | 'paused' | 'cancelled' | 'done';

export interface SnapshotRequestView {
  /** schema.table */
  readonly table: string;
  readonly state: SnapshotState;
  readonly rows: number;
  readonly where?: string;
}

const REQUEST = 'incremental:';
const CONTROL = 'control:incremental:';

export class SnapshotRequests {
  constructor(private readonly progress: ProgressStore) {}

  /** Starts (or restarts from the first row) a re-read of `table` (schema.table). */
  async request(table: string, where?: string): Promise<void> {
    await this.progress.clearControl(`${CONTROL}${table}`);
    await this.progress.put(`${REQUEST}${table}`, { from: '', rows: 0, done: false, ...(where ? { where } : {}) });
  }

  async pause(table: string): Promise<SnapshotRequestView> {
    return this.control(table, 'pause');
  }

  async cancel(table: string): Promise<SnapshotRequestView> {
    return this.control(table, 'cancel');
  }

  async resume(table: string): Promise<SnapshotRequestView> {
    const view = await this.view(table);
    if (view.state !== 'paused') throw new Error(`incremental snapshot of ${table} is ${view.state}, not paused`);
    await this.progress.clearControl(`${CONTROL}${table}`);
    return { ...view, state: view.rows ? 'running' : 'waiting' };
  }

  async list(): Promise<SnapshotRequestView[]> {
    const controls = new Map(
      (await this.progress.controls<SnapshotControl>(CONTROL)).map((c) => [c.item.slice(CONTROL.length), c.control]),
    );
    return (await this.progress.list(REQUEST)).map((r) =>
      viewOf(r.item.slice(REQUEST.length), r.value, controls.get(r.item.slice(REQUEST.length))),
    );
  }

  /** What the source does before its next chunk of `table`. */
  async controlOf(table: string): Promise<SnapshotControl | undefined> {
    return this.progress.control<SnapshotControl>(`${CONTROL}${table}`);
  }

  /** The source's side of a cancel: the request ends where it is. */
  async cancelled(table: string, at: SnapshotProgress): Promise<void> {
    await this.progress.put(`${REQUEST}${table}`, { ...at, done: true, cancelled: true });
    await this.progress.clearControl(`${CONTROL}${table}`);
  }

  private async view(table: string): Promise<SnapshotRequestView> {
    const p = await this.progress.get(`${REQUEST}${table}`);
    if (!p) throw new Error(`no incremental snapshot of ${table} was requested`);
    return viewOf(table, p, await this.controlOf(table));
  }

  private async control(table: string, c: SnapshotControl): Promise<SnapshotRequestView> {
    const view = await this.view(table);
    if (view.state === 'done' || view.state === 'cancelled') throw new Error(`incremental snapshot of ${table} is already ${view.state}`);
    await this.progress.setControl(`${CONTROL}${table}`, c);
    return view;
  }
}

function viewOf(table: string, p: SnapshotProgress, control: SnapshotControl | undefined): SnapshotRequestView {
  const state: SnapshotState = p.cancelled
    ? 'cancelled'
    : p.done
      ? 'done'
      : control === 'pause'
        ? 'paused'
        : control === 'cancel'
          ? 'running' // until the source reaches its next chunk
          : p.rows
            ? 'running'
            : 'waiting';
  return { table, state, rows: p.rows, ...(p.where ? { where: p.where } : {}) };
}
