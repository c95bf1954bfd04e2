#!/usr/bin/env bash
# bench_recarchive.sh — issue 20: archive one month with N recordings of
# about MB megabytes each (defaults 500 and 1, i.e. ~500 MB of WAV;
# issue 20 names 5,000 x 1 MB, scale up with the arguments) and compare,
# in the same run, with a stock pipeline over the same payload files:
#   tar -cf - data | zstd -3 -T0   plus   sha256sum of every payload file.
# Reports MB/s of payload (the bag's data/ bytes), peak RSS of `callvault
# archive` (/usr/bin/time -v) and the compression ratio. The recordings
# come from tests/mkrec (16-bit 8 kHz mono: a tone plus noise — real
# speech compresses differently, so the ratio is a property of this
# synthetic audio, the same for both sides).
#
# callvault fsyncs the archive (it must survive a crash) and the baseline
# does not: on a disk the comparison includes that flush. BENCH_OUT=DIR
# (e.g. /dev/shm/x, where a flush is free) compares the work alone.
#
# usage: [BENCH_OUT=DIR] tools/bench/bench_recarchive.sh [N] [MB] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/bench/lib.sh
N=${1:-500}
MB=${2:-1}
BUILD=${3:-build}
CV="$PWD/$BUILD/callvault"
MKREC="$PWD/$BUILD/tests/mkrec"
OUT=${BENCH_OUT:-$PWD/tools/bench/out/recarchive}
rm -rf "$OUT" && mkdir -p "$OUT"
export CALLVAULT_DB="$OUT/bench.db"

store_with_recordings "$N" "$MB"

. tests/rec_lib.sh

# the same payload files on disk, for the baseline
reset_archives
"$CV" archive --month 2026-03 --out "$OUT/arch" --level 3 >/dev/null
archive=$(ls "$OUT"/arch/*/2026-03.tar.zst)
mkdir -p "$OUT/base"
tar --zstd -xf "$archive" -C "$OUT/base"
bagdir=$(ls -d "$OUT"/base/*/)
payload=$(sed -n 's/^Payload-Oxum: \([0-9]*\)\..*/\1/p' "$bagdir/bag-info.txt")
files=$(sed -n 's/^Payload-Oxum: [0-9]*\.\([0-9]*\)/\1/p' "$bagdir/bag-info.txt")
wav=$(du -cb "$bagdir"/data/recordings/*.wav | tail -1 | cut -f1)

baseline() { stock_pipeline "$bagdir" data "$OUT/base.tar.zst"; }
measure_run() {
	size=$(stat -c %s "$OUT"/arch.run/*/2026-03.tar.zst)
	rm -rf "$OUT/arch.run"
}

time_rounds callvault reset_archives measure_run baseline -- \
	"$CV" archive --month 2026-03 --out "$OUT/arch.run" --level 3
base_size=$(stat -c %s "$OUT/base.tar.zst")
mbs_cv=$(echo "$payload / 1000000 / $best_cv" | bc -l)
mbs_base=$(echo "$payload / 1000000 / $best_base" | bc -l)
printf 'calls:              %d, %d with a recording (%.1f MB of WAV)\n' \
	"$calls" "$N" "$(echo "$wav / 1000000" | bc -l)"
printf 'payload:            %.1f MB in %d files\n' \
	"$(echo "$payload / 1000000" | bc -l)" "$files"
printf 'callvault archive:  %.2f s (best of 3), %.1f MB/s, peak RSS %.1f MiB (target <= 128)\n' \
	"$best_cv" "$mbs_cv" "$(echo "$rss / 1024" | bc -l)"
printf 'baseline pipeline:  %.2f s (best of 3), %.1f MB/s\n' "$best_base" "$mbs_base"
printf 'throughput ratio:   %.2f (target >= 1.0)\n' "$(echo "$mbs_cv / $mbs_base" | bc -l)"
printf 'compression ratio:  %.3f:1 (archive %.1f MB; baseline tar.zst %.1f MB)\n' \
	"$(echo "$payload / $size" | bc -l)" "$(echo "$size / 1000000" | bc -l)" \
	"$(echo "$base_size / 1000000" | bc -l)"
