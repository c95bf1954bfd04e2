#!/usr/bin/env bash
# bench_sync.sh — `callvault sync` against tools/hlsim behind a burst
# limit, measured against the floor the limit sets.
#
#   A: one location with N1 calls (default 20,000): floor = ceil(N1/50)
#      requests at BURST per WINDOW_MS (100 per 10 s = 40 s unscaled).
#   B: L locations (default 20) with N2 calls each (default 2,000), in
#      parallel: target 1.15x one such location's floor.
#
#   baseline: the calls of B imported from JSONL (the store alone).
#   R: `callvault reconcile` of A's location against the same server
#      (every call listed and compared with the store A left): floor =
#      ceil(N1/50) requests at the same limit; target 1.10x, no 429.
#
# usage: tools/bench/bench_sync.sh [BUILD_DIR] [WINDOW_MS] [N1] [L] [N2]
# (WINDOW_MS 1000 scales HighLevel's 100 requests / 10 s window by 10.)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
WINDOW_MS=${2:-1000}
N1=${3:-20000}
L=${4:-20}
N2=${5:-2000}
BURST=100
CV="$BUILD/callvault"
HLSIM="$BUILD/tools/hlsim/hlsim"
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
W=$(mktemp -d "${TMPDIR:-/tmp}/cvbench-sync.XXXXXX")
SIM_PID=
trap '[ -n "$SIM_PID" ] && kill $SIM_PID 2>/dev/null; rm -rf "$W"' EXIT

jget() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# run NAME LOCATIONS CALLS: start the simulator, add every location,
# time one sync; prints "seconds requests 429s max_window floor"
run() {
	local name=$1 locs=$2 calls=$3
	rm -f "$W/port"
	"$HLSIM" --quiet --seed 3 --locations "$locs" \
		--calls-per-location "$calls" --months 6 --burst $BURST \
		--window-ms "$WINDOW_MS" --port-file "$W/port" \
		--info-file "$W/info" >/dev/null 2>&1 &
	SIM_PID=$!
	for _ in $(seq 600); do [ -s "$W/port" ] && break; sleep 0.05; done
	local url="http://127.0.0.1:$(cat "$W/port")"
	export CALLVAULT_DB="$W/$name.db"
	"$CV" init >/dev/null
	for i in $(seq 0 $((locs - 1))); do
		jget "$W/info" "d['locations'][$i]['pit']" >"$W/pit"
		"$CV" location add "$(jget "$W/info" "d['locations'][$i]['id']")" \
			--no-check --token-file "$W/pit" --api-base "$url" >/dev/null
	done
	local t0 t1
	t0=$(date +%s.%N)
	nice "$CV" sync >"$W/$name.out" 2>"$W/$name.err"
	t1=$(date +%s.%N)
	curl -s "$url/__sim/stats" >"$W/stats"
	kill $SIM_PID; wait $SIM_PID 2>/dev/null || true; SIM_PID=
	local stored
	stored=$(sqlite3 "$CALLVAULT_DB" "SELECT count(*) FROM calls")
	[ "$stored" -eq $((locs * calls)) ] || {
		echo "$name: stored $stored of $((locs * calls))" >&2; exit 1; }
	# floor: one location's call pages at the sustained rate
	local floor
	floor=$($PY -c "import math; print(math.ceil($calls/50) * $WINDOW_MS / $BURST / 1000)")
	printf '%s %.2f %s %s %s %s\n' "$name" \
		"$($PY -c "print($t1 - $t0)")" \
		"$(jget "$W/stats" "d['apiRequests']")" \
		"$(jget "$W/stats" "d['served429']")" \
		"$(jget "$W/stats" "d['maxWindowRequests']")" "$floor"
}

echo "# window: $BURST requests per $WINDOW_MS ms; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# name seconds api_requests served_429 max_requests_in_window floor_seconds"
run one 1 "$N1"
# R: the same server again (same seed: the same calls), the store A left
"$HLSIM" --quiet --seed 3 --locations 1 --calls-per-location "$N1" \
	--months 6 --burst $BURST --window-ms "$WINDOW_MS" \
	--port-file "$W/port.r" >/dev/null 2>&1 &
SIM_PID=$!
for _ in $(seq 600); do [ -s "$W/port.r" ] && break; sleep 0.05; done
export CALLVAULT_DB="$W/one.db"
url="http://127.0.0.1:$(cat "$W/port.r")"
sqlite3 "$CALLVAULT_DB" "UPDATE locations SET api_base = '$url'"
t0=$(date +%s.%N)
rc=0
nice "$CV" reconcile --since 2015-01-01 >"$W/rec.out" 2>"$W/rec.err" || rc=$?
t1=$(date +%s.%N)
curl -s "$url/__sim/stats" >"$W/stats"
kill $SIM_PID; wait $SIM_PID 2>/dev/null || true; SIM_PID=
[ "$rc" -eq 0 ] && grep -q ": complete: listed $N1, stored $N1," "$W/rec.out" || {
	echo "reconcile: exit $rc: $(tail -1 "$W/rec.out")" >&2; exit 1; }
printf 'reconcile %.2f %s %s %s %s\n' "$($PY -c "print($t1 - $t0)")" \
	"$(jget "$W/stats" "d['apiRequests']")" \
	"$(jget "$W/stats" "d['served429']")" \
	"$(jget "$W/stats" "d['maxWindowRequests']")" \
	"$($PY -c "import math; print(math.ceil($N1/50) * $WINDOW_MS / $BURST / 1000)")"
run many "$L" "$N2"
# baseline: the same calls of B through `callvault import` (no HTTP, no
# limits): how fast the store alone takes them
"$HLSIM" --seed 3 --locations "$L" --calls-per-location "$N2" --months 6 \
	--dump "$W/many.jsonl" --dump-only >/dev/null 2>&1
export CALLVAULT_DB="$W/import.db"
"$CV" init >/dev/null
t0=$(date +%s.%N)
nice "$CV" import --source api "$W/many.jsonl" >/dev/null
t1=$(date +%s.%N)
printf 'import-baseline %.2f 0 0 0 -\n' "$($PY -c "print($t1 - $t0)")"
