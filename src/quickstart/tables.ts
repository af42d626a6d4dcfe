/**
 * The quick start's tables: a retailer's coupons and their history, with numeric, text,
 * timestamp and nullable columns. The same DDL creates the source and the target tables.
 */
export const QUICKSTART_DDL = [
  `CREATE TABLE IF NOT EXISTS coupon (
    id bigint PRIMARY KEY,
    code text NOT NULL,
    discount numeric(10,2) NOT NULL,
    description text,
    valid_until timestamptz(6),
    created_at timestamp(6) NOT NULL,
    redeemed_count integer NOT NULL DEFAULT 0
  )`,
  `CREATE TABLE IF NOT EXISTS coupon_history (
    id bigint PRIMARY KEY,
    coupon_id bigint NOT NULL,
    event text NOT NULL,
    amount numeric(12,2),
    happened_at timestamptz(6) NOT NULL
  )`,
];

export const QUICKSTART_TABLES = ['coupon', 'coupon_history'] as const;
