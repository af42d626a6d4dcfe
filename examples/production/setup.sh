#!/usr/bin/env bash
# Creates the example's databases and tables: coupons_src on PostgreSQL (with the outbox) and
# coupons_main on MariaDB. Idempotent. Usage: examples/production/setup.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'coupons_src'" | grep -q 1 || psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE coupons_src'
node --import tsx -e "
import { QUICKSTART_DDL } from './src/quickstart/tables.ts';
import { createOutboxWriter } from './src/capture/outbox/writer.ts';
import pg from 'pg';
const c = new pg.Client('postgres://postgres@127.0.0.1:5432/coupons_src'); await c.connect();
for (const ddl of QUICKSTART_DDL) await c.query(ddl);
await c.query(createOutboxWriter({ dialect: 'postgres' }).ddl); await c.end();"
mariadb -h 127.0.0.1 -uroot <<'SQL'
CREATE DATABASE IF NOT EXISTS coupons_main CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
USE coupons_main;
CREATE TABLE IF NOT EXISTS coupon (id bigint PRIMARY KEY, code longtext NOT NULL, discount decimal(10,2) NOT NULL,
  description longtext NULL, valid_until timestamp(6) NULL, created_at datetime(6) NOT NULL, redeemed_count int NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS coupon_history (id bigint PRIMARY KEY, coupon_id bigint NOT NULL, event longtext NOT NULL,
  amount decimal(12,2) NULL, happened_at timestamp(6) NOT NULL);
SQL
echo "databases ready"
