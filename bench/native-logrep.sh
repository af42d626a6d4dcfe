#!/usr/bin/env bash
# The end-to-end benchmark's reference: PostgreSQL's own logical replication applying a backlog.
#
#   bash bench/native-logrep.sh [ROWS=200000] [RUNS=3]
#
# Starts two throwaway PostgreSQL clusters on free ports (a publisher with wal_level=logical and a
# subscriber), and for each run: creates a 10-column table on both, a publication, and a subscription
# that is created DISABLED without an initial copy (so its slot exists before the backlog is written),
# inserts ROWS rows in one statement, then times from `ALTER SUBSCRIPTION … ENABLE` until the
# subscriber counts ROWS rows (the apply worker's start is included). Prints one JSON line per run,
# then {"median_rows_per_s": N, …}. Everything is removed on exit, whatever happens.
#
# Needs initdb, pg_ctl, postgres and psql: from PATH, else the newest /usr/lib/postgresql/*/bin.
# Run as root, the servers run as the `postgres` user (runuser) in a directory it owns.
set -euo pipefail

ROWS=${1:-200000}
RUNS=${2:-3}
[[ $ROWS =~ ^[1-9][0-9]*$ && $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [ROWS] [RUNS] (positive integers)" >&2; exit 2; }

# --- binaries --------------------------------------------------------------------------------------
pg_bin_dir() {
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return
  fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n $d && -x $d/initdb ]] || { echo "no PostgreSQL server binaries (initdb, pg_ctl) found" >&2; exit 1; }
  echo "$d"
}
BIN=$(pg_bin_dir)
PSQL=$(command -v psql || echo "$BIN/psql")

# As root, the server refuses to run: run it (and initdb) as postgres instead.
if [[ $(id -u) -eq 0 ]]; then
  as_server() { runuser -u postgres -- "$@"; }
else
  as_server() { "$@"; }
fi

# --- work directory and clean-up -------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-native-logrep.XXXXXX")
[[ $(id -u) -eq 0 ]] && chown postgres: "$WORK"
STARTED=()
cleanup() {
  local dir
  for dir in "${STARTED[@]}"; do
    as_server "$BIN/pg_ctl" -D "$dir" -m immediate -w stop >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port nobody listens on now (the kernel picks it).
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null \
    || python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
}

# start_cluster NAME PORT SETTING... : initdb, the settings appended to postgresql.conf, pg_ctl start.
start_cluster() {
  local name=$1 port=$2; shift 2
  local dir=$WORK/$name
  as_server "$BIN/initdb" -D "$dir" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >"$WORK/$name-initdb.log" 2>&1 \
    || { cat "$WORK/$name-initdb.log" >&2; exit 1; }
  {
    echo "port = $port"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$WORK'"
    echo "fsync = off"
    echo "synchronous_commit = off"
    echo "full_page_writes = off"
    local s
    for s in "$@"; do echo "$s"; done
  } | as_server tee -a "$dir/postgresql.conf" >/dev/null
  STARTED+=("$dir")
  as_server "$BIN/pg_ctl" -D "$dir" -l "$WORK/$name.log" -w -t 60 start >/dev/null \
    || { cat "$WORK/$name.log" >&2; exit 1; }
}

PUB_PORT=$(free_port)
start_cluster pub "$PUB_PORT" "wal_level = logical" "max_wal_senders = 10" "max_replication_slots = 10"
SUB_PORT=$(free_port)
start_cluster sub "$SUB_PORT" "max_replication_slots = 10" "max_logical_replication_workers = 4" "wal_retrieve_retry_interval = 100ms"

export PGOPTIONS='-c client_min_messages=warning'
pub() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PUB_PORT" -U postgres -d postgres -At "$@"; }
sub() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$SUB_PORT" -U postgres -d postgres -At "$@"; }

TABLE="CREATE TABLE t (id bigint PRIMARY KEY, a int, b bigint, c numeric(12,2), d text, e text,
  f timestamptz, g boolean, h double precision, i text)"

now_ns() { date +%s%N; }

RATES=()
for run in $(seq 1 "$RUNS"); do
  # A fresh table, publication and subscription per run.
  sub -c "DROP SUBSCRIPTION IF EXISTS s" -c "DROP TABLE IF EXISTS t" -c "$TABLE"
  pub -c "DROP PUBLICATION IF EXISTS p" -c "DROP TABLE IF EXISTS t" -c "$TABLE" -c "CREATE PUBLICATION p FOR TABLE t"
  sub -c "CREATE SUBSCRIPTION s CONNECTION 'host=127.0.0.1 port=$PUB_PORT user=postgres dbname=postgres'
          PUBLICATION p WITH (enabled = false, copy_data = false)"
  # The backlog, written after the slot exists: all of it is replicated, none of it copied.
  pub -c "INSERT INTO t SELECT g, g % 1000, g * 7, (g % 100000) / 100.0, 'd-' || g, md5(g::text),
            timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second', g % 2 = 0, g / 3.0, repeat('x', 20)
          FROM generate_series(1, $ROWS) AS g"

  start=$(now_ns)
  sub -c "ALTER SUBSCRIPTION s ENABLE"
  while [[ $(sub -c "SELECT count(*) FROM t") -lt $ROWS ]]; do sleep 0.02; done
  end=$(now_ns)

  seconds=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }')
  rate=$(awk -v ns=$((end - start)) -v n="$ROWS" 'BEGIN { printf "%d", n / (ns / 1e9) }')
  RATES+=("$rate")
  echo "{\"run\":$run,\"rows\":$ROWS,\"seconds\":$seconds,\"rows_per_s\":$rate}"

  # Dropping the subscription drops its slot on the publisher too: the next run starts clean.
  sub -c "DROP SUBSCRIPTION s"
done

median=$(printf '%s\n' "${RATES[@]}" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%d\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
version=$("$BIN/postgres" --version | sed -E 's/.*\(PostgreSQL\) ([^ ]+).*/\1/')
echo "{\"bench\":\"native-logrep\",\"rows\":$ROWS,\"runs\":$RUNS,\"postgres\":\"$version\",\"median_rows_per_s\":$median}"
