#!/usr/bin/env bash
# Creates the log-capture example: coupons_log_src on PostgreSQL (the coupon service's tables, a
# publication created by their owner, and a least-privilege role sluice_cdc with REPLICATION and
# SELECT only) and coupons_log_main on MariaDB. Needs wal_level=logical (see README). Idempotent.
# Usage: examples/postgres-log/setup.sh        (examples/postgres-log/setup.sh --drop removes it all)
set -euo pipefail
cd "$(dirname "$0")/../.."
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres "$@"; }
if [ "${1:-}" = "--drop" ]; then
  psql_ -d postgres -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'sluice_coupons_log'" >/dev/null
  psql_ -d postgres -c 'DROP DATABASE IF EXISTS coupons_log_src WITH (FORCE)' -c 'DROP DATABASE IF EXISTS coupons_log_state WITH (FORCE)' -c 'DROP ROLE IF EXISTS sluice_cdc'
  mariadb -h 127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS coupons_log_main'
  exit 0
fi
[ "$(psql_ -d postgres -Atc 'SHOW wal_level')" = logical ] || { echo "wal_level is not logical: ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL" >&2; exit 1; }
for db in coupons_log_src coupons_log_state; do
  psql_ -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 || psql_ -d postgres -c "CREATE DATABASE $db"
done
node --import tsx -e "
import { QUICKSTART_DDL } from './src/quickstart/tables.ts';
import pg from 'pg';
const c = new pg.Client('postgres://postgres@127.0.0.1:5432/coupons_log_src'); await c.connect();
for (const ddl of QUICKSTART_DDL) await c.query(ddl); await c.end();"
psql_ -d coupons_log_src <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sluice_cdc') THEN CREATE ROLE sluice_cdc LOGIN REPLICATION; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'sluice_coupons_log') THEN
    CREATE PUBLICATION sluice_coupons_log FOR TABLE coupon, coupon_history WITH (publish_via_partition_root = true);
  END IF;
END $$;
GRANT SELECT ON coupon, coupon_history TO sluice_cdc;
SQL
psql_ -d coupons_log_state -c 'GRANT CREATE ON SCHEMA public TO sluice_cdc'
mariadb -h 127.0.0.1 -uroot <<'SQL'
CREATE DATABASE IF NOT EXISTS coupons_log_main CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
USE coupons_log_main;
CREATE TABLE IF NOT EXISTS coupon (id bigint PRIMARY KEY, code longtext NOT NULL, discount decimal(10,2) NOT NULL,
  description longtext NULL, valid_until timestamp(6) NULL, created_at datetime(6) NOT NULL, redeemed_count int NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS coupon_history (id bigint PRIMARY KEY, coupon_id bigint NOT NULL, event longtext NOT NULL,
  amount decimal(12,2) NULL, happened_at timestamp(6) NOT NULL);
SQL
echo "databases ready"
