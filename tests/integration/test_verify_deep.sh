#!/usr/bin/env bash
# Integration test of issue 22's verify --deep: every call and version
# the store recorded as archived is in exactly the archives that say so
# (month and supplement), each at the version recorded.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
A="$T/archives"
sql() { python3 -c "
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for r in db.execute(sys.argv[2]): print(*r, sep='|')
db.commit()" "$CALLVAULT_DB" "$1"; }

python3 "$SRC/tools/bench/gencalls.py" 30 --seed 17 --locations 1 \
	--start 2026-01 --months 1 --with-location >"$T/calls.jsonl"
cv init >/dev/null
cv import "$T/calls.jsonl" >/dev/null
expect_exit "archive the month" 0 cv archive --month 2026-01 --out "$A"
# a second version of two calls: a supplement holds them
head -2 "$T/calls.jsonl" | sed 's/"summary":"/"summary":"Revised: /' >"$T/v2.jsonl"
cv import "$T/v2.jsonl" >/dev/null
expect_exit "archive the supplement" 0 cv archive --month 2026-01 --out "$A"
M=$(ls "$A"/*/2026-01.tar.zst)
S=$(ls "$A"/*/2026-01.1.tar.zst)
expect_exit "verify --deep: month and supplement" 0 cv verify --deep "$M" "$S"
python3 "$SRC/tests/audit_tamper.py" "$CALLVAULT_DB" copy "$T/good.db"

reset() { rm -f "$CALLVAULT_DB-wal" "$CALLVAULT_DB-shm"; cp "$T/good.db" "$CALLVAULT_DB"; }
C1=$(sql "SELECT call_id FROM archive_calls WHERE archive_id = 2 LIMIT 1")
C0=$(sql "SELECT call_id FROM archive_calls WHERE archive_id = 1 AND call_id <> '$C1' LIMIT 1")

# a call recorded in the supplement only, though the month holds it
reset
sql "DELETE FROM archive_calls WHERE archive_id = 1 AND call_id = '$C0'"
expect_exit "a call in an archive that does not record it" 3 \
	cv verify --deep "$M" "$S"
expect "names the call" grep -q "2026-01.tar.zst: BAD data/calls.jsonl: call $C0 is not one the store recorded in this archive" "$T/out"
expect "and its versions" grep -q "BAD data/versions.jsonl: a version of call $C0" "$T/out"
expect_exit "(without --deep it is not seen)" 0 cv verify "$M" "$S"
# the same through another name of the file (a symlinked directory)
ln -s "$A" "$T/alias"
expect_exit "through another name" 3 cv verify --deep \
	"$T/alias/$(basename "$(dirname "$M")")/2026-01.tar.zst"
expect "names the call there too" grep -q "BAD data/calls.jsonl: call $C0 is not one the store recorded in this archive" "$T/out"

# a call the store says the month holds, but it does not
reset
sql "INSERT INTO archive_calls(call_id, archive_id, version_id) SELECT call_id, 2, version_id FROM archive_calls WHERE archive_id = 1 AND call_id = '$C0'"
expect_exit "a recorded call missing from its archive" 3 \
	cv verify --deep "$M" "$S"
expect "names the count" grep -q "2026-01.1.tar.zst: BAD data/calls.jsonl: lacks 1 call(s) the store recorded in this archive" "$T/out"

# the month recorded at the newer version (which only the supplement has)
reset
sql "UPDATE archive_calls SET version_id = (SELECT version_id FROM archive_calls WHERE archive_id = 2 AND call_id = '$C1') WHERE archive_id = 1 AND call_id = '$C1'"
expect_exit "a call at another version than recorded" 3 \
	cv verify --deep "$M" "$S"
expect "names the version" grep -q "2026-01.tar.zst: BAD data/calls.jsonl: call $C1 is not the version the store recorded" "$T/out"

# the supplement recorded at the older version: its newer one is then
# not a version it may hold
reset
sql "UPDATE archive_calls SET version_id = (SELECT version_id FROM archive_calls WHERE archive_id = 1 AND call_id = '$C1') WHERE archive_id = 2 AND call_id = '$C1'"
expect_exit "a version newer than recorded" 3 cv verify --deep "$S"
expect "names it" grep -q "BAD data/versions.jsonl: a version of call $C1 the store does not hold (or newer than the one archived)" "$T/out"

reset
expect_exit "intact again" 0 cv verify --deep "$M" "$S"

# ---- the month's bag rewritten, its manifests made to match: its lines
# are still held, one by one, to what the store recorded of it (none of
# these may pass for the right set: a repeated line is not cancelled out)
cp "$M" "$T/m.good"
cp "$M.sha256" "$T/m.good.sha256"
X="$T/x"
# tamper FILE SCRIPT: python SCRIPT on FILE of a fresh copy of the month
# (argv: the file, the bag's root), made into a bag over the month's file
tamper() {
	rm -rf "$X" && mkdir -p "$X" && tar --zstd -xf "$T/m.good" -C "$X"
	local root
	root=$(ls -d "$X"/*)
	python3 -c "$2" "$root/$1" "$root"
	python3 "$SRC/tests/hostile_bag.py" "$root" "$M"
}
untamper() { cp "$T/m.good" "$M"; cp "$T/m.good.sha256" "$M.sha256"; }
lines='import sys, re; p = sys.argv[1]; L = open(p, "rb").read().split(b"\n")[:-1]
def put(L): open(p, "wb").write(b"\n".join(L) + b"\n")
'

tamper data/calls.jsonl "$lines
L[1] = L[0]; put(L)"
expect_exit "a call's line in place of another's" 3 cv verify --deep "$M"
expect "names the repeated call" grep -q "BAD data/calls.jsonl: a call is in it twice" "$T/out"
expect "and the one missing" grep -q "BAD data/calls.jsonl: lacks 1 call(s) the store recorded in this archive" "$T/out"

# a line three times, bag-info's count raised to match: a sum or XOR of
# the lines' hashes taken mod 2 would not see it
tamper data/calls.jsonl "$lines
put(L + [L[0], L[0]])
i = sys.argv[2] + '/bag-info.txt'; t = open(i).read()
t = re.sub(r'Callvault-Calls: (\d+)', lambda m: 'Callvault-Calls: %d' % (int(m.group(1)) + 2), t)
open(i, 'w').write(t)"
expect_exit "a line three times" 3 cv verify --deep "$M"
expect "names the thrice-seen call" grep -q "BAD data/calls.jsonl: a call is in it twice" "$T/out"
expect_eq "once for each extra line" "$(grep -c "a call is in it twice" "$T/out")" 2
expect_eq "nothing missing" "$(grep -c lacks "$T/out")" 0

tamper data/calls.jsonl "$lines
import json; cid = json.loads(L[0])['id'].encode()
L[0] = L[0].replace(b'\"id\":\"' + cid + b'\"', b'\"id\":\"extra-call-1\"'); put(L)"
expect_exit "a call the store never recorded here" 3 cv verify --deep "$M"
expect "names the extra call" grep -q "BAD data/calls.jsonl: call extra-call-1 is not one the store recorded in this archive" "$T/out"
expect "and the one it replaced" grep -q "lacks 1 call(s)" "$T/out"

# the supplement's newer version of a call in the month's bag
tar --zstd -xOf "$S" --wildcards '*/data/calls.jsonl' | grep "\"id\":\"$C1\"" >"$T/newer"
tamper data/calls.jsonl "$lines
new = open('$T/newer', 'rb').read().rstrip(b'\n')
put([new if b'\"id\":\"$C1\"' in l else l for l in L])"
expect_exit "a newer version than the month recorded" 3 cv verify --deep "$M"
expect "names the call" grep -q "BAD data/calls.jsonl: call $C1 is not the version the store recorded in this archive" "$T/out"

# a version line given to another call of the month (its hash kept)
tamper data/versions.jsonl "$lines
import json; a = json.loads(L[0])['callId'].encode()
b = next(json.loads(l)['callId'].encode() for l in L if json.loads(l)['callId'].encode() != a)
L[0] = L[0].replace(b'\"callId\":\"' + a + b'\"', b'\"callId\":\"' + b + b'\"', 1); put(L)
open('$T/b', 'wb').write(b)"
B=$(cat "$T/b")
expect_exit "a version under another call's id" 3 cv verify --deep "$M"
expect "names the call it was given to" grep -q "BAD data/versions.jsonl: a version of call $B the store does not hold" "$T/out"

untamper
expect_exit "intact once more" 0 cv verify --deep "$M" "$S"
