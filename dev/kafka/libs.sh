#!/usr/bin/env bash
# Makes sure dev/kafka/libs holds the broker's jars (pom.xml: org.apache.kafka:kafka_2.13 + a log4j2
# binding), copied from ~/.m2 by maven-dependency-plugin; prints the libs directory.
# Idempotent and fast when done: nothing runs if every jar is newer than pom.xml. Maven runs
# offline first (the second run on a machine never touches the network), then online.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
libs="$here/libs"
stamp="$libs/.complete"

if [[ -f $stamp && $stamp -nt $here/pom.xml ]] && compgen -G "$libs/kafka_2.13-*.jar" >/dev/null; then
  echo "$libs"
  exit 0
fi
for tool in java mvn; do
  command -v "$tool" >/dev/null || { echo "dev/kafka/libs.sh: '$tool' is not on PATH (the broker needs a JDK 17+ and Maven)" >&2; exit 127; }
done
export MAVEN_OPTS="${MAVEN_OPTS:--Xmx512m -XX:TieredStopAtLevel=1}"
rm -rf "$libs.tmp"
args=(-B -q -T1 -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs.tmp")
mkdir -p "$here/run"
if ! mvn -o "${args[@]}" >"$here/run/mvn-offline.log" 2>&1; then
  rm -rf "$libs.tmp"
  mvn "${args[@]}" >&2 || { echo "dev/kafka/libs.sh: maven failed (offline attempt: $here/run/mvn-offline.log)" >&2; exit 1; }
fi
rm -rf "$libs" && mv "$libs.tmp" "$libs" && touch "$stamp"
echo "$libs"
