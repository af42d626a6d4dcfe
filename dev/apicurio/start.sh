#!/usr/bin/env bash
# Runs Apicurio Registry (a third-party Confluent-compatible registry, API at /apis/ccompat/v7) in the
# foreground on 127.0.0.1:PORT, from its release on Maven Central; used by the codec's interop test.
# Usage: dev/apicurio/start.sh [PORT=18080]. The first run downloads ~110 MB into ~/.m2 and unpacks it
# under dev/apicurio/dist (ignored by git). 3.0.x is the last line that runs on Java 17 (3.3 needs 21).
set -euo pipefail
VERSION=${APICURIO_VERSION:-3.0.9}
PORT=${1:-18080}
here=$(cd "$(dirname "$0")" && pwd)
dist="$here/dist/$VERSION"
if [ ! -f "$dist/apicurio-registry-app-$VERSION-runner.jar" ]; then
  mkdir -p "$here/dist"
  mvn -B -q dependency:copy -Dartifact="io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all" -DoutputDirectory="$here/dist" >&2
  mkdir -p "$dist.tmp" && tar -xzf "$here/dist/apicurio-registry-app-$VERSION-all.tar.gz" -C "$dist.tmp"
  rm -f "$here/dist/apicurio-registry-app-$VERSION-all.tar.gz" && rm -rf "$dist" && mv "$dist.tmp" "$dist"
fi
cd "$dist"
exec java -Xms128m -Xmx512m -XX:TieredStopAtLevel=1 -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$PORT" \
  -Dquarkus.log.level=WARN -jar "apicurio-registry-app-$VERSION-runner.jar"
