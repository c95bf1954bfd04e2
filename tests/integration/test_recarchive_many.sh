#!/usr/bin/env bash
# Archiving many recordings (issue 20): the bytes pass through hashing
# threads beside zstd (retention/fanout.c), so check what that must not
# change: the manifests list every file in order with the same digests
# whether zstd has workers or not, the bag is what stock tools expect, and
# a blob that lost its bytes stops the archive (exit 3) naming the first
# such blob, early in the month or late.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../rec_lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BAGCHECK="$SRC/tests/bagit_check.py"
MKREC=${MKREC:?set by meson}
BLOBS="$CALLVAULT_DB.blobs"
blobfile() { echo "$1/${2:0:2}/$2"; }
flip() { python3 -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); d[int(sys.argv[2])]^=1; open(p,'wb').write(d)" "$1" "$2"; }

rec_store 260 3 1 "$T/calls.jsonl"
mapfile -t ids < <(rec_ids "$T/calls.jsonl")
expect "more recordings than one check of the hashing threads covers (64)" \
	test "${#ids[@]}" -ge 100
shas=()
for i in "${!ids[@]}"; do
	# sizes around the 256 KiB chunk: under, exactly, over, several
	case $((i % 4)) in
	0) n=$((1000 + i * 37)) ;;
	1) n=262144 ;;
	2) n=$((262144 + 44 + i)) ;;
	3) n=$((3 * 262144 + 17 * i)) ;;
	esac
	shas+=("$("$MKREC" "$CALLVAULT_DB" "${ids[$i]}" "$n")")
done

expect_exit "archive, zstd with 2 workers" 0 \
	cv archive --month 2026-01 --out "$T/a2" --threads 2
reset_archives
expect_exit "archive again, --threads 0" 0 \
	cv archive --month 2026-01 --out "$T/a0" --threads 0
mkdir -p "$T/x2" "$T/x0"
tar --zstd -xf "$T"/a2/*/2026-01.tar.zst -C "$T/x2"
tar --zstd -xf "$T"/a0/*/2026-01.tar.zst -C "$T/x0"
b2=$(ls -d "$T"/x2/*/) b0=$(ls -d "$T"/x0/*/)
expect "same manifest-sha256 either way" cmp "$b2/manifest-sha256.txt" "$b0/manifest-sha256.txt"
expect "same manifest-sha512 either way" cmp "$b2/manifest-sha512.txt" "$b0/manifest-sha512.txt"
expect "sha256sum agrees with the manifest" bash -c "cd '$b2' && sha256sum -c --quiet manifest-sha256.txt"
expect "sha512sum agrees with the manifest" bash -c "cd '$b2' && sha512sum -c --quiet manifest-sha512.txt"
expect_eq "every recording listed once" \
	"$(grep -c '  data/recordings/' "$b2/manifest-sha256.txt")" "${#ids[@]}"
# the manifest lists the recordings in archive order, each with its blob's name
expect_eq "in order, named by their blobs" \
	"$(grep '  data/recordings/' "$b2/manifest-sha256.txt" | cut -d' ' -f1)" \
	"$(printf '%s\n' "${shas[@]}")"
expect "bagit_check.py accepts the bag" python3 "$BAGCHECK" "$T"/a2/*/2026-01.tar.zst
expect_exit "verify --deep" 0 cv verify --deep "$T"/a2/*/2026-01.tar.zst

# damaged blobs: one early (before the first check), one late (after the
# last): the early one is named; then the late one alone
early=${shas[1]} late=${shas[$((${#shas[@]} - 2))]}
for s in "$early" "$late"; do
	cp "$(blobfile "$BLOBS" "$s")" "$T/$s.keep"
	chmod u+w "$(blobfile "$BLOBS" "$s")"
done
flip "$(blobfile "$BLOBS" "$early")" 200000
flip "$(blobfile "$BLOBS" "$late")" 100
reset_archives
expect_exit "two damaged blobs stop the archive" 3 \
	cv archive --month 2026-01 --out "$T/bad" --threads 2
expect "naming the first" grep -q "$early" "$T/err"
expect "not the second" bash -c "! grep -q '$late' '$T/err'"
expect_eq "no archive left" "$(find "$T/bad" -name '*.tar.zst*' | wc -l)" 0
expect_eq "no temp file left" "$(find "$T/bad" -name '*.tmp.*' | wc -l)" 0
cp "$T/$early.keep" "$(blobfile "$BLOBS" "$early")"
expect_exit "the late one alone stops it too" 3 \
	cv archive --month 2026-01 --out "$T/bad" --threads 2
expect "naming it" grep -q "$late" "$T/err"
expect_eq "no archive left" "$(find "$T/bad" -name '*.tar.zst*' | wc -l)" 0
expect_eq "and no record" "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM archives").fetchone()[0])' "$CALLVAULT_DB")" 0
cp "$T/$late.keep" "$(blobfile "$BLOBS" "$late")"
expect_exit "repaired: archived" 0 cv archive --month 2026-01 --out "$T/bad" --threads 2
