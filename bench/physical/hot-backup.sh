#!/usr/bin/env bash
# Hot physical backup of a running MariaDB, sluice against the stock tools (issue #11, item 7):
#
#   stream   sluice backup --mariadb --stream --compress --parallel=2 > /dev/null
#            (and the same with --compress-threads=2, zstd -T2's thread count)
#            against  mariabackup --backup --stream=xbstream --parallel=2 | zstd -1 -T2 > /dev/null
#            and      mariabackup --backup --stream=xbstream --compress --compress-threads=2 --parallel=2
#                     (MariaDB's own --compress: QuickLZ, deprecated, still there in 10.11)
#   ingest   sluice snapshot --mariadb (a new repository each round)
#            against  mariabackup --backup --stream=xbstream | restic backup --stdin (a new restic repository)
#
# The commands run in turn, round after round (A B C ... A B C ...), so a change in the machine's load
# hits every side alike; the summary gives each side's median wall time and peak RSS, and each sluice
# side's ratio to its stock counterpart, pair by pair, as a median. Peak RSS: GNU time's %M of each
# process of a pipeline; for sluice, node's own VmHWM (read from /proc every 0.2 s) and mariabackup's
# (%M, through a wrapper on PATH) apart. The load average (uptime) is printed with each run.
#
#   bench/physical/hot-backup.sh [ROUNDS, default 3] [DATABASE, default sluice_bench_real_1024]
#
# With SLUICE_BASE=OTHER/dist/src/cli/main.js (another build, say main's), each sluice side also runs
# with that build in the same round ("base ..." sides), for before/after figures taken in turns.
#
# Needs: the built CLI (dist/), MariaDB on 127.0.0.1:3306 (root, no password), mariabackup, zstd,
# restic, GNU time (/usr/bin/time), python3. DATABASE must exist (for the ~1 GB one:
# `node dist/bench/real-data/build.js --dir /dev/shm/sluice-bench`). mariabackup is limited to it with
# --databases. Every mariabackup run holds the test suite's lock, so tests and benches do not overlap.
set -euo pipefail
ROUNDS=${1:-3}
DB=${2:-sluice_bench_real_1024}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SLUICE_JS="$ROOT/dist/src/cli/main.js"
RUN_JS=$SLUICE_JS
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-hot-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
echo secret > pw
export RESTIC_PASSWORD=secret
CONN=(--host=127.0.0.1 --port=3306 --user=root)
RESULTS="$WORK/results"
: > "$RESULTS"

exec 9> /tmp/sluice-tests-mariabackup.lock
# a mariabackup on PATH that records its own peak RSS, for the runs where sluice starts it
mkdir wrap
cat > wrap/mariabackup <<EOF
#!/bin/sh
exec /usr/bin/time -f '%M' -o "$WORK/wrapped-mariabackup.rss" /usr/bin/mariabackup "\$@"
EOF
chmod +x wrap/mariabackup

now() { date +%s.%N; }
load() { cut -d' ' -f1 /proc/loadavg; }
rss_of() { tail -n 1 "$1"; }

# record ROUND NAME WALL MAIN_RSS_KIB OTHER_RSS_KIB LOAD [STORED_BYTES]
record() {
  echo "$*" >> "$RESULTS"
  printf '%-16s round %s: %7.2f s, peak RSS %6d MiB (mariabackup %4d MiB), load %s%s\n' "$2" "$1" "$3" $(($4 / 1024)) $(($5 / 1024)) "$6" "${7:+, stored $(($7 / 1048576)) MiB}" >&2
}

# runs a sluice command (node) in the background, polling its VmHWM; prints "WALL HWM_KIB"
run_sluice() {
  local t0 pid hwm=0 v
  t0=$(now)
  PATH="$WORK/wrap:$PATH" node "$RUN_JS" "$@" > /dev/null 2> sluice.err &
  pid=$!
  while kill -0 "$pid" 2> /dev/null; do
    v=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2> /dev/null || true)
    if [ -n "$v" ] && [ "$v" -gt "$hwm" ]; then hwm=$v; fi
    sleep 0.2
  done
  if ! wait "$pid"; then cat sluice.err >&2; exit 1; fi
  echo "$(awk "BEGIN {print $(now) - $t0}") $hwm"
}

stream_sluice() {
  local round=$1 name=$2; shift 2
  flock -w 900 9
  local load0 out
  load0=$(load)
  out=$(run_sluice backup --mariadb -h 127.0.0.1 -P 3306 -u root --stream --compress --parallel=2 "$@" -- "--databases=$DB")
  flock -u 9
  record "$round" "$name" $out "$(rss_of wrapped-mariabackup.rss)" "$load0"
}

stream_zstd() {
  local round=$1 t0 wall load0
  flock -w 900 9
  load0=$(load)
  rm -rf target
  t0=$(now)
  /usr/bin/time -f '%M' -o mb.rss mariabackup --backup --stream=xbstream --parallel=2 --target-dir="$WORK/target" "${CONN[@]}" "--databases=$DB" 2> mariabackup.log \
    | /usr/bin/time -f '%M' -o zstd.rss zstd -1 -T2 -q > /dev/null
  wall=$(awk "BEGIN {print $(now) - $t0}")
  flock -u 9
  record "$round" "mariabackup|zstd" "$wall" "$(rss_of zstd.rss)" "$(rss_of mb.rss)" "$load0"
}

stream_compress() {
  local round=$1 t0 wall load0
  flock -w 900 9
  load0=$(load)
  rm -rf target
  t0=$(now)
  local status=0
  /usr/bin/time -f '%M' -o mb.rss mariabackup --backup --stream=xbstream --compress --compress-threads=2 --parallel=2 --target-dir="$WORK/target" "${CONN[@]}" "--databases=$DB" 2> mariabackup.log > /dev/null || status=$?
  wall=$(awk "BEGIN {print $(now) - $t0}")
  flock -u 9
  # MariaDB's --compress (deprecated) has crashed here (SIGSEGV): counted, said, and left out of the figures
  if [ "$status" -ne 0 ]; then
    echo "mb --compress    round $round: failed with status $status after $wall s; its last lines:" >&2
    grep -v '^$' mariabackup.log | tail -n 3 >&2
    cp mariabackup.log "${TMPDIR:-/tmp}/sluice-bench-mb-compress-$round.log"
    return
  fi
  record "$round" "mb --compress" "$wall" 0 "$(rss_of mb.rss)" "$load0"
}

ingest_sluice() {
  local round=$1 load0 out
  rm -rf repo-s
  node "$RUN_JS" init -r repo-s -p pw > /dev/null 2>&1
  flock -w 900 9
  load0=$(load)
  out=$(run_sluice snapshot -r repo-s -p pw --mariadb --db-host 127.0.0.1 -P 3306 -u root -- "--databases=$DB")
  flock -u 9
  record "$round" "${2:-sluice snapshot}" $out "$(rss_of wrapped-mariabackup.rss)" "$load0" "$(du -sb repo-s | cut -f1)"
  rm -rf repo-s
}

ingest_restic() {
  local round=$1 t0 wall load0
  rm -rf repo-r target
  restic -r repo-r init -q > /dev/null
  flock -w 900 9
  load0=$(load)
  t0=$(now)
  /usr/bin/time -f '%M' -o mb.rss mariabackup --backup --stream=xbstream --target-dir="$WORK/target" "${CONN[@]}" "--databases=$DB" 2> mariabackup.log \
    | /usr/bin/time -f '%M' -o restic.rss restic -r repo-r backup -q --stdin --stdin-filename full.xb > /dev/null
  wall=$(awk "BEGIN {print $(now) - $t0}")
  flock -u 9
  record "$round" "mb|restic" "$wall" "$(rss_of restic.rss)" "$(rss_of mb.rss)" "$load0" "$(du -sb repo-r | cut -f1)"
  rm -rf repo-r
}

echo "database $DB ($(mysql -h127.0.0.1 -uroot -N -e "SELECT ROUND(SUM(data_length + index_length) / 1048576) FROM information_schema.tables WHERE table_schema = '$DB'") MiB of tables), $ROUNDS rounds, $(nproc) cores, $(mariabackup --version 2>&1 | head -1), $(restic version)" >&2
for round in $(seq 1 "$ROUNDS"); do
  stream_sluice "$round" "sluice stream"
  stream_sluice "$round" "sluice stream t2" --compress-threads=2
  if [ -n "${SLUICE_BASE:-}" ]; then
    RUN_JS=$SLUICE_BASE
    stream_sluice "$round" "base stream"
    stream_sluice "$round" "base stream t2" --compress-threads=2
    RUN_JS=$SLUICE_JS
  fi
  stream_zstd "$round"
  stream_compress "$round"
  ingest_sluice "$round"
  if [ -n "${SLUICE_BASE:-}" ]; then
    RUN_JS=$SLUICE_BASE
    ingest_sluice "$round" "base snapshot"
    RUN_JS=$SLUICE_JS
  fi
  ingest_restic "$round"
done

python3 - "$RESULTS" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
runs = {}
for r in rows:
    round_, rest = r[0], r[1:]
    # the name may hold spaces: the last 4 or 5 fields are figures
    figures = [x for x in rest if x.replace('.', '', 1).isdigit()]
    name = ' '.join(rest[: len(rest) - len(figures)])
    runs.setdefault(name, {})[round_] = [float(x) for x in figures]
med = lambda xs: statistics.median(xs)
print(f"{'side':18} {'wall s':>8} {'peak RSS MiB':>13} {'mariabackup MiB':>16} {'stored MiB':>11}  load")
for name, by_round in runs.items():
    v = list(by_round.values())
    stored = f"{med([x[4] for x in v]) / 1048576:11.0f}" if all(len(x) > 4 for x in v) else ' ' * 11
    main = med([x[1] for x in v]) / 1024
    print(f"{name:18} {med([x[0] for x in v]):8.2f} {(f'{main:.0f}' if main > 0 else '-'):>13} {med([x[2] for x in v]) / 1024:16.0f} {stored}  {' '.join(f'{x[3]:.1f}' for x in v)}")
def ratio(a, b):
    if a not in runs or b not in runs: return
    pairs = [runs[a][k][0] / runs[b][k][0] for k in runs[a] if k in runs[b]]
    if not pairs: return
    print(f"{a} / {b}: wall ratio median {med(pairs):.2f} (pairs {', '.join(f'{p:.2f}' for p in pairs)})")
ratio('sluice stream', 'mariabackup|zstd')
ratio('sluice stream t2', 'mariabackup|zstd')
ratio('sluice stream', 'mb --compress')
ratio('sluice snapshot', 'mb|restic')
ratio('base stream', 'mariabackup|zstd')
ratio('base stream t2', 'mariabackup|zstd')
ratio('base snapshot', 'mb|restic')
ratio('base stream', 'sluice stream')
ratio('base snapshot', 'sluice snapshot')
EOF
