#!/usr/bin/env bash
# Integration test of issue 6: archive, the independent BagIt check, the
# stock-tool commands of docs/archives.md, bit flips, supplements and the
# chain, a removed middle archive, restore round trip, holds and purge.
# on tmpfs when there is one: this test fsyncs a lot, the data is small
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
GEN="$SRC/tools/bench/gencalls.py"
BAGCHECK="$SRC/tests/bagit_check.py"
A="$T/archives"

python3 "$GEN" 240 --seed 7 --locations 2 --start 2026-01 --months 3 \
	--with-location >"$T/calls.jsonl"
cv init >/dev/null
expect "import" cv import "$T/calls.jsonl"
check_store
expect_exit "archive three months" 0 cv archive --through 2026-03 --out "$A"
n=$(ls "$A"/*/*.tar.zst | wc -l)
expect_eq "one archive per location-month" "$n" 6
expect_eq "a .sha256 beside each" "$(ls "$A"/*/*.tar.zst.sha256 | wc -l)" 6
expect_eq "no temp files left" "$(find "$A" -name '*.tmp*' -o -name '.callvault-spool*' | wc -l)" 0
check_store

# the independent BagIt check accepts every archive
expect "bagit_check.py accepts all" python3 "$BAGCHECK" "$A"/*/*.tar.zst

# exactly the stock-tool commands of docs/archives.md
sed -n '/<!-- verify-begin -->/,/<!-- verify-end -->/p' "$SRC/docs/archives.md" |
	sed '/^<!--/d; /^```/d' >"$T/stock.sh"
expect "docs block is there" test -s "$T/stock.sh"
one=$(ls "$A"/*/2026-02.tar.zst | head -1)
expect "stock tools verify an archive" env ARCHIVE="$one" bash "$T/stock.sh"

# again: nothing changed, nothing written
cv archive --through 2026-03 --out "$A" >"$T/out"
expect_eq "rerun writes nothing" "$(tail -1 "$T/out")" "0 archive(s) written"
expect_eq "still six" "$(ls "$A"/*/*.tar.zst | wc -l)" 6

expect_exit "verify all" 0 cv verify "$A"/*/*.tar.zst
expect_exit "verify --deep" 0 cv verify --deep "$one"

# one flipped bit anywhere makes verify exit 3, naming the file
size=$(stat -c %s "$one")
mkdir -p "$T/flip"
for off in 0 100 $((size / 2)) $((size - 1)); do
	cp "$one" "$T/flip/x.tar.zst"
	cp "$one.sha256" "$T/flip/x.tar.zst.sha256"
	sed -i 's/2026-02.tar.zst/x.tar.zst/' "$T/flip/x.tar.zst.sha256"
	python3 -c "import sys; p=sys.argv[1]; o=int(sys.argv[2]); d=bytearray(open(p,'rb').read()); d[o]^=0x10; open(p,'wb').write(d)" "$T/flip/x.tar.zst" "$off"
	expect_exit "flip at $off" 3 cv verify --no-store "$T/flip/x.tar.zst"
	expect "flip at $off: names the file" grep -q "BAD .*x.tar.zst" "$T/out"
	expect "flip at $off: bagit_check rejects" \
		bash -c "! python3 '$BAGCHECK' '$T/flip/x.tar.zst' 2>/dev/null"
done
# a flipped bit in the .sha256 file
cp "$one" "$T/flip/x.tar.zst"
# (the first hex digit of the hash changed to another one: a fixed
# replacement digit would leave a hash that starts with it unchanged)
sha256sum "$T/flip/x.tar.zst" | python3 -c "import sys; l=sys.stdin.read(); print('%x' % ((int(l[0], 16) + 1) % 16) + l[1:], end='')" | sed "s|$T/flip/||" >"$T/flip/x.tar.zst.sha256"
expect_exit "flip in the .sha256" 3 cv verify --no-store "$T/flip/x.tar.zst"

# late arrivals: a chained supplement
loc=$(basename "$(dirname "$one")")
python3 "$GEN" 12 --seed 7 --locations 2 --start 2026-02 --months 1 \
	--with-location --id-prefix late >"$T/late.jsonl"
cv import "$T/late.jsonl" >/dev/null
check_store
expect_exit "archive the late calls" 0 cv archive --month 2026-02 --out "$A"
sup="$A/$loc/2026-02.1.tar.zst"
expect "supplement written" test -f "$sup"
expect "supplement is a bag" python3 "$BAGCHECK" "$sup"
mkdir -p "$T/x1" "$T/x2"
tar --zstd -xf "$sup" -C "$T/x1"
tar --zstd -xf "$A/$loc/2026-03.tar.zst" -C "$T/x2"
prev=$(sed -n 's/^Previous-Bag-Tagmanifest-SHA256: //p' "$T"/x1/*/bag-info.txt)
want=$(sha256sum "$T"/x2/*/tagmanifest-sha256.txt | cut -d' ' -f1)
expect_eq "supplement chained to the archive before it" "$prev" "$want"
expect_eq "supplement holds only the late calls" \
	"$(grep -c '"id":"late' "$T"/x1/*/data/calls.jsonl)" \
	"$(wc -l <"$T"/x1/*/data/calls.jsonl)"
expect_exit "verify with the supplement" 0 cv verify "$A/$loc"/*.tar.zst

# a removed middle archive is a chain break
mkdir -p "$T/away"
mv "$A/$loc/2026-02.tar.zst" "$A/$loc/2026-02.tar.zst.sha256" "$T/away/"
expect_exit "missing middle archive" 3 cv verify "$A/$loc"/*.tar.zst
expect "reported as a chain break" grep -q "chain break" "$T/out"
expect_exit "missing middle, store knows" 3 cv verify "$A/$loc/2026-03.tar.zst"
mv "$T/away/"* "$A/$loc/"

# restore into an empty store, archive again: identical payload files
first="$A/$loc/2026-01.tar.zst"
R="$T/restored.db"
expect_exit "restore" 0 cv --db "$R" restore "$first"
expect "restored store passes check" cv --db "$R" check
id=$(head -1 "$T/calls.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
cv --db "$R" archive --month 2026-01 --location "$(cv --db "$R" stats 2>/dev/null | true; basename "$(dirname "$first")")" --out "$T/again" >/dev/null
again="$T/again/$loc/2026-01.tar.zst"
expect "re-archived" test -f "$again"
mkdir -p "$T/o" "$T/n"
tar --zstd -xf "$first" -C "$T/o"
tar --zstd -xf "$again" -C "$T/n"
expect "payload files byte-identical (audit.jsonl aside)" \
	diff -r -x audit.jsonl "$T"/o/*/data "$T"/n/*/data
expect_exit "restore again adds nothing" 0 cv --db "$R" restore "$first"
expect "second restore: 0 versions added" grep -q " 0 versions added" "$T/out"

# holds and purge
cv retention set --keep-months 0 >/dev/null
expect "retention show" bash -c "'$CALLVAULT' retention show | grep -q 'keep 0'"
held_contact=$(python3 -c '
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r.get("contactId") and r["createdAt"].startswith("2026-01"):
        print(r["contactId"]); break' "$T/calls.jsonl")
expect_exit "hold add" 0 cv hold add --matter "Smith v. Acme" --contact "$held_contact" --reason test
expect_exit "hold add (a second matter)" 0 cv hold add --matter "Audit" --contact "$held_contact"
expect_exit "hold without criteria refused" 2 cv hold add --matter X
# an unarchived late January call
python3 "$GEN" 1 --seed 7 --locations 2 --start 2026-01 --months 1 \
	--with-location --id-prefix unarch >"$T/unarch.jsonl"
cv import "$T/unarch.jsonl" >/dev/null
unarch=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/unarch.jsonl")
# archives written but not verified since the supplement: verify all now
cv verify "$A"/*/*.tar.zst >/dev/null
cv purge --dry-run >"$T/dry"
expect "dry run says why a held call stays" grep -q "legal hold" "$T/dry"
expect "dry run says why an unarchived call stays" grep -q "keep $unarch.*not every version" "$T/dry"
before=$(cv stats | head -3)
expect "dry run changes nothing" test "$(cv stats | head -3)" = "$before"
expect_exit "purge" 0 cv purge
check_store
expect "unarchived call kept" cv show "$unarch"
python3 - "$T/calls.jsonl" "$held_contact" >"$T/held_ids" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("contactId") == sys.argv[2]:
        print(r["id"])
PY
for h in $(head -3 "$T/held_ids"); do
	expect "held call $h kept" cv show "$h"
done
gone=$(python3 -c '
import json,sys
held=set(open(sys.argv[2]).read().split())
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["id"] not in held:
        print(r["id"]); break' "$T/calls.jsonl" "$T/held_ids")
expect_exit "an archived, unheld call is gone" 1 cv show "$gone"
# releasing one matter does not free a call the other still holds; a
# release needs a reason, kept on the hold and in the audit entry
expect_exit "release without --reason refused" 2 cv hold release 1
expect_exit "release with an empty reason refused" 2 cv hold release 1 --reason ""
cv hold release 1 --reason "settled" >/dev/null
expect_eq "the release's reason on the hold" \
	"$(cv hold show 1 | sed -n 's/.*released .* by .*: //p')" settled
expect_eq "the release's audit entry names hold, matter and reason" \
	"$(cv audit --command "hold release" --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)[0]["detail"]
print(d["hold"], d["matter"], d["reason"])')" \
	"1 $(cv hold show 1 | sed -n 's/.*matter: \(.*\)  RELEASED$/\1/p') settled"
cv purge >/dev/null
for h in $(head -3 "$T/held_ids"); do
	expect "still held by matter 2: $h" cv show "$h"
done
cv hold release 2 --reason "closed" >/dev/null
expect_exit "release twice refused" 2 cv hold release 2 --reason again
cv purge >/dev/null
h=$(head -1 "$T/held_ids")
expect_exit "released call purged" 1 cv show "$h"
check_store
expect "archives still verify after purge" cv verify "$A"/*/*.tar.zst

# disposal is final (issue 18): the purged call's own line and its archive
# do not bring it back, and the counts say so
grep "\"id\": *\"$gone\"" "$T/calls.jsonl" >"$T/gone.jsonl"
expect_eq "the purged call's line found" "$(wc -l <"$T/gone.jsonl")" 1
expect_eq "re-import of a purged call: dropped, counted" "$(cv import "$T/gone.jsonl")" \
	"read 1, new 0, updated 0, unchanged 0, quarantined 0, disposed 1"
expect_exit "still gone after re-import" 1 cv show "$gone"
expect "show says it was disposed of" grep -q "was disposed of at .*(purge" "$T/err"
gone_arch=""
for f in "$A"/*/*.tar.zst; do
	if tar --zstd -xOf "$f" --wildcards '*/data/calls.jsonl' | grep -q "\"id\":\"$gone\""; then
		gone_arch=$f
	fi
done
expect "its archive found" test -n "$gone_arch"
expect_exit "restore its archive" 0 cv restore "$gone_arch"
expect "restore: disposed calls not loaded" grep -q "; [1-9][0-9]* disposed of, not loaded" "$T/out"
expect_exit "still gone after restore" 1 cv show "$gone"
check_store

# the audit log and what purge left behind, straight from SQLite
if command -v sqlite3 >/dev/null; then
	q() { sqlite3 "$CALLVAULT_DB" "$1"; }
	expect "disposal records written" test "$(q "SELECT count(*) FROM audit WHERE command = 'purge'")" -ge 2
	expect_eq "disposal records hold no content" \
		"$(q "SELECT count(*) FROM audit WHERE command = 'purge' AND (detail LIKE '%transcript%' OR detail LIKE '%summary%')")" 0
	expect_eq "hold changes audited" \
		"$(q "SELECT count(*) FROM audit WHERE command IN ('hold add', 'hold release')")" 4
	expect_eq "FTS rows only for live calls" \
		"$(q "SELECT count(*) FROM calls_fts")" "$(q "SELECT count(*) FROM calls")"
	expect_eq "digit index rows only for live calls" \
		"$(q "SELECT count(*) FROM calls_digits")" "$(q "SELECT count(*) FROM calls")"
	expect_eq "no orphaned raw payloads" \
		"$(q "SELECT count(*) FROM raw_payloads WHERE sha256 NOT IN (SELECT raw_sha256 FROM versions)")" 0
	expect_eq "no orphaned versions" \
		"$(q "SELECT count(*) FROM versions WHERE call_id NOT IN (SELECT id FROM calls)")" 0
	expect_eq "a tombstone per purged call" \
		"$(q "SELECT count(*) FROM tombstones")" \
		"$(q "SELECT sum(result_count) FROM audit WHERE command = 'purge'")"
	expect_eq "no purged call is back" \
		"$(q "SELECT count(*) FROM calls WHERE id IN (SELECT call_id FROM tombstones)")" 0
fi
expect "hold list --all shows released holds" bash -c "'$CALLVAULT' hold list --all | grep -q RELEASED"
expect "hold show" bash -c "'$CALLVAULT' hold show 1 | grep -q 'Smith v. Acme'"
