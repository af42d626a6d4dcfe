/**
 * Plays the source service of the quick start: business transactions on `coupon` and
 * `coupon_history` (create, redeem, edit, withdraw), each recording its changes in the outbox in
 * the same transaction, after the business rows (docs/guarantees.md: outbox-after-business-row).
 * Runs at a steady rate until stopped.
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { createOutboxWriter, type OutboxChange } from '../capture/outbox/writer.js';

type CouponRow = {
  id: string;
  code: string;
  discount: string;
  description: string | null;
  valid_until: string | null;
  created_at: string;
  redeemed_count: number;
};

const SELECT_COUPON = `SELECT id::text, code, discount::text, description,
  to_char(valid_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS valid_until,
  to_char(created_at, 'YYYY-MM-DD"T"HH24:MI:SS.US') AS created_at, redeemed_count
  FROM coupon`;

export class Workload {
  private readonly outbox = createOutboxWriter({ dialect: 'pglite' });
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  transactions = 0;

  constructor(
    private readonly db: PGlite,
    private readonly ratePerSecond: number,
  ) {}

  async prepare(): Promise<void> {
    await this.db.exec(this.outbox.ddl);
  }

  start(): void {
    const tickMs = 50;
    const perTick = Math.max(1, Math.round((this.ratePerSecond * tickMs) / 1000));
    this.timer = setInterval(() => {
      this.running = this.running.then(async () => {
        for (let i = 0; i < perTick; i++) await this.transaction();
      });
    }, tickMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One business transaction; the outbox rows commit or roll back with it. */
  async transaction(): Promise<void> {
    await this.db.transaction(async (tx) => {
      const dice = Math.random();
      const changes: OutboxChange[] = [];
      const existing = dice < 0.3 ? undefined : await randomCoupon(tx);
      if (!existing || dice < 0.3) changes.push(...(await createCoupon(tx)));
      else if (dice < 0.8) changes.push(...(await redeem(tx, existing)));
      else if (dice < 0.95) changes.push(await edit(tx, existing));
      else changes.push(await withdraw(tx, existing));
      await this.outbox.write(tx, changes);
    });
    this.transactions++;
  }
}

async function nextId(tx: Transaction, table: string): Promise<string> {
  const r = await tx.query<{ id: string }>(`SELECT (coalesce(max(id), 0) + 1)::text AS id FROM ${table}`);
  return r.rows[0]!.id;
}

async function randomCoupon(tx: Transaction): Promise<CouponRow | undefined> {
  const r = await tx.query<CouponRow>(
    `${SELECT_COUPON} WHERE id >= (SELECT floor(random() * (coalesce(max(id), 0) + 1)) FROM coupon) ORDER BY id LIMIT 1 FOR UPDATE`,
  );
  return r.rows[0];
}

function nowMicros(): string {
  return new Date().toISOString().replace('Z', '').padEnd(26, '0');
}

async function createCoupon(tx: Transaction): Promise<OutboxChange[]> {
  const id = await nextId(tx, 'coupon');
  const row: CouponRow = {
    id,
    code: `SPRING-${id}`,
    discount: `${(Math.random() * 50).toFixed(2)}`,
    description: Math.random() < 0.3 ? null : `Coupon n°${id} — ${['10% off', 'free shipping', '2 for 1'][Number(id) % 3]}`,
    valid_until:
      Math.random() < 0.2
        ? null
        : `${new Date(Date.now() + 86_400_000 * 30).toISOString().slice(0, 23)}${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}Z`,
    created_at: nowMicros(),
    redeemed_count: 0,
  };
  await tx.query(
    'INSERT INTO coupon (id, code, discount, description, valid_until, created_at, redeemed_count) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [row.id, row.code, row.discount, row.description, row.valid_until, row.created_at, row.redeemed_count],
  );
  return [{ table: 'coupon', op: 'c', row, context: 'createCoupon' }];
}

async function redeem(tx: Transaction, c: CouponRow): Promise<OutboxChange[]> {
  const row = { ...c, redeemed_count: c.redeemed_count + 1 };
  await tx.query('UPDATE coupon SET redeemed_count = $2 WHERE id = $1', [row.id, row.redeemed_count]);
  const hid = await nextId(tx, 'coupon_history');
  const hist = {
    id: hid,
    coupon_id: c.id,
    event: 'redeemed',
    amount: Math.random() < 0.1 ? null : (Math.random() * 200).toFixed(2),
    happened_at: new Date().toISOString().replace('Z', '000Z'),
  };
  await tx.query('INSERT INTO coupon_history (id, coupon_id, event, amount, happened_at) VALUES ($1, $2, $3, $4, $5)', [
    hist.id,
    hist.coupon_id,
    hist.event,
    hist.amount,
    hist.happened_at,
  ]);
  return [
    { table: 'coupon', op: 'u', row, context: 'redeemCoupon' },
    { table: 'coupon_history', op: 'c', row: hist, context: 'redeemCoupon' },
  ];
}

async function edit(tx: Transaction, c: CouponRow): Promise<OutboxChange> {
  const row = { ...c, discount: (Number(c.discount) + 1).toFixed(2), description: c.description === null ? 'now described' : null };
  await tx.query('UPDATE coupon SET discount = $2, description = $3 WHERE id = $1', [row.id, row.discount, row.description]);
  return { table: 'coupon', op: 'u', row, context: 'editCoupon' };
}

async function withdraw(tx: Transaction, c: CouponRow): Promise<OutboxChange> {
  await tx.query('DELETE FROM coupon WHERE id = $1', [c.id]);
  return { table: 'coupon', op: 'd', key: { id: c.id }, context: 'withdrawCoupon' };
}
