#!/usr/bin/env bash
# Builds the Avro compatibility oracle (pom.xml + Oracle.java) into target/oracle.jar and writes its
# runtime classpath to target/classpath.txt. Idempotent: does nothing when both are newer than the
# sources. Tries Maven offline first (everything in ~/.m2 after the first run), then online.
# Run it as: java -cp "test/oracle/target/oracle.jar:$(cat test/oracle/target/classpath.txt)" sluice.oracle.Oracle
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

jar=target/oracle.jar
cp_file=target/classpath.txt
src=src/main/java/sluice/oracle/Oracle.java

if [[ -f $jar && -f $cp_file && $jar -nt $src && $jar -nt pom.xml && $cp_file -nt pom.xml ]]; then
  # Up to date, as long as every jar on the classpath is still in the local repository.
  ok=1
  IFS=: read -r -a entries < "$cp_file" || true  # no trailing newline: read says EOF
  for e in "${entries[@]}"; do [[ -f $e ]] || ok=0; done
  [[ $ok == 1 ]] && exit 0
fi

for tool in java mvn; do
  command -v "$tool" >/dev/null || { echo "build.sh: '$tool' is not on PATH (the oracle needs a JDK 17+ and Maven)" >&2; exit 127; }
done

# -T1 and a small heap: the machines this runs on have two cores shared with other work.
export MAVEN_OPTS="${MAVEN_OPTS:--Xmx512m -XX:TieredStopAtLevel=1}"
mkdir -p target
mvn_args=(-B -q -T1 package)
if ! mvn -o "${mvn_args[@]}" >target/offline-attempt.log 2>&1; then
  mvn "${mvn_args[@]}" || { echo "build.sh: maven build failed (offline attempt: $(pwd)/target/offline-attempt.log)" >&2; exit 1; }
fi
touch "$jar" "$cp_file"
