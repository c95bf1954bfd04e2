#!/usr/bin/env bash
# bench_s3.sh — issue 24: archive one month of N calls (default 100,000)
# to a local Ceph RGW (tools/rgw, memstore) with `archive --to`, and
# compare in the same run with
#   - `archive --out DIR` of the same month (the bag without the upload),
#   - callvault's upload path alone (bench_s3put: the s3_upload_* calls
#     archive --to feeds) against `curl --aws-sigv4 -T` uploading the
#     same bytes (the bag just written) as one PUT, and against curl
#     uploading them as a multipart upload of the same 8 MiB parts, two
#     at a time, without payload hashes (RGW's multipart path alone);
#     with the CPU seconds of the client and of the RGW daemons for each;
#     and both with 3 and 4 parts in flight (curl --parallel-max, and
#     CALLVAULT_S3_PARTS_IN_FLIGHT for bench_s3put), to see whether the
#     engine is faster with more parts at once;
# then `storage verify` (stream + SHA-256 + lock checks) against
# `curl GET | sha256sum` of the same object. Best of R rounds (default 3);
# peak RSS of callvault (/usr/bin/time -v). Stops the RGW it starts.
#
# usage: tools/bench/bench_s3.sh [N] [ROUNDS] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/bench/lib.sh
N=${1:-100000}
R=${2:-3}
BUILD=${3:-build}
CV="$PWD/$BUILD/callvault"
PUT="$PWD/$BUILD/tools/bench/bench_s3put"
OUT="$PWD/tools/bench/out/s3"
tools/rgw available || { echo "bench_s3: tools/bootstrap --s3 first" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"
export CALLVAULT_DB="$OUT/bench.db"
rgw_start 4096

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
# curl_mpu KEY [P]: the bag's 8 MiB parts ($OUT/parts) as one multipart
# upload, P (2) parts at a time over one curl process, UNSIGNED-PAYLOAD,
# no MD5
curl_mpu() {
	local id n=0 f x args=(-s --parallel --parallel-max "${2:-2}")
	id=$(curl -sf "${S3[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		-X POST "$RGW_ENDPOINT/bench/$1?uploads=" |
		sed -n 's:.*<UploadId>\(.*\)</UploadId>.*:\1:p')
	x="<CompleteMultipartUpload>"
	for f in "$OUT"/parts/p???; do
		n=$((n + 1))
		[ $n -gt 1 ] && args+=(--next)
		args+=("${S3[@]}" -sf -H "x-amz-content-sha256: UNSIGNED-PAYLOAD"
			-T "$f" -o /dev/null
			"$RGW_ENDPOINT/bench/$1?partNumber=$n&uploadId=$id")
		x+="<Part><PartNumber>$n</PartNumber><ETag>\"$(cat "$f.md5")\"</ETag></Part>"
	done
	curl "${args[@]}"
	curl -sf "${S3[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		-X POST --data-binary "$x</CompleteMultipartUpload>" \
		"$RGW_ENDPOINT/bench/$1?uploadId=$id" -o /dev/null
}

# the upload path with P parts in flight, and curl's multipart with P at a
# time (P = 3, 4): best times and RSS in b_cvP, b_mpP, rss_cvP
declare -A b_x=([cv3]=9999 [cv4]=9999 [mp3]=9999 [mp4]=9999) rss_x=([cv3]=0 [cv4]=0)
more_in_flight() {   # round
	local p t0 t1 r
	for p in 3 4; do
		t0=$(date +%s.%N)
		curl_mpu "mpu$p-$1.tar.zst" "$p"
		t1=$(date +%s.%N)
		b_x[mp$p]=$(best "$(secs "$t0" "$t1")" "${b_x[mp$p]}")
		printf '  curl multipart, %d at a time: %.2fs\n' "$p" "$(secs "$t0" "$t1")" >&2
		t0=$(date +%s.%N)
		CALLVAULT_S3_PARTS_IN_FLIGHT=$p /usr/bin/time -v -o "$OUT/t6" \
			"$PUT" "$RGW_ENDPOINT" bench "cv$p-$1.tar.zst" \
			"$OUT/bag.tar.zst" "$OUT/ak" "$OUT/sk"
		t1=$(date +%s.%N)
		b_x[cv$p]=$(best "$(secs "$t0" "$t1")" "${b_x[cv$p]}")
		r=$(rss_of "$OUT/t6"); [ "$r" -gt "${rss_x[cv$p]}" ] && rss_x[cv$p]=$r
		printf '  upload, %d parts in flight: %.2fs (cpu %.2f)\n' "$p" \
			"$(secs "$t0" "$t1")" "$(cpu_of "$OUT/t6")" >&2
	done
}

b_mp=9999 b_s3=9999 b_dir=9999 b_curl=9999 b_ver=9999 b_get=9999 b_up=9999 rss=0 vrss=0 drss=0 urss=0
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
	if [ ! -d "$OUT/parts" ]; then   # not timed
		mkdir "$OUT/parts"
		split -b 8388608 -d -a 3 "$OUT/bag.tar.zst" "$OUT/parts/p"
		for f in "$OUT"/parts/p???; do
			md5sum <"$f" | cut -d' ' -f1 >"$f.md5"
		done
	fi
	s0=$(srv_cpu); t0=$(date +%s.%N)
	/usr/bin/time -v -o "$OUT/t5" curl -sf "${S3[@]}" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		-T "$OUT/bag.tar.zst" "$RGW_ENDPOINT/bench/curl-$i.tar.zst" \
		-o /dev/null
	t1=$(date +%s.%N); s1=$(srv_cpu)
	cu=$(secs "$t0" "$t1")
	cuc=$(cpu_of "$OUT/t5"); cus=$(echo "$s1 - $s0" | bc -l)
	s0=$(srv_cpu); t0=$(date +%s.%N)
	curl_mpu "mpu-$i.tar.zst"
	t1=$(date +%s.%N); s1=$(srv_cpu)
	mp=$(secs "$t0" "$t1"); mps=$(echo "$s1 - $s0" | bc -l)
	s0=$(srv_cpu); t0=$(date +%s.%N)
	/usr/bin/time -v -o "$OUT/t4" "$PUT" "$RGW_ENDPOINT" bench \
		"cv-$i.tar.zst" "$OUT/bag.tar.zst" "$OUT/ak" "$OUT/sk"
	t1=$(date +%s.%N); s1=$(srv_cpu)
	up=$(secs "$t0" "$t1")
	upc=$(cpu_of "$OUT/t4"); ups=$(echo "$s1 - $s0" | bc -l)
	r=$(rss_of "$OUT/t4"); [ "$r" -gt "$urss" ] && urss=$r
	more_in_flight "$i"
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
	printf 'round %d: upload %.2fs (cpu %.2f, rgw %.2f), curl -T %.2fs (cpu %.2f, rgw %.2f), curl multipart %.2fs (rgw %.2f); load %s\n' \
		"$i" "$up" "$upc" "$ups" "$cu" "$cuc" "$cus" "$mp" "$mps" \
		"$(cut -d' ' -f1 /proc/loadavg)" >&2
	echo "round $i: archive --to ${s3}s, --out ${dir}s, upload ${up}s," \
		"curl -T ${cu}s;" \
		"storage verify ${ver}s, curl|sha256sum ${get}s" >&2
	b_s3=$(best "$s3" "$b_s3"); b_dir=$(best "$dir" "$b_dir")
	b_curl=$(best "$cu" "$b_curl"); b_ver=$(best "$ver" "$b_ver")
	b_get=$(best "$get" "$b_get"); b_up=$(best "$up" "$b_up")
	b_mp=$(best "$mp" "$b_mp")
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
printf 'curl multipart:     %6.2f s  %s MiB/s (8 MiB parts, 2 at a time, no hashes); ratio %.2f\n' \
	"$b_mp" "$(mb "$b_mp")" "$(echo "$b_mp / $b_up" | bc -l)"
for p in 3 4; do
	printf 'upload, %d in flight: %5.2f s  %s MiB/s  peak RSS %d MiB; ratio to curl -T %.2f\n' \
		"$p" "${b_x[cv$p]}" "$(mb "${b_x[cv$p]}")" $((rss_x[cv$p] / 1024)) \
		"$(echo "$b_curl / ${b_x[cv$p]}" | bc -l)"
	printf 'curl multipart, %d:  %5.2f s  %s MiB/s; ratio to curl -T %.2f\n' \
		"$p" "${b_x[mp$p]}" "$(mb "${b_x[mp$p]}")" \
		"$(echo "$b_curl / ${b_x[mp$p]}" | bc -l)"
done
printf 'storage verify:     %6.2f s  %s MiB/s  peak RSS %d MiB\n' \
	"$b_ver" "$(mb "$b_ver")" $((vrss / 1024))
printf 'curl | sha256sum:   %6.2f s  %s MiB/s; ratio %.2f\n' "$b_get" \
	"$(mb "$b_get")" "$(echo "$b_get / $b_ver" | bc -l)"
