#!/usr/bin/env bash
# Format-aware storage of a physical MariaDB backup against storing its raw xbstream, on two "nightly"
# backups with a realistic change between them: new rows appended to one table (append-mostly) and
# updates to 1% of another table's rows, clustered by primary key. Prints the bytes each way's second
# snapshot added (new chunk bytes before compression, bytes stored in packs, growth of the repository).
#
#   bench/physical/format-aware.sh [MiB per table, default 128]
# Needs: the built CLI (dist/), MariaDB on 127.0.0.1:3306 (root, no password), mariabackup.
set -euo pipefail
MIB=${1:-128}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SLUICE="node $ROOT/dist/src/cli/main.js"
LOCK="flock -w 600 /tmp/sluice-tests-mariabackup.lock"
DB=bench_physical_$$
WORK=$(mktemp -d /tmp/sluice-bench-physical-XXXXXX)
trap 'mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $DB"; rm -rf "$WORK"' EXIT
cd "$WORK"
echo secret > pw
echo "work directory: $WORK" >&2
ROWS=$((MIB * 1024))
PAYLOAD="CONCAT(SHA2(seq,512),SHA2(seq+1,512),SHA2(seq+2,512),SHA2(seq+3,512),SHA2(seq+4,512),SHA2(seq+5,512),SHA2(seq+6,512),SHA2(seq+7,512))"
mysql -h127.0.0.1 -uroot -e "CREATE DATABASE $DB; USE $DB;
  CREATE TABLE $DB.events (id INT PRIMARY KEY, payload VARBINARY(1024) NOT NULL) ENGINE=InnoDB;
  CREATE TABLE $DB.accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL, payload VARBINARY(1024) NOT NULL) ENGINE=InnoDB;
  INSERT INTO $DB.events SELECT seq, $PAYLOAD FROM seq_1_to_$ROWS;
  INSERT INTO $DB.accounts SELECT seq, 1000, $PAYLOAD FROM seq_1_to_$ROWS;"
# let the server flush the load, as a night would, so the first backup is not mostly redo log
mysql -h127.0.0.1 -uroot -e "SET GLOBAL innodb_max_dirty_pages_pct=0" && sleep 5 && mysql -h127.0.0.1 -uroot -e "SET GLOBAL innodb_max_dirty_pages_pct=90"

$SLUICE init -r aware -p pw >/dev/null 2>&1
$SLUICE init -r raw -p pw >/dev/null 2>&1
ARGS="--databases=mysql $DB"
# Each night's backup is taken once (mariabackup's own xbstream) and stored both ways, so the two
# figures compare storage, not two backups taken a few seconds apart (whose redo logs differ).
mkdir -p replay
night() {
  local n=$1
  mkdir -p "target-$n"
  # every mariabackup run is bounded: it holds the server's backup lock while it runs
  $LOCK timeout 300 mariabackup --backup --stream=xbstream --target-dir="$WORK/target-$n" --host=127.0.0.1 --port=3306 --user=root "$ARGS" > "night-$n.xb" 2> "mariabackup-$n.log"
  # raw: the stream stored whole, as one named stream
  timeout 300 $SLUICE snapshot -r raw -p pw --json --stdin full.xb < "night-$n.xb" > "raw-$n.json"
  # format-aware: snapshot --mariadb reading the same stream (a mariabackup on PATH that replays it)
  printf '#!/bin/sh\nexec cat %s\n' "$WORK/night-$n.xb" > replay/mariabackup && chmod +x replay/mariabackup
  PATH="$WORK/replay:$PATH" timeout 300 $SLUICE snapshot -r aware -p pw --mariadb --db-host 127.0.0.1 -P 3306 --json > "aware-$n.json"
  du -sb aware | cut -f1 > "aware-$n.size"
  du -sb raw | cut -f1 > "raw-$n.size"
}
night 1
# the day's change: 1% more rows appended to events, 1% of accounts updated in one key range
NEW=$((ROWS / 100))
mysql -h127.0.0.1 -uroot $DB -e "INSERT INTO $DB.events SELECT seq, $PAYLOAD FROM seq_$((ROWS + 1))_to_$((ROWS + NEW));
  UPDATE $DB.accounts SET balance = balance + 1 WHERE id BETWEEN $((ROWS / 2)) AND $((ROWS / 2 + NEW - 1));"
mysql -h127.0.0.1 -uroot -e "SET GLOBAL innodb_max_dirty_pages_pct=0" && sleep 5 && mysql -h127.0.0.1 -uroot -e "SET GLOBAL innodb_max_dirty_pages_pct=90"
night 2

node -e '
const fs = require("fs");
const j = (f) => JSON.parse(fs.readFileSync(f, "utf8")).summary;
const n = (f) => Number(fs.readFileSync(f, "utf8"));
const mib = (b) => (b / 1048576).toFixed(1) + " MiB";
for (const way of ["aware", "raw"]) {
  const a = j(way + "-1.json"), b = j(way + "-2.json");
  console.log(`${way.padEnd(6)} night 1: ${mib(a.bytes)} read, ${mib(a.storedBytes)} stored | night 2: ${mib(b.newBytes)} new chunk bytes, ${mib(b.storedBytes)} stored, repository +${mib(n(way + "-2.size") - n(way + "-1.size"))}`);
}
'
