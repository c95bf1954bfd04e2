#!/usr/bin/env bash
# bench_verify.sh — issue 22: `verify --deep` of a one-month archive of N
# calls (default 100,000) against `zstd -dc ARCHIVE | sha256sum` of the
# same archive in the same run (target: at least 0.8x its throughput),
# and the peak RSS of verify (target: at most 64 MiB). --deep with the
# store holds every line to the store (the call's versions, and which
# archive records it); --no-store reads the same bytes without it.
# Each is timed by wall clock and by CPU (user + system, children
# included): on a shared machine the CPU ratio is the steadier one.
#
# usage: tools/bench/bench_verify.sh [N] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-100000}
BUILD=${2:-build}
CV="$PWD/$BUILD/callvault"
OUT="$PWD/tools/bench/out/verify"
export CALLVAULT_DB="$OUT/bench.db"
# REUSE=1: time the archive of the last run again (same N)
if [ "${REUSE:-0}" != 1 ] || [ ! -e "$CALLVAULT_DB" ]; then
	rm -rf "$OUT" && mkdir -p "$OUT"
	echo "generating $N calls" >&2
	python3 tools/bench/gencalls.py "$N" --locations 1 --months 1 \
		--start 2026-03 --with-location --seed 3 >"$OUT/calls.jsonl"
	"$CV" init >/dev/null
	echo "importing" >&2
	"$CV" import --batch 5000 "$OUT/calls.jsonl" >/dev/null
	echo "archiving" >&2
	"$CV" archive --month 2026-03 --out "$OUT/arch" >/dev/null 2>&1
fi
archive=$(ls "$OUT"/arch/*/2026-03.tar.zst)
size=$(stat -c %s "$archive")
tar_bytes=$(zstd -dc "$archive" | wc -c)

# timed CMD…: sets WALL, CPU (s) and RSS (KiB) of the command
timed() {
	/usr/bin/time -v -o "$OUT/time.txt" "$@" >"$OUT/cmd.out" 2>&1 || true
	WALL=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' \
		"$OUT/time.txt" | awk -F: '{ print ($1 * 60) + $2 }')
	CPU=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' \
		"$OUT/time.txt")
	RSS=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/time.txt")
}
min() { echo "if ($1 < $2) $1 else $2" | bc -l; }
declare -A wall cpu rss
for k in deep nostore base; do wall[$k]=999999; cpu[$k]=999999; rss[$k]=0; done
for i in 1 2 3; do
	for k in base deep nostore; do
		case $k in
		base) timed bash -c "zstd -dc '$archive' | sha256sum" ;;
		deep) timed "$CV" verify --deep "$archive"
		      grep -q "OK (checked against itself and the store" \
			      "$OUT/cmd.out" || { cat "$OUT/cmd.out" >&2; exit 1; } ;;
		nostore) timed "$CV" verify --deep --no-store "$archive" ;;
		esac
		wall[$k]=$(min "$WALL" "${wall[$k]}")
		cpu[$k]=$(min "$CPU" "${cpu[$k]}")
		[ "$RSS" -gt "${rss[$k]}" ] && rss[$k]=$RSS
		echo "run $i $k: wall ${WALL}s cpu ${CPU}s rss ${RSS} KiB" >&2
	done
done
printf 'archive: %d calls, %.1f MB compressed, %.1f MB tar; load %s\n' "$N" \
	"$(echo "$size / 1000000" | bc -l)" "$(echo "$tar_bytes / 1000000" | bc -l)" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
for k in deep nostore base; do
	printf '%-8s wall %6.2f s (%6.1f MB/s, ratio %.2fx)  cpu %6.2f s (ratio %.2fx)  peak RSS %d KiB\n' \
		"$k" "${wall[$k]}" "$(echo "$tar_bytes / 1000000 / ${wall[$k]}" | bc -l)" \
		"$(echo "${wall[base]} / ${wall[$k]}" | bc -l)" "${cpu[$k]}" \
		"$(echo "${cpu[base]} / ${cpu[$k]}" | bc -l)" "${rss[$k]}"
done
