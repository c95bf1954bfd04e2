#!/usr/bin/env bash
# Integration test of issue 22's verify --deep throughput work: the
# manifests' digests are computed off the reading thread (two lanes, a
# slot of bytes at a time, tests/flip_bag.py damages one thing in a bag),
# and what they find is still reported for the right file and algorithm,
# wherever the damage is.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
A="$T/archives"
X="$T/x"

python3 "$SRC/tools/bench/gencalls.py" 30 --seed 17 --locations 1 \
	--start 2026-01 --months 1 --with-location >"$T/calls.jsonl"
cv init >/dev/null
cv import "$T/calls.jsonl" >/dev/null
expect_exit "archive the month" 0 cv archive --month 2026-01 --out "$A"
M=$(ls "$A"/*/2026-01.tar.zst)
expect_exit "verify --deep: intact" 0 cv verify --deep "$M"

F="$T/f.tar.zst"
flip() { python3 "$SRC/tests/flip_bag.py" "$@"; }
# cv_flipped DESC FILE ALG… : verify --deep reports exactly those digests
# of FILE as not matching, and nothing else
cv_flipped() {
	local d=$1 file=$2
	shift 2
	expect_exit "$d" 3 cv verify --deep "$F"
	for alg in "$@"; do
		expect "$d: $alg named" grep -qxF "$F: BAD $file: checksum does not match manifest-$alg.txt" "$T/out"
	done
	expect_eq "$d: nothing else" "$(grep -c BAD "$T/out")" "$#"
}
# a large member (5 MB after it: its digests come back while the lanes
# work on later slots), damaged near its end
rm -rf "$X" && mkdir -p "$X" && tar --zstd -xf "$M" -C "$X"
python3 "$SRC/tests/hostile_bag.py" "$(ls -d "$X"/*)" "$T/big.tar.zst" \
	--zeros data/big.bin:3000000 --zeros data/pad.bin:2000000
expect_exit "the large bag is intact" 0 cv verify --deep "$T/big.tar.zst"
flip "$T/big.tar.zst" "$F" --byte data/big.bin:-5
cv_flipped "a byte late in a large member" data/big.bin sha256 sha512
flip "$T/big.tar.zst" "$F" --byte data/pad.bin:-1
cv_flipped "the last byte of the last payload file" data/pad.bin sha256 sha512
# the month's last payload file with bytes is a small one
last=$(tar --zstd -tvf "$M" | awk '$3 > 0 && $6 ~ /\/data\// { f = $6 } END { sub(/^[^\/]*\//, "", f); print f }')
expect_eq "the month's last payload file" "$last" data/outcomes.csv
flip "$M" "$F" --byte "$last:-3"
cv_flipped "a byte in a small last member" "$last" sha256 sha512
# one algorithm's digest only, the tag manifest made to match
flip "$M" "$F" --manifest sha512:data/calls.jsonl
cv_flipped "the SHA-512 manifest only" data/calls.jsonl sha512
TR=$(tar --zstd -tf "$M" | grep -m1 "/data/transcripts/." | cut -d/ -f2-)
flip "$M" "$F" --manifest "sha256:$TR"
cv_flipped "the SHA-256 manifest only" "$TR" sha256
# the manifests before the payload: each file compared as it ends
flip "$M" "$F" --tags-first
expect_exit "manifests first, intact" 0 cv verify --deep "$F"
flip "$M" "$F" --tags-first --byte "$TR:0" --manifest sha512:data/versions.jsonl
expect_exit "manifests first, damaged" 3 cv verify --deep "$F"
expect "the damaged file, SHA-256" grep -qxF "$F: BAD $TR: checksum does not match manifest-sha256.txt" "$T/out"
expect "and SHA-512" grep -qxF "$F: BAD $TR: checksum does not match manifest-sha512.txt" "$T/out"
expect "the SHA-512 line" grep -qxF "$F: BAD data/versions.jsonl: checksum does not match manifest-sha512.txt" "$T/out"
expect_eq "nothing else" "$(grep -c BAD "$T/out")" 3
# 600 files of a few bytes: more files end in a slot than its batch
# holds (256), so a slot is handed over before it is full
rm -rf "$X" && mkdir -p "$X" && tar --zstd -xf "$M" -C "$X"
R=$(ls -d "$X"/*)
mkdir "$R/data/tiny"
for i in $(seq 1 600); do echo "n$i" >"$R/data/tiny/$i.txt"; done
python3 "$SRC/tests/hostile_bag.py" "$R" "$T/tiny.tar.zst"
expect_exit "600 small files, intact" 0 cv verify --deep "$T/tiny.tar.zst"
flip "$T/tiny.tar.zst" "$F" --byte data/tiny/599.txt:0 --manifest sha512:data/tiny/3.txt
expect_exit "600 small files, two damaged" 3 cv verify --deep "$F"
expect "the 599th, SHA-256" grep -qxF "$F: BAD data/tiny/599.txt: checksum does not match manifest-sha256.txt" "$T/out"
expect "the 599th, SHA-512" grep -qxF "$F: BAD data/tiny/599.txt: checksum does not match manifest-sha512.txt" "$T/out"
expect "the third's SHA-512 line" grep -qxF "$F: BAD data/tiny/3.txt: checksum does not match manifest-sha512.txt" "$T/out"
expect_eq "no other" "$(grep -c BAD "$T/out")" 3
