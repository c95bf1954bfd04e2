#!/usr/bin/env bash
# bench_evidence.sh — issue 21: `callvault evidence export` of N calls
# (default 10,000: every call of one month, selected by a filter) against
# a stock pipeline over the same files in the same run:
#   tar -cf - evidence | zstd -3 -T0   plus   sha256sum of every file,
# the files being the package's own, unpacked. Reports both times (best
# of 3), their ratio (baseline time / export time; target >= 0.8), and
# the export's peak RSS (/usr/bin/time -v; target <= 128 MiB).
#
# usage: tools/bench/bench_evidence.sh [N] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/bench/lib.sh
N=${1:-10000}
BUILD=${2:-build}
CV="$PWD/$BUILD/callvault"
OUT="$PWD/tools/bench/out/evidence"
rm -rf "$OUT" && mkdir -p "$OUT"
export CALLVAULT_DB="$OUT/bench.db"

echo "generating and importing $N calls" >&2
python3 tools/bench/gencalls.py "$N" --locations 1 --months 1 \
	--start 2026-03 --with-location --seed 5 >"$OUT/calls.jsonl"
"$CV" init >/dev/null
nice "$CV" import --batch 5000 "$OUT/calls.jsonl" >/dev/null

export_once() { # FILE
	"$CV" evidence export --from 2026-03-01 --reason benchmark \
		--out "$1" >/dev/null
}
# the package's files on disk, for the baseline
export_once "$OUT/first.tar.zst"
mkdir -p "$OUT/base"
tar --zstd -xf "$OUT/first.tar.zst" -C "$OUT/base"
files=$(find "$OUT/base" -type f | wc -l)
bytes=$(du -sb "$OUT/base" | cut -f1)
baseline() { stock_pipeline "$OUT/base" evidence "$OUT/base.tar.zst"; }
remove_run() { rm -f "$OUT/run.tar.zst" "$OUT/run.tar.zst.sha256"; }
nothing() { :; }

time_rounds "evidence export" remove_run nothing baseline -- \
	"$CV" evidence export --from 2026-03-01 --reason benchmark \
	--out "$OUT/run.tar.zst"
printf 'calls:               %d\n' "$N"
printf 'package files:       %d (%.1f MB unpacked; package %.1f MB, baseline tar.zst %.1f MB)\n' \
	"$files" "$(echo "$bytes / 1000000" | bc -l)" \
	"$(echo "$(stat -c %s "$OUT/run.tar.zst") / 1000000" | bc -l)" \
	"$(echo "$(stat -c %s "$OUT/base.tar.zst") / 1000000" | bc -l)"
printf 'evidence export:     %.2f s (best of 3), peak RSS %.1f MiB (target <= 128)\n' \
	"$best_cv" "$(echo "$rss / 1024" | bc -l)"
printf 'baseline pipeline:   %.2f s (best of 3)\n' "$best_base"
printf 'speed ratio:         %.2f (baseline time / export time; target >= 0.80)\n' \
	"$(echo "$best_base / $best_cv" | bc -l)"
