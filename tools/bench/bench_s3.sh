#!/usr/bin/env bash
# bench_s3.sh — issue 24: archive one month of N calls (default 100,000)
# to a local Ceph RGW (tools/rgw, memstore) with `archive --to`, and
# compare in the same run with
#   - `archive --out DIR` of the same month (the bag without the upload),
#   - callvault's upload path alone (bench_s3put: the s3_upload_* calls
#     archive --to feeds) against `curl --aws-sigv4 -T` uploading the
#     same bytes (the bag just written) as one PUT;
# then `storage verify` (stream + SHA-256 + lock checks) against
# `curl GET | sha256sum` of the same object. Best of R rounds (default 3);
# peak RSS of callvault (/usr/bin/time -v). Stops the RGW it starts.
#
# usage: tools/bench/bench_s3.sh [N] [ROUNDS] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-100000}
R=${2:-3}
BUILD=${3:-build}
CV="$PWD/$BUILD/callvault"
PUT="$PWD/$BUILD/tools/bench/bench_s3put"
OUT="$PWD/tools/bench/out/s3"
tools/rgw available || { echo "bench_s3: tools/bootstrap --s3 first" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"
export CALLVAULT_DB="$OUT/bench.db"
tools/rgw start "$OUT/rgw" --mem-mb 4096 >"$OUT/rgw.env"
trap 'tools/rgw stop "$OUT/rgw"' EXIT
. "$OUT/rgw.env"
umask 077
printf '%s\n' "$RGW_ACCESS_KEY" >"$OUT/ak"
printf '%s\n' "$RGW_SECRET_KEY" >"$OUT/sk"
S3=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$RGW_ACCESS_KEY:$RGW_SECRET_KEY")
curl -sf "${S3[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	-H "x-amz-bucket-object-lock-enabled: true" -X PUT "$RGW_ENDPOINT/bench"

echo "generating and importing $N calls" >&2
python3 tools/bench/gencalls.py "$N" --locations 1 --months 1 \
	--start 2026-03 --with-location --seed 3 >"$OUT/calls.jsonl"
"$CV" init >/dev/null
nice "$CV" import --batch 5000 "$OUT/calls.jsonl" >/dev/null
"$CV" retention set --keep-months 12 >/dev/null
"$CV" storage add rgw --endpoint "$RGW_ENDPOINT" --bucket bench \
	--prefix b --path-style --access-key-file "$OUT/ak" \
	--secret-key-file "$OUT/sk" >/dev/null

reset_store() {
	sqlite3 "$CALLVAULT_DB" "DELETE FROM archive_remote;
		DELETE FROM archive_baginfo; DELETE FROM archive_calls;
		DELETE FROM archives"
}
secs() { echo "$2 - $1" | bc -l; }
rss_of() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }
best() { echo "if ($1 < $2) $1 else $2" | bc -l; }

b_s3=9999 b_dir=9999 b_curl=9999 b_ver=9999 b_get=9999 b_up=9999 rss=0 vrss=0 drss=0 urss=0
for i in $(seq "$R"); do
	reset_store
	t0=$(date +%s.%N)
	/usr/bin/time -v -o "$OUT/t1" "$CV" archive --month 2026-03 \
		--to rgw >"$OUT/arch.out"
	t1=$(date +%s.%N)
	s3=$(secs "$t0" "$t1")
	r=$(rss_of "$OUT/t1"); [ "$r" -gt "$rss" ] && rss=$r
	url=$(grep -o 's3://bench/[^ ]*' "$OUT/arch.out")
	key=${url#s3://bench/}
	t0=$(date +%s.%N)
	/usr/bin/time -v -o "$OUT/t2" "$CV" storage verify rgw >/dev/null
	t1=$(date +%s.%N)
	ver=$(secs "$t0" "$t1")
	r=$(rss_of "$OUT/t2"); [ "$r" -gt "$vrss" ] && vrss=$r
	# the same bytes, to a file, for curl -T (not timed)
	curl -sf "${S3[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		-o "$OUT/bag.tar.zst" "$RGW_ENDPOINT/bench/$key"
	t0=$(date +%s.%N)
	curl -sf "${S3[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		-T "$OUT/bag.tar.zst" "$RGW_ENDPOINT/bench/curl-$i.tar.zst" \
		-o /dev/null
	t1=$(date +%s.%N)
	cu=$(secs "$t0" "$t1")
	t0=$(date +%s.%N)
	/usr/bin/time -v -o "$OUT/t4" "$PUT" "$RGW_ENDPOINT" bench \
		"cv-$i.tar.zst" "$OUT/bag.tar.zst" "$OUT/ak" "$OUT/sk"
	t1=$(date +%s.%N)
	up=$(secs "$t0" "$t1")
	r=$(rss_of "$OUT/t4"); [ "$r" -gt "$urss" ] && urss=$r
	t0=$(date +%s.%N)
	curl -sf "${S3[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		"$RGW_ENDPOINT/bench/$key" | sha256sum >/dev/null
	t1=$(date +%s.%N)
	get=$(secs "$t0" "$t1")
	reset_store
	rm -rf "$OUT/dir"
	t0=$(date +%s.%N)
	/usr/bin/time -v -o "$OUT/t3" "$CV" archive --month 2026-03 \
		--out "$OUT/dir" >/dev/null
	t1=$(date +%s.%N)
	dir=$(secs "$t0" "$t1")
	r=$(rss_of "$OUT/t3"); [ "$r" -gt "$drss" ] && drss=$r
	echo "round $i: archive --to ${s3}s, --out ${dir}s, upload ${up}s," \
		"curl -T ${cu}s;" \
		"storage verify ${ver}s, curl|sha256sum ${get}s" >&2
	b_s3=$(best "$s3" "$b_s3"); b_dir=$(best "$dir" "$b_dir")
	b_curl=$(best "$cu" "$b_curl"); b_ver=$(best "$ver" "$b_ver")
	b_get=$(best "$get" "$b_get"); b_up=$(best "$up" "$b_up")
done
size=$(stat -c %s "$OUT/bag.tar.zst")
mb() { echo "$size / 1048576 / $1" | bc -l | xargs printf '%.1f'; }
printf 'bag: %.1f MiB (%d calls)\n' "$(echo "$size / 1048576" | bc -l)" "$N"
printf 'archive --to rgw:   %6.2f s  %s MiB/s of bag  peak RSS %d MiB\n' \
	"$b_s3" "$(mb "$b_s3")" $((rss / 1024))
printf 'archive --out dir:  %6.2f s  %s MiB/s  peak RSS %d MiB\n' "$b_dir" \
	"$(mb "$b_dir")" $((drss / 1024))
printf 'callvault upload:   %6.2f s  %s MiB/s  peak RSS %d MiB (bench_s3put)\n' \
	"$b_up" "$(mb "$b_up")" $((urss / 1024))
printf 'curl -T (one PUT):  %6.2f s  %s MiB/s; ratio %.2f\n' "$b_curl" \
	"$(mb "$b_curl")" "$(echo "$b_curl / $b_up" | bc -l)"
printf 'storage verify:     %6.2f s  %s MiB/s  peak RSS %d MiB\n' \
	"$b_ver" "$(mb "$b_ver")" $((vrss / 1024))
printf 'curl | sha256sum:   %6.2f s  %s MiB/s; ratio %.2f\n' "$b_get" \
	"$(mb "$b_get")" "$(echo "$b_get / $b_ver" | bc -l)"
