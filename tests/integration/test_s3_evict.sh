#!/usr/bin/env bash
# Issue 24: `storage evict` removes local copies of recordings only when
# the bucket itself (a real Ceph RGW, tools/rgw) shows a verified, locked
# copy: --dry-run removes nothing; a version written over a recording, or
# a held call's recording without its legal hold, is refused (exit 3);
# a recording of a call not archived yet is kept; after evicting,
# `recording get` and `check --deep` still work; and a publisher of the
# same bytes for an unarchived call, racing the evict (paused between its
# check and its unlink), keeps its blob.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../rec_lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
MKREC=${MKREC:?set by meson}
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }
. "$(dirname "$0")/../s3_lib.sh"
expect_eq "a bucket with Object Lock" \
	"$(s3 PUT locked -H 'x-amz-bucket-object-lock-enabled: true')" 200
python3 "$SRC/tools/bench/gencalls.py" 120 --seed 11 --locations 1 \
	--start 2026-01 --months 2 --with-location >"$T/calls.jsonl"
cv init >/dev/null
cv import "$T/calls.jsonl" >/dev/null
cv retention set --keep-months 12 >/dev/null
cv storage add rec --endpoint "$EP" --bucket locked --prefix ev \
	--path-style --access-key-file "$T/ak" --secret-key-file "$T/sk" \
	--default >/dev/null
ids() {
	python3 -c '
import json,sys
rs=[json.loads(l) for l in open(sys.argv[1])]
rs=[r for r in rs if r.get("messageId") and r["createdAt"].startswith(sys.argv[2])]
rs.sort(key=lambda r:(r["createdAt"],r["id"]))
print("\n".join(r["id"] for r in rs[:3]))' "$T/calls.jsonl" "$1"
}
mapfile -t jan < <(ids 2026-01)
mapfile -t feb < <(ids 2026-02)
r0=${jan[0]} r1=${jan[1]} r2=${jan[2]} f0=${feb[0]} f1=${feb[1]}
s0=$("$MKREC" "$CALLVAULT_DB" "$r0" 300000)
s1=$("$MKREC" "$CALLVAULT_DB" "$r1" 200000)
s2=$("$MKREC" "$CALLVAULT_DB" "$r2" 100000)
sf=$("$MKREC" "$CALLVAULT_DB" "$f0" 50000)
B="$CALLVAULT_DB.blobs"
blob() { echo "$B/${1:0:2}/$1"; }
bk() { echo "ev/blobs/sha256/$1"; }
nblobs() { find "$B" -path "$B/tmp" -prune -o -type f -print | wc -l; }
# erase_while_fetched DIR CALL REQ OUT CMD...: run `cv CMD` paused once
# it has fetched a recording's bytes (before naming the blob), erase CALL
# (request REQ) meanwhile, let it go on; its output in OUT.out and
# OUT.err, its exit status in st
erase_while_fetched() {
	local d=$1 call=$2 req=$3 out=$4 p
	shift 4
	mkdir -p "$d"
	CALLVAULT_TEST_PAUSE="fetch-before-name:$d" cv "$@" \
		>"$out.out" 2>"$out.err" &
	p=$!
	for _ in $(seq 400); do [ -e "$d/paused" ] && break; sleep 0.05; done
	expect "$1 paused with the bytes fetched" test -e "$d/paused"
	expect_exit "  $call erased meanwhile" 0 \
		cv subject erase --call "$call" --request-id "$req" --reason race
	touch "$d/go"
	wait "$p"
	st=$?
}
# new_version ID SUMMARY: call ID's line of calls.jsonl with a new summary
new_version() {
	python3 -c '
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["id"]==sys.argv[2]:
        r["summary"]=sys.argv[3]
        print(json.dumps(r))' "$T/calls.jsonl" "$1" "$2"
}

expect_exit "nothing archived: nothing to evict" 0 cv storage evict rec
expect "  says so" grep -q "^evicted 0 recording(s), 0 bytes freed" "$T/out"
expect_exit "archive January with its recordings" 0 cv archive --month 2026-01 --to rec
expect_exit "a hold on r0's call" 0 cv hold add --matter M --call "$r0"
expect "  mirrored as a legal hold" grep -q "legal hold ON on recording $(bk "$s0")" "$T/out"

# ---- refusals: the bucket's word, not the store's ----
v0=$(sqlite3 "$CALLVAULT_DB" "SELECT version_id FROM remote_blobs WHERE sha256 = '$s0'")
expect_eq "someone lifts the legal hold in the bucket" \
	"$(s3 PUT "locked/$(bk "$s0")?legal-hold=&versionId=$v0" \
		--data-binary '<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>OFF</Status></LegalHold>')" 200
echo tampered >"$T/tamper"
expect_eq "a new version over r2's recording" \
	"$(s3 PUT "locked/$(bk "$s2")" --data-binary @"$T/tamper")" 200
expect_exit "evict --dry-run: refusals make exit 3" 3 cv storage evict rec --dry-run --verbose
expect "  the held call's recording without a legal hold is refused" \
	grep -q "^REFUSED recording $s0 .*no legal hold" "$T/out"
expect "  the tampered one is refused" \
	grep -q "^REFUSED recording $s2 .*newer version" "$T/out"
expect "  r1's would go" grep -q "^would evict recording $s1 (200000 bytes" "$T/out"
expect "  the unarchived February one is kept" \
	bash -c "! grep -q '$sf' '$T/out'"
expect "  bytes reported" grep -q "^would evict 1 recording(s), 200000 bytes freed (dry run" "$T/out"
expect_eq "  --dry-run removed nothing" "$(nblobs)" 4
expect_eq "  nor audited anything" \
	"$(sqlite3 "$CALLVAULT_DB" "SELECT count(*) FROM audit WHERE command = 'storage-evict'")" 0
expect_exit "storage holds sets the legal hold again" 0 cv storage holds rec

# ---- evict, racing a publisher of the same bytes for a February call ----
first=$(printf '%s\n%s\n' "$s0" "$s1" | sort | head -1)
[ "$first" = "$s0" ] && { fc=$r0 fz=300000; } || { fc=$r1 fz=200000; }
mkdir -p "$T/p"
CALLVAULT_TEST_PAUSE="evict-before-unlink:$T/p" cv storage evict rec \
	>"$T/evict.out" 2>"$T/evict.err" &
ev=$!
publish_during_pause "$T/p" "$fc" "$f1" "$fz" "$T/sp"
st=$?
expect_eq "the publisher ends well: $(cat "$T/sp.err")" "$st" 0
wait "$ev"
st=$?
expect_eq "evict: the tampered one refused, exit 3" "$st" 3
expect_eq "  with the same bytes" "$(cat "$T/sp")" "$first"
expect "r0 and r1 evicted" grep -q "^evicted 2 recording(s), 500000 bytes freed" "$T/evict.out"
expect "  each named" grep -q "^evicted recording $s1 (200000 bytes; verified in rec, version " "$T/evict.out"
expect "  the tampered one refused" grep -q "^REFUSED recording $s2" "$T/evict.out"
expect "  and kept" test -f "$(blob "$s2")"
expect "the February call's blob is local (its month is not archived)" \
	test -f "$(blob "$first")"
expect "  and the unarchived recording kept" test -f "$(blob "$sf")"
other=$([ "$first" = "$s0" ] && echo "$s1" || echo "$s0")
expect "the other evicted one is gone" test ! -e "$(blob "$other")"
expect_eq "each eviction audited" \
	"$(sqlite3 "$CALLVAULT_DB" "SELECT count(*) FROM audit WHERE command = 'storage-evict'")" 2
expect "  naming the version" \
	bash -c "sqlite3 '$CALLVAULT_DB' \"SELECT detail FROM audit WHERE command = 'storage-evict'\" | grep -q '\"versionId\"'"

# ---- still usable ----
expect_exit "check --deep passes" 0 cv check --deep
expect "  counting the recording only in the bucket" \
	grep -q "1 recording(s) kept only in an S3 target" "$T/out"
oc=$([ "$other" = "$s0" ] && echo "$r0" || echo "$r1")
expect_exit "recording get of an evicted recording" 0 cv recording get "$oc" --out "$T/o.wav"
expect_eq "  the named bytes" "$(sha256sum <"$T/o.wav" | cut -d' ' -f1)" "$other"
expect "  cached locally again" test -f "$(blob "$other")"
expect_exit "check --deep" 0 cv check --deep
expect_exit "evict again: the fetched-back copy goes (the tampered one still refused)" 3 cv storage evict rec
expect "  one recording" grep -q "^evicted 1 recording(s), " "$T/out"
expect_exit "backup of a store with an evicted recording" 0 \
	cv backup --out "$T/bk.db"
expect "  copies the local blobs" test -f "$T/bk.db.blobs/${sf:0:2}/$sf"
expect_exit "  and its check passes (the evicted one is in the bucket)" 0 \
	cv --db "$T/bk.db" check --deep
expect_exit "--month 2026-02: nothing there is archived" 0 cv storage evict rec --month 2026-02
expect "  nothing evicted" grep -q "^evicted 0 recording(s)" "$T/out"
expect_exit "--before 2026-01: no January recording" 0 cv storage evict rec --before 2026-01
expect "  nothing evicted" grep -q "^evicted 0 recording(s)" "$T/out"
expect_exit "a bad month" 2 cv storage evict rec --month 2026-13

# ---- evidence, subject export and a supplement fetch an evicted
# recording back ----
expect "the recording of $oc is evicted" test ! -e "$(blob "$other")"
expect_exit "a hold on its call" 0 cv hold add --matter E --call "$oc"
hid=$(sqlite3 "$CALLVAULT_DB" "SELECT max(id) FROM holds")
expect_exit "evidence export of that hold" 0 cv evidence export \
	--hold "$hid" --reason "court order" --out "$T/ev.tar.zst"
expect "  fetched the recording back and cached it" test -f "$(blob "$other")"
expect_eq "  the bag holds the named bytes" \
	"$(tar -I zstd -xOf "$T/ev.tar.zst" --wildcards '*/recording.wav' | sha256sum | cut -d' ' -f1)" "$other"
expect_exit "hold released" 0 cv hold release "$hid" --reason done
expect_exit "evicted again" 3 cv storage evict rec
expect "  gone" test ! -e "$(blob "$other")"
ocontact=$(sqlite3 "$CALLVAULT_DB" "SELECT contact_id FROM calls WHERE id = '$oc'")
expect_exit "subject export of its caller" 0 cv subject export \
	--contact "$ocontact" --out "$T/subj.tar.zst"
expect "  fetched the recording back" test -f "$(blob "$other")"
mkdir -p "$T/subj" && tar -I zstd -xf "$T/subj.tar.zst" -C "$T/subj"
expect "  the package holds the named bytes" bash -c \
	"find '$T/subj' -name 'recording*.wav' -exec sha256sum {} + | grep -q '^$other '"
expect_exit "evicted again" 3 cv storage evict rec
new_version "$oc" "changed after its recording was evicted" >"$T/changed.jsonl"
expect_exit "a new version of the call" 0 cv import "$T/changed.jsonl"
expect_exit "January's supplement, with the call and its recording" 0 \
	cv archive --month 2026-01 --to rec
expect "  fetched the recording back" test -f "$(blob "$other")"
expect_exit "evicted again" 3 cv storage evict rec

# ---- a recording erased while it is being fetched back stays gone ----
cv hold release 1 --reason done >/dev/null
erase_while_fetched "$T/q" "$oc" R2 "$T/get" recording get "$oc" \
	--out "$T/x.wav"
expect_eq "recording get fails (exit 3)" "$st" 3
expect "  saying it was erased" grep -q "erased or purged" "$T/get.err"
expect "  nothing written" test ! -e "$T/x.wav"
expect "the erased recording did not come back" test ! -e "$(blob "$other")"
expect_exit "check: no orphan" 0 cv check
# ---- archive's fetch-back racing an erase (review finding): the archive
# reads inside its own snapshot, where the erased row still shows; the
# fetched blob must be named against the rows as they are now ----
r3=$(python3 -c '
import json,sys
rs=[json.loads(l) for l in open(sys.argv[1])]
rs=[r for r in rs if r.get("messageId") and r["createdAt"].startswith("2026-01")]
rs.sort(key=lambda r:(r["createdAt"],r["id"]))
print(rs[3]["id"])' "$T/calls.jsonl")
s3r=$("$MKREC" "$CALLVAULT_DB" "$r3" 70000)
expect_exit "a supplement with a new recording" 0 cv archive --month 2026-01 --to rec
expect_exit "evicted (the tampered one refused)" 3 cv storage evict rec
expect "  the new recording evicted" test ! -e "$(blob "$s3r")"
new_version "$r3" "changed, to be archived again" >"$T/changed3.jsonl"
expect_exit "a new version of its call" 0 cv import "$T/changed3.jsonl"
narch=$(sqlite3 "$CALLVAULT_DB" "SELECT count(*) FROM archives")
erase_while_fetched "$T/q2" "$r3" R3 "$T/arch" archive --month 2026-01 \
	--to rec
expect_eq "the archive fails (exit 3)" "$st" 3
expect "  saying the recording was erased" grep -q "erased or purged" "$T/arch.err"
expect_eq "  and records no archive" \
	"$(sqlite3 "$CALLVAULT_DB" "SELECT count(*) FROM archives")" "$narch"
expect "the erased recording did not come back" test ! -e "$(blob "$s3r")"
expect_exit "check: no orphan" 0 cv check
finish
