#!/usr/bin/env bash
# Makes sure bench/peers/.cache/debezium holds Kafka Connect's jars (libs/, from pom.xml) and the
# Debezium PostgreSQL source and JDBC sink plugins (plugins/, unpacked from their tar.gz on Maven
# Central), and Apicurio's Avro converter as a third plugin (pom-apicurio.xml); prints the cache
# directory. Idempotent and fast when done (a stamp newer than this
# script and pom.xml). Maven runs offline first, so a second machine-local run needs no network.
# Env: DEBEZIUM_VERSION (default 3.6.0.Final).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=$(cd "$here/.." && pwd)/.cache/debezium
version=${DEBEZIUM_VERSION:-3.6.0.Final}
stamp="$cache/.complete-$version"
if [[ -f $stamp && $stamp -nt $here/pom.xml && $stamp -nt $here/pom-apicurio.xml && $stamp -nt $here/fetch.sh ]]; then echo "$cache"; exit 0; fi
for tool in java mvn tar; do
  command -v "$tool" >/dev/null || { echo "fetch.sh: '$tool' is not on PATH (needs a JDK 17+ and Maven)" >&2; exit 127; }
done
export MAVEN_OPTS="${MAVEN_OPTS:--Xmx512m -XX:TieredStopAtLevel=1}"
mkdir -p "$cache"
mvn_try() { # offline first, then online
  mvn -o -B -q "$@" >"$cache/mvn-offline.log" 2>&1 || mvn -B -q "$@" >&2
}
rm -rf "$cache/libs.tmp" "$cache/plugins.tmp" "$cache/dl"
mvn_try -T1 -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$cache/libs.tmp" \
  || { echo "fetch.sh: maven failed for pom.xml" >&2; exit 1; }
mkdir -p "$cache/plugins.tmp"
for c in postgres jdbc; do
  mvn_try dependency:copy -Dartifact="io.debezium:debezium-connector-$c:$version:tar.gz:plugin" -DoutputDirectory="$cache/dl" \
    || { echo "fetch.sh: maven failed for debezium-connector-$c $version" >&2; exit 1; }
  tar -xzf "$cache/dl/debezium-connector-$c-$version-plugin.tar.gz" -C "$cache/plugins.tmp"
done
# Kafka's and slf4j's API jars come from the worker, not from the plugin.
mvn_try -T1 -f "$here/pom-apicurio.xml" dependency:copy-dependencies -DincludeScope=runtime -DexcludeGroupIds=org.apache.kafka,org.slf4j \
  -DoutputDirectory="$cache/plugins.tmp/apicurio-converter" || { echo "fetch.sh: maven failed for pom-apicurio.xml" >&2; exit 1; }
rm -rf "$cache/dl" "$cache/libs" "$cache/plugins"
mv "$cache/libs.tmp" "$cache/libs" && mv "$cache/plugins.tmp" "$cache/plugins"
rm -f "$cache"/.complete-* && touch "$stamp"
echo "$cache"
