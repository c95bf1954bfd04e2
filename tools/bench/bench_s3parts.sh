#!/usr/bin/env bash
# Issue 24: how fast the local RGW takes a multipart upload by part size,
# against one PUT of the same bytes, both by curl (no payload hashes, two
# parts at a time): what a streamed multipart upload can reach on this
# engine at best, whoever the client.
# usage: tools/bench/bench_s3parts.sh [MIB (65)] [ROUNDS (3)]
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/bench/lib.sh
MIB=${1:-65}
R=${2:-3}
OUT="$PWD/tools/bench/out/s3parts"
tools/rgw available || { echo "bench_s3parts: tools/bootstrap --s3 first" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"
rgw_start 4096
head -c $((MIB * 1048576)) /dev/urandom >"$OUT/blob"
SIZES=(8 16 32 64)
for mb in "${SIZES[@]}"; do   # not timed
	mkdir "$OUT/p$mb"
	split -b $((mb * 1048576)) -d -a 3 "$OUT/blob" "$OUT/p$mb/p"
	for f in "$OUT/p$mb"/p???; do md5sum <"$f" | cut -c1-32 >"$f.md5"; done
done
now() { date +%s.%N; }
h=(-H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
# mpu KEY DIR: DIR's parts as one multipart upload, two at a time
mpu() {
	local id n=0 f x args=(-s --parallel --parallel-max 2)
	id=$(curl -sf "${S3[@]}" "${h[@]}" -X POST "$RGW_ENDPOINT/bench/$1?uploads=" |
		sed -n 's:.*<UploadId>\(.*\)</UploadId>.*:\1:p')
	x="<CompleteMultipartUpload>"
	for f in "$2"/p???; do
		n=$((n + 1))
		[ $n -gt 1 ] && args+=(--next)
		args+=("${S3[@]}" -sf "${h[@]}" -T "$f" -o /dev/null
			"$RGW_ENDPOINT/bench/$1?partNumber=$n&uploadId=$id")
		x+="<Part><PartNumber>$n</PartNumber><ETag>\"$(cat "$f.md5")\"</ETag></Part>"
	done
	curl "${args[@]}" 2>/dev/null
	curl -sf "${S3[@]}" "${h[@]}" -X POST -o /dev/null \
		--data-binary "$x</CompleteMultipartUpload>" \
		"$RGW_ENDPOINT/bench/$1?uploadId=$id"
}
declare -A best
for r in $(seq "$R"); do
	t0=$(now)
	curl -sf "${S3[@]}" "${h[@]}" -T "$OUT/blob" -o /dev/null "$RGW_ENDPOINT/bench/put$r"
	t=$(secs "$t0" "$(now)")
	best[put]=$(best "${best[put]:-999}" "$t")
	line=$(printf 'round %d: one PUT %.2fs' "$r" "$t")
	for mb in "${SIZES[@]}"; do
		t0=$(now)
		mpu "mpu$mb-$r" "$OUT/p$mb"
		t=$(secs "$t0" "$(now)")
		best[$mb]=$(best "${best[$mb]:-999}" "$t")
		line+=$(printf ', %d MiB parts %.2fs' "$mb" "$t")
	done
	echo "$line; load $(cut -d' ' -f1 /proc/loadavg)"
done
printf '\n%d MiB, best of %d: one PUT %.2f s\n' "$MIB" "$R" "${best[put]}"
for mb in "${SIZES[@]}"; do
	printf '  %2d MiB parts: %.2f s, %.2fx one PUT\n' "$mb" "${best[$mb]}" \
		"$(echo "${best[put]} / ${best[$mb]}" | bc -l)"
done
