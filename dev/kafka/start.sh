#!/usr/bin/env bash
# Starts a real Apache Kafka cluster (KRaft, combined broker+controller nodes, static voters) from the
# jars on Maven Central (pom.xml, fetched once by libs.sh), in the background, and waits until every
# node logged "Kafka Server started". Prints, on stdout, one KEY=VALUE per line:
#   BOOTSTRAP=127.0.0.1:PORT[,127.0.0.1:PORT...]   DIR=<cluster dir>   PIDFILE=<file with one pid per node>
#
# Usage: dev/kafka/start.sh [--brokers 1|3] [--port N] [--dir D]
#   --brokers  1 (default) or 3 (replication factor 3, min.insync.replicas 2)
#   --port     PLAINTEXT port of node 1 (node n gets N+n-1); default: free ports
#   --dir      cluster directory. A new one under dev/kafka/run/ by default. If D holds a cluster
#              started before (cluster.env), it is started again with the same ports and data:
#              that is how fault tests restart a broker. If it is running already, nothing happens.
# Env: KAFKA_HEAP_OPTS (default -Xms128m -Xmx512m), KAFKA_JVM_OPTS, KAFKA_START_TIMEOUT (s, default 120).
# Stop with dev/kafka/stop.sh [--dir D] [--kill] [--wipe].
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Callers parse stdout (BOOTSTRAP=, DIR=, PIDFILE=): only report() writes there (fd 3); anything
# else a tool prints goes to stderr, and no child reads from the terminal, so nothing can leave
# escape sequences in the captured output. The brokers outlive this script: they get no fd 3, or
# a caller's $(start.sh) would wait for them to exit.
exec 3>&1 1>&2 </dev/null
export TERM=dumb NO_COLOR=1

brokers=1 port="" dir=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --brokers) brokers=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" >&3; exit 0 ;;
    *) echo "start.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $brokers == 1 || $brokers == 3 ]] || { echo "start.sh: --brokers must be 1 or 3" >&2; exit 2; }

libs=$("$here/libs.sh")
cp="$libs/*"
heap=${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}
# Two shared cores: serial GC, C1 only and small thread pools keep a test broker light.
jvm=${KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k -Djava.awt.headless=true}
timeout=${KAFKA_START_TIMEOUT:-120}

alive() { # pid dir: true if pid is one of our brokers for this cluster dir (never trust a stale pid)
  [[ -n $1 && -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF "kafka.Kafka $2/"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Below the kernel's ephemeral range. A port inside it can be taken by any outgoing connection on
# the machine between the check here and the broker's bind (formatting and the JVM's start take
# seconds), or while a broker restarts on it (a client reconnecting to that very port can even
# connect to itself); the broker then fails with "Address already in use".
read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph_lo=32768
if (( eph_lo > 12000 )); then port_lo=10000 port_span=$((eph_lo - 10000)); else port_lo=20000 port_span=40000; fi

pick_port() { # a free port not in "$@"
  local p
  for _ in $(seq 1 200); do
    p=$((port_lo + RANDOM % port_span))
    [[ " $* " == *" $p "* ]] && continue
    port_free "$p" && { echo "$p"; return 0; }
  done
  echo "start.sh: no free port found" >&2; return 1
}

if [[ -z $dir ]]; then
  mkdir -p "$here/run"
  dir=$(mktemp -d "$here/run/kafka-XXXXXX")
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

if [[ -f $dir/cluster.env ]]; then
  # shellcheck disable=SC1091
  source "$dir/cluster.env"
  [[ -n $port && $port != "${PORTS%% *}" ]] && echo "start.sh: $dir already uses ports $PORTS; --port ignored" >&2
else
  BROKERS=$brokers
  CID=$(java -cp "$cp" kafka.tools.StorageTool random-uuid)
  used=() PORTS="" CPORTS=""
  for n in $(seq 1 "$BROKERS"); do
    if [[ -n $port ]]; then p=$((port + n - 1)); else p=$(pick_port "${used[@]}"); fi
    used+=("$p"); c=$(pick_port "${used[@]}"); used+=("$c")
    PORTS="$PORTS $p" CPORTS="$CPORTS $c"
  done
  PORTS=${PORTS# } CPORTS=${CPORTS# }
  printf 'BROKERS=%s\nCID=%s\nPORTS="%s"\nCPORTS="%s"\n' "$BROKERS" "$CID" "$PORTS" "$CPORTS" >"$dir/cluster.env"
fi

read -r -a ports <<<"$PORTS"
read -r -a cports <<<"$CPORTS"
bootstrap=$(printf '127.0.0.1:%s,' "${ports[@]}"); bootstrap=${bootstrap%,}
voters=""
for n in $(seq 1 "$BROKERS"); do voters="$voters,$n@127.0.0.1:${cports[n-1]}"; done
voters=${voters#,}
rf=$BROKERS; isr=$(( BROKERS == 3 ? 2 : 1 ))

report() {
  printf 'BOOTSTRAP=%s\nDIR=%s\nPIDFILE=%s\n' "$bootstrap" "$dir" "$dir/kafka.pid" >&3
}

running=0
for n in $(seq 1 "$BROKERS"); do
  pid=$(cat "$dir/broker-$n.pid" 2>/dev/null || true)
  alive "$pid" "$dir" && running=$((running + 1))
done
if [[ $running == "$BROKERS" ]]; then report; exit 0; fi

cat >"$dir/log4j2.properties" <<'EOF'
rootLogger.level=WARN
rootLogger.appenderRef.o.ref=O
appender.o.type=Console
appender.o.name=O
appender.o.layout.type=PatternLayout
appender.o.layout.pattern=[%d] %p %m (%c)%n
logger.s.name=kafka.server.KafkaRaftServer
logger.s.level=INFO
EOF

for n in $(seq 1 "$BROKERS"); do
  p=${ports[n-1]} c=${cports[n-1]}
  cat >"$dir/server-$n.properties" <<EOF
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$p,CONTROLLER://127.0.0.1:$c
advertised.listeners=PLAINTEXT://127.0.0.1:$p
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data-$n
# Topics are created explicitly (sluice's admin ensures partition counts); a typo must not
# silently make a one-partition topic.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=2
log.cleaner.threads=1
EOF
done

# Format each node that has no meta.properties yet (a restart keeps its data).
for n in $(seq 1 "$BROKERS"); do
  if [[ ! -f $dir/data-$n/meta.properties ]]; then
    java -cp "$cp" kafka.tools.StorageTool format -t "$CID" -c "$dir/server-$n.properties" >"$dir/format-$n.log" 2>&1 3>&- &
  fi
done
wait || true
for n in $(seq 1 "$BROKERS"); do
  [[ -f $dir/data-$n/meta.properties ]] || { echo "start.sh: format failed for node $n:" >&2; cat "$dir/format-$n.log" >&2; exit 1; }
done

: >"$dir/kafka.pid"
for n in $(seq 1 "$BROKERS"); do
  pid=$(cat "$dir/broker-$n.pid" 2>/dev/null || true)
  if ! alive "$pid" "$dir"; then
    [[ -f $dir/broker-$n.log ]] && mv "$dir/broker-$n.log" "$dir/broker-$n.log.prev"
    # shellcheck disable=SC2086
    java $heap $jvm -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$cp" \
      kafka.Kafka "$dir/server-$n.properties" >"$dir/broker-$n.log" 2>&1 </dev/null 3>&- &
    echo $! >"$dir/broker-$n.pid"
    disown || true
  fi
  cat "$dir/broker-$n.pid" >>"$dir/kafka.pid"
done

deadline=$((SECONDS + timeout))
for n in $(seq 1 "$BROKERS"); do
  pid=$(cat "$dir/broker-$n.pid")
  until grep -q 'Kafka Server started' "$dir/broker-$n.log" 2>/dev/null; do
    if ! alive "$pid" "$dir"; then
      echo "start.sh: node $n exited during start-up; last lines of $dir/broker-$n.log:" >&2
      tail -n 30 "$dir/broker-$n.log" >&2; exit 1
    fi
    if (( SECONDS > deadline )); then
      echo "start.sh: node $n not ready after ${timeout}s; see $dir/broker-$n.log" >&2; exit 1
    fi
    sleep 0.2
  done
done
report
