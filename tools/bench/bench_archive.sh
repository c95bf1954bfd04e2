#!/usr/bin/env bash
# bench_archive.sh — issue 6: archive one month of N calls (default 100,000,
# about 140 MB of call-log JSON) and compare with a stock pipeline over the
# same payload files in the same run:
#   tar -cf - data | zstd -3 -T0   plus   sha256sum of every payload file.
# Reports MB/s of payload (the bag's data/ bytes), peak RSS of `callvault
# archive` (/usr/bin/time -v), and the payload compression ratio.
#
# usage: tools/bench/bench_archive.sh [N] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/bench/lib.sh
N=${1:-100000}
BUILD=${2:-build}
CV="$PWD/$BUILD/callvault"
OUT="$PWD/tools/bench/out/archive"
rm -rf "$OUT" && mkdir -p "$OUT"
export CALLVAULT_DB="$OUT/bench.db"

echo "generating $N calls" >&2
python3 tools/bench/gencalls.py "$N" --locations 1 --months 1 \
	--start 2026-03 --with-location --seed 3 >"$OUT/calls.jsonl"
json_bytes=$(stat -c %s "$OUT/calls.jsonl")
"$CV" init >/dev/null
echo "importing" >&2
nice "$CV" import --batch 5000 "$OUT/calls.jsonl" >/dev/null

run_callvault() {
	rm -rf "$OUT/arch"
	"$CV" --db "$CALLVAULT_DB" archive --month 2026-03 --out "$OUT/arch" \
		--level 3 >/dev/null 2>&1 || return 1
}
# forget the archive record between runs so each run writes the month
reset_store() {
	python3 - "$CALLVAULT_DB" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM archive_calls"); db.execute("DELETE FROM archives")
db.commit()
PY
}

# the same payload files on disk, for the baseline
reset_store
run_callvault
archive=$(ls "$OUT"/arch/*/2026-03.tar.zst)
mkdir -p "$OUT/base"
tar --zstd -xf "$archive" -C "$OUT/base"
bagdir=$(ls -d "$OUT"/base/*/)
payload=$(sed -n 's/^Payload-Oxum: \([0-9]*\)\..*/\1/p' "$bagdir/bag-info.txt")
files=$(sed -n 's/^Payload-Oxum: [0-9]*\.\([0-9]*\)/\1/p' "$bagdir/bag-info.txt")

baseline() { stock_pipeline "$bagdir" data "$OUT/base.tar.zst"; }
remove_run() { rm -rf "$OUT/arch.run"; }

time_rounds callvault reset_store remove_run baseline -- \
	nice -n 0 "$CV" archive --month 2026-03 --out "$OUT/arch.run" --level 3
size=$(stat -c %s "$archive")
base_size=$(stat -c %s "$OUT/base.tar.zst")
mbs_cv=$(echo "$payload / 1000000 / $best_cv" | bc -l)
mbs_base=$(echo "$payload / 1000000 / $best_base" | bc -l)
printf 'calls:              %d (%.1f MB of JSON)\n' "$N" \
	"$(echo "$json_bytes / 1000000" | bc -l)"
printf 'payload:            %.1f MB in %d files\n' \
	"$(echo "$payload / 1000000" | bc -l)" "$files"
printf 'callvault archive:  %.2f s (best of 3), %.1f MB/s, peak RSS %.1f MiB\n' \
	"$best_cv" "$mbs_cv" "$(echo "$rss / 1024" | bc -l)"
printf 'baseline pipeline:  %.2f s (best of 3), %.1f MB/s\n' "$best_base" "$mbs_base"
printf 'throughput ratio:   %.2f (target >= 0.80)\n' "$(echo "$mbs_cv / $mbs_base" | bc -l)"
printf 'compression ratio:  %.2f:1 (archive %.1f MB; baseline tar.zst %.1f MB; target >= 6)\n' \
	"$(echo "$payload / $size" | bc -l)" "$(echo "$size / 1000000" | bc -l)" \
	"$(echo "$base_size / 1000000" | bc -l)"
