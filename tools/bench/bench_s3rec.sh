#!/usr/bin/env bash
# bench_s3rec.sh — issue 24, "once recordings exist, 5 GB of audio":
# archive one month with N recordings of about MB megabytes each
# (defaults 1000 x 1, ~1 GB of WAV; see below for 5 GB) to a local Ceph
# RGW (tools/rgw) with `archive --to`, against curl
# --aws-sigv4 -T uploading the same bytes in the same run: the bag (one
# PUT) and each recording (one PUT each, one curl process, so one
# kept-alive connection), as callvault sends them (the bag, then each
# recording to blobs/sha256/<sha256>). Recordings come from tests/mkrec
# as in bench_recarchive.sh. Peak RSS of callvault (/usr/bin/time -v);
# CPU seconds of the client and the RGW daemons.
#
# Each round stores the audio about four times (in the bag and as
# recordings, by callvault and by curl; locked versions cannot be
# deleted), plus the local blob store and the bag file on disk. On
# memstore (the default) that is RAM: 1 GB of audio is ~4 GB a round.
# For the issue's 5 GB (~20 GB a round) set RGW_DISK_GB (e.g. 40): the
# OSD then runs on bluestore in a sparse file under the output folder.
#
# usage: [RGW_DISK_GB=N] tools/bench/bench_s3rec.sh [N] [MB] [ROUNDS] [BUILD_DIR]
#        5 GB: RGW_DISK_GB=40 tools/bench/bench_s3rec.sh 5000 1
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/bench/lib.sh
N=${1:-1000}
MB=${2:-1}
R=${3:-1}
BUILD=${4:-build}
CV="$PWD/$BUILD/callvault"
MKREC="$PWD/$BUILD/tests/mkrec"
OUT="$PWD/tools/bench/out/s3rec"
tools/rgw available || { echo "bench_s3rec: tools/bootstrap --s3 first" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"
export CALLVAULT_DB="$OUT/bench.db"
mem=$((N * MB * 5 * R + 1024))
rgw_start "$mem" "${RGW_DISK_GB:-0}"

store_with_recordings "$N" "$MB"
"$CV" retention set --keep-months 12 >/dev/null
wav=$(du -cb "$CALLVAULT_DB.blobs" | tail -1 | cut -f1)

b_cv=9999 b_curl=9999 rss=0
for i in $(seq "$R"); do
	# a fresh prefix a round: the month and its recordings are sent anew
	sqlite3 "$CALLVAULT_DB" "DELETE FROM remote_blobs;
		DELETE FROM archive_remote; DELETE FROM archive_media;
		DELETE FROM archive_baginfo; DELETE FROM archive_calls;
		DELETE FROM archives; DELETE FROM storage_targets"
	"$CV" storage add rgw --endpoint "$RGW_ENDPOINT" --bucket bench \
		--prefix "r$i" --path-style --access-key-file "$OUT/ak" \
		--secret-key-file "$OUT/sk" >/dev/null
	s0=$(srv_cpu); t0=$(date +%s.%N)
	/usr/bin/time -v -o "$OUT/t1" "$CV" archive --month 2026-03 \
		--to rgw >"$OUT/arch.out"
	t1=$(date +%s.%N); s1=$(srv_cpu)
	cv=$(secs "$t0" "$t1"); cvs=$(echo "$s1 - $s0" | bc -l)
	r=$(rss_of "$OUT/t1"); [ "$r" -gt "$rss" ] && rss=$r
	url=$(grep -o 's3://bench/[^ ]*tar.zst' "$OUT/arch.out" | head -1)
	# the same bytes as files, for curl (not timed)
	curl -sf "${S3[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		-o "$OUT/bag.tar.zst" "$RGW_ENDPOINT/bench/${url#s3://bench/}"
	{
		echo "upload-file = \"$OUT/bag.tar.zst\""
		echo "url = \"$RGW_ENDPOINT/bench/c$i/bag.tar.zst\""
		echo "output = /dev/null"
		for f in "$CALLVAULT_DB".blobs/*/*; do
			echo "upload-file = \"$f\""
			echo "url = \"$RGW_ENDPOINT/bench/c$i/blobs/${f##*/}\""
			echo "output = /dev/null"
		done
	} >"$OUT/curl.cfg"
	s0=$(srv_cpu); t0=$(date +%s.%N)
	/usr/bin/time -v -o "$OUT/t2" curl -sf "${S3[@]}" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -K "$OUT/curl.cfg"
	t1=$(date +%s.%N); s1=$(srv_cpu)
	cu=$(secs "$t0" "$t1"); cus=$(echo "$s1 - $s0" | bc -l)
	printf 'round %d: archive --to %.2fs (cpu %.2f, rgw %.2f), curl -T %.2fs (cpu %.2f, rgw %.2f); load %s\n' \
		"$i" "$cv" "$(cpu_of "$OUT/t1")" "$cvs" "$cu" "$(cpu_of "$OUT/t2")" \
		"$cus" "$(cut -d' ' -f1 /proc/loadavg)" >&2
	b_cv=$(best "$cv" "$b_cv"); b_curl=$(best "$cu" "$b_curl")
done
bag=$(stat -c %s "$OUT/bag.tar.zst")
sent=$((bag + wav))
mb() { echo "$sent / 1048576 / $1" | bc -l | xargs printf '%.1f'; }
printf 'audio: %.1f MiB in %d recordings; bag %.1f MiB; sent %.1f MiB\n' \
	"$(echo "$wav / 1048576" | bc -l)" "$N" "$(echo "$bag / 1048576" | bc -l)" \
	"$(echo "$sent / 1048576" | bc -l)"
printf 'archive --to rgw:  %7.2f s  %s MiB/s (bag + recordings)  peak RSS %d MiB\n' \
	"$b_cv" "$(mb "$b_cv")" $((rss / 1024))
printf 'curl -T (same):    %7.2f s  %s MiB/s; ratio %.2f (target >= 0.9)\n' \
	"$b_curl" "$(mb "$b_curl")" "$(echo "$b_curl / $b_cv" | bc -l)"
