#!/usr/bin/env bash
# bench_recfetch.sh — `callvault sync` fetching call recordings from
# tools/hlsim (issue 20).
#
#   A: N recordings of ~1 MB (64 s of 8 kHz 16-bit mono: 1,024,044 bytes)
#      and their timed transcriptions, one location behind BURST
#      requests per WINDOW_MS: wall time vs the floor the limit sets
#      (requests / BURST × WINDOW_MS; target 1.10×), and peak RSS
#      (target 64 MiB).
#   B: the same recordings again with no binding limit: bytes/s of
#      callvault (streamed into the blob store, each blob fsync'd)
#      against one curl process downloading the same files with the
#      same parallelism (one request at a time per location; curl does
#      not fsync). Target 0.9×. Also the CPU time (user + sys) each
#      took: on a loaded machine that, not the wall, is what each costs.
#
# The call logs are synced first (--no-media, not timed).
# usage: tools/bench/bench_recfetch.sh [BUILD_DIR] [WINDOW_MS] [N]
# (WINDOW_MS 1000 scales HighLevel's 100 requests / 10 s by 10.)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/bench/lib.sh
BUILD=${1:-build}
WINDOW_MS=${2:-1000}
N=${3:-2000}
BURST=100
CV="$BUILD/callvault"
HLSIM="$BUILD/tools/hlsim/hlsim"
W=$(mktemp -d "${TMPDIR:-/tmp}/cvbench-rec.XXXXXX")
SIM_PID=
trap '[ -n "$SIM_PID" ] && kill $SIM_PID 2>/dev/null; rm -rf "$W"' EXIT
export CALLVAULT_DB="$W/store.db"
# 60% of hlsim's calls carry a messageId
CALLS=$(( (N * 10 + 5) / 6 ))

now() { date +%s.%N; }
# sim BURST: start hlsim (same seed: the same calls every time)
sim() {
	rm -f "$W/port"
	"$HLSIM" --quiet --seed 5 --locations 1 --calls-per-location "$CALLS" \
		--months 3 --burst "$1" --window-ms "$WINDOW_MS" \
		--daily 100000000 --quirk rec-s=64,rec-rate=8000 \
		--port-file "$W/port" --info-file "$W/info" >/dev/null 2>&1 &
	SIM_PID=$!
	for _ in $(seq 600); do [ -s "$W/port" ] && break; sleep 0.05; done
	URL="http://127.0.0.1:$(cat "$W/port")"
}
stop() { kill $SIM_PID; wait $SIM_PID 2>/dev/null || true; SIM_PID=; }
stat_of() { curl -s "$URL/__sim/stats" | jq "$1"; }

sim $BURST
LOC=$(jq -r '.locations[0].id' "$W/info")
jq -r '.locations[0].pit' "$W/info" >"$W/pit"
"$CV" init >/dev/null
"$CV" location add "$LOC" --no-check --token-file "$W/pit" \
	--api-base "$URL" >/dev/null
"$CV" sync --no-media >/dev/null 2>&1
M=$(sql "SELECT count(*) FROM calls WHERE message_id IS NOT NULL")
echo "# $M recordings of 1,024,044 bytes; $BURST requests per $WINDOW_MS ms;" \
	"$(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

# --- A: behind the rate limit
sleep "$(python3 -c "print($WINDOW_MS / 1000 + 0.1)")"
curl -s -X POST "$URL/__sim/reset" >/dev/null
t0=$(now)
/usr/bin/time -f '%M' -o "$W/rss" "$CV" sync >"$W/a.out" 2>"$W/a.err"
t1=$(now)
REQ=$(stat_of .apiRequests)
kept=$(sql "SELECT count(*) FROM recordings")
[ "$kept" -eq "$M" ] || { echo "A: kept $kept of $M" >&2; tail "$W/a.err" >&2; exit 1; }
python3 - "$t0" "$t1" "$REQ" "$(stat_of .served429)" \
	"$(stat_of .maxWindowRequests)" "$(cat "$W/rss")" "$BURST" \
	"$WINDOW_MS" <<'PY'
import sys
t0, t1, req, n429, mx, rss, burst, win = sys.argv[1:]
wall = float(t1) - float(t0)
floor = int(req) / int(burst) * int(win) / 1000
print(f"A wall {wall:.2f} s, {req} requests, floor {floor:.2f} s, "
      f"{wall / floor:.3f}x; 429s {n429}; most in a window {mx}; "
      f"peak RSS {int(rss) / 1024:.1f} MiB")
PY
stop

# --- B: no binding limit; callvault vs curl, one request at a time
sim 100000000
sql "DELETE FROM recordings; UPDATE media_fetch SET state = 'pending',
	next_at = 0, attempts = 0 WHERE kind = 'recording';
	UPDATE media_fetch SET state = 'done' WHERE kind = 'transcription';
	UPDATE locations SET api_base = '$URL'" 2>/dev/null ||
	"$CV" location add "$LOC" --replace --no-check --token-file "$W/pit" \
		--api-base "$URL" >/dev/null
rm -rf "$CALLVAULT_DB.blobs"
sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
t0=$(now)
/usr/bin/time -f '%U %S' -o "$W/b.cpu" "$CV" sync >"$W/b.out" 2>"$W/b.err"
t1=$(now)
kept=$(sql "SELECT count(*) FROM recordings")
[ "$kept" -eq "$M" ] || { echo "B: kept $kept of $M" >&2; tail "$W/b.err" >&2; exit 1; }
BYTES=$(sql "SELECT sum(size) FROM recordings")
mkdir -p "$W/curl"
{
	echo "header = \"Authorization: Bearer $(cat "$W/pit")\""
	echo 'header = "Version: 2021-04-15"'
	sql "SELECT message_id FROM recordings" | while read -r m; do
		echo "url = \"$URL/conversations/messages/$m/locations/$LOC/recording\""
		echo "output = \"$W/curl/$m.wav\""
	done
} >"$W/curl.cfg"
rm -rf "$CALLVAULT_DB.blobs"
sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
c0=$(now)
/usr/bin/time -f '%U %S' -o "$W/c.cpu" curl -s -K "$W/curl.cfg"
c1=$(now)
# the same bytes on disk, as callvault's are (curl leaves them cached)
sync
c2=$(now)
CBYTES=$(du -cb "$W"/curl/*.wav | tail -1 | cut -f1)
python3 - "$t0" "$t1" "$BYTES" "$c0" "$c1" "$c2" "$CBYTES" \
	$(cat "$W/b.cpu") $(cat "$W/c.cpu") <<'PY'
import sys
t0, t1, b, c0, c1, c2, cb, bu, bs, cu_, cs_ = map(float, sys.argv[1:])
cv, cu, cs = b / (t1 - t0), cb / (c1 - c0), cb / (c2 - c0)
print(f"B callvault {b / 1e6:.0f} MB in {t1 - t0:.2f} s = {cv / 1e6:.1f} MB/s; "
      f"curl {cb / 1e6:.0f} MB in {c1 - c0:.2f} s = {cu / 1e6:.1f} MB/s "
      f"(ratio {cv / cu:.2f}x); curl then sync {c2 - c0:.2f} s = "
      f"{cs / 1e6:.1f} MB/s (ratio {cv / cs:.2f}x)")
# on a loaded machine the wall ratio is mostly the scheduler's: CPU time
# (user + sys of the process, every thread) says what each one costs
bc, cc = bu + bs, cu_ + cs_
print(f"B CPU callvault {bc:.2f} s ({b / bc / 1e6:.1f} MB per CPU-s), curl "
      f"{cc:.2f} s ({cb / cc / 1e6:.1f} MB per CPU-s): ratio "
      f"{(b / bc) / (cb / cc):.2f}x")
PY
stop
