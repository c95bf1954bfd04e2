#!/usr/bin/env bash
# bench_erase.sh — issue 23: `callvault subject erase --contact K` of one
# person in a store of N generated calls (default 1,000,000; target under
# 1 s, process start included), and what erasing does to a concurrent
# `serve`'s durable webhook throughput, with the baseline measured in the
# same run:
#   A. quiet: ERASES erases of distinct contacts, one after another;
#   B. ROUNDS rounds on the same store, each: WEBHOOKS unique signed
#      VoiceAiCallEnd bodies at concurrency 64 to `serve` (bench_webhook)
#      with nothing else running (the baseline), then the same while
#      erases of further contacts run back to back for the whole burst
#      (the wall time of each of those erases is recorded too).
# The figures are medians (A: of the erases; B: of the rounds, since this
# VM's speed drifts within minutes). The store is checked and the audit
# chain verified at the end.
#
# usage: tools/bench/bench_erase.sh [N] [ERASES] [WEBHOOKS] [ROUNDS]
#        (defaults 1000000 20 20000 3)
# env:   BENCH_DIR (default tools/bench/out/erase), B (build dir, default
#        build), REUSE=1 (keep an existing bench.db: its erased contacts
#        are gone, later ones are taken)
# The calls are tools/bench/gencalls.py's (one contact per ~20 calls);
# generating and importing 1M take minutes and ~10 GB of disk. An
# existing $BENCH_DIR/calls.jsonl is reused.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
ERASES=${2:-20}
WEBHOOKS=${3:-20000}
ROUNDS=${4:-3}
B=${B:-build}
CV=$B/callvault-full
BW=$B/tools/bench/bench_webhook
DIR=${BENCH_DIR:-tools/bench/out/erase}
DB=$DIR/bench.db
. tools/bench/lib.sh
mkdir -p "$DIR"
if [ ! -s "$DIR/calls.jsonl" ]; then
	echo "generating $N calls" >&2
	nice python3 tools/bench/gencalls.py "$N" --with-location \
		--locations 10 --months 12 >"$DIR/calls.jsonl"
fi
[ "${REUSE:-0}" = 1 ] || rm -f "$DB" "$DB-wal" "$DB-shm" "$DB.erasure-key"
if [ ! -s "$DB" ]; then
	echo "importing" >&2
	/usr/bin/time -f "import: %e s, max RSS %M KiB" \
		"$CV" --db "$DB" import "$DIR/calls.jsonl" >&2
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/cvbench.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

# Contacts with calls, spread over the id space: enough for every erase.
need=$((ERASES + ROUNDS * 200))
sqlite3 "$DB" "SELECT contact_id FROM calls WHERE contact_id IS NOT NULL
	GROUP BY contact_id HAVING count(*) >= 5 ORDER BY random()
	LIMIT $need" >"$W/contacts"
[ "$(wc -l <"$W/contacts")" -ge "$need" ] ||
	{ echo "fewer than $need contacts left" >&2; exit 1; }
ncalls=$(sqlite3 "$DB" "SELECT count(*) FROM calls")
: >"$W/failed"
next=1
# erase the next contact: prints "seconds calls"; a failed erase is
# reported, listed in $W/failed, and counted below (not fatal)
erase_next() {
	local k t0 t1 n
	k=$(sed -n "${next}p" "$W/contacts")
	next=$((next + 1))
	t0=$(date +%s%N)
	if ! "$CV" --db "$DB" subject erase --contact "$k" --request-id \
		"bench-$next" --reason benchmark >"$W/erase.out" \
		2>"$W/erase.err"; then
		echo "erase of $k failed: $(cat "$W/erase.err")" >&2
		echo "$k" >>"$W/failed"
	fi
	t1=$(date +%s%N)
	n=$(sed -n 's/^[0-9]* calls\{0,1\} matched: \([0-9]*\) erased.*/\1/p' "$W/erase.out")
	echo "$(( (t1 - t0) / 1000 ))" "${n:-0}" |
		awk '{printf "%.4f %d\n", $1 / 1e6, $2}'
}

echo "== machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg); store: $ncalls calls, $(du -h "$DB" | cut -f1)"
echo "== A: $ERASES erases of one contact each, nothing else running"
: >"$W/a"
for _ in $(seq "$ERASES"); do erase_next >>"$W/a"; done
echo "each (s): $(cut -d' ' -f1 "$W/a" | sort -g | tr '\n' ' ')"
printf 'erase wall: median %s s, max %s s; calls per contact: median %s, max %s\n' \
	"$(cut -d' ' -f1 "$W/a" | median)" "$(cut -d' ' -f1 "$W/a" | sort -g | tail -1)" \
	"$(cut -d' ' -f2 "$W/a" | median)" "$(cut -d' ' -f2 "$W/a" | sort -g | tail -1)"

echo "== B: $ROUNDS rounds of $WEBHOOKS webhooks to serve on this store, alone then while erases run"
"$BW" keygen "$W"
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
"$CV" --db "$DB" serve --listen 127.0.0.1:0 --port-file "$W/port" \
	--public-key "$W/ed25519.pub.pem" 2>"$W/serve.log" &
pid=$!
for _ in $(seq 200); do [ -s "$W/port" ] && break; sleep 0.05; done
P=$(cat "$W/port")
: >"$W/rounds"
: >"$W/b"
for r in $(seq "$ROUNDS"); do
	"$BW" run "$W/ed25519.pem" "$P" "$WEBHOOKS" 64 >"$W/base"
	"$BW" run "$W/ed25519.pem" "$P" "$WEBHOOKS" 64 >"$W/load" &
	gen=$!
	k=0
	while kill -0 "$gen" 2>/dev/null; do erase_next >>"$W/b"; k=$((k + 1)); done
	wait "$gen"
	for f in base load; do
		[ "$(field ok <"$W/$f")" = "$WEBHOOKS" ] ||
			{ echo "round $r: not every webhook got 200" >&2; cat "$W/$f" >&2; exit 1; }
	done
	echo "round $r: alone $(field rate <"$W/base")/s p99 $(field p99_ms <"$W/base") ms;" \
		"with $k erases $(field rate <"$W/load")/s p99 $(field p99_ms <"$W/load") ms"
	echo "$(field rate <"$W/base") $(field p99_ms <"$W/base") $(field rate <"$W/load") $(field p99_ms <"$W/load") $k" >>"$W/rounds"
done
kill -TERM "$pid"; wait "$pid" || true; pid=
base=$(cut -d' ' -f1 "$W/rounds" | median)
load=$(cut -d' ' -f3 "$W/rounds" | median)
printf 'serve alone: %s events/s, p99 %s ms; while erasing: %s events/s, p99 %s ms (%s of the baseline); erases during the bursts: %s\n' \
	"$base" "$(cut -d' ' -f2 "$W/rounds" | median)" "$load" \
	"$(cut -d' ' -f4 "$W/rounds" | median)" \
	"$(awk -v a="$load" -v b="$base" 'BEGIN {printf "%+.1f%%", (a / b - 1) * 100}')" \
	"$(awk '{s += $5} END {print s}' "$W/rounds")"
printf 'erase wall under the webhook load: median %s s, max %s s over %s erases\n' \
	"$(cut -d' ' -f1 "$W/b" | median)" "$(cut -d' ' -f1 "$W/b" | sort -g | tail -1)" \
	"$(wc -l <"$W/b")"
echo "erases that failed: $(wc -l <"$W/failed")"
"$CV" --db "$DB" check >/dev/null && echo "check: ok"
"$CV" --db "$DB" audit --verify
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
