#!/usr/bin/env bash
# Integration test of issue 23's erasure follow-ups:
#  - an erasure's tombstones keep an HMAC of the contact or number under a
#    key in STORE.erasure-key (0600, made by the first erasure that removes
#    something; refused when others may read it), never the identifier or
#    a plain hash of it; a later request about the same person is matched
#    to the earlier erasure;
#  - each monthly bag written after an erasure carries it as
#    data/erasures.jsonl, in the manifests; verify checks each line parses;
#  - restore honours erasures carried in bags: into a fresh store, the
#    older bag (which still holds the erased calls) restored before or
#    after the later bag leaves them absent, a hold wins;
#  - erase names the archives still holding the person's calls and their
#    retention.
. "$(dirname "$0")/../lib.sh"
command -v sqlite3 >/dev/null || { echo "sqlite3 missing: skipped"; exit 77; }
q() { sqlite3 "$CALLVAULT_DB" "$1"; }
SRC=$(cd "$(dirname "$0")/../.." && pwd)

cv init >/dev/null
rec() { # ID CONTACT NUMBER DATE
	printf '{"id":"%s","locationId":"L1","contactId":"%s","fromNumber":"%s","createdAt":"%sT15:04:05Z","messageId":"m-%s","summary":"summary of %s","transcript":"bot: hi\\nhuman: it is %s"}\n' \
		"$1" "$2" "$3" "$4" "$1" "$1" "$1"
}
{
	rec c1 K1 "+15125550143" 2026-03-01
	rec c2 K1 "+15125550143" 2026-03-02
	rec o1 K2 "+15125550199" 2026-03-03
} >"$T/march.jsonl"
cv import "$T/march.jsonl" >/dev/null
cv retention set --keep-months 24 >/dev/null
expect_exit "archive March" 0 cv archive --month 2026-03 --out "$T/arch"
expect "March carries no erasure yet" bash -c "tar --zstd -tf '$T'/arch/L1/2026-03.tar.zst | grep -q 'data/erasures.jsonl'"
expect_eq "an empty erasures.jsonl" "$(tar --zstd -xOf "$T"/arch/L1/2026-03.tar.zst --wildcards '*/data/erasures.jsonl' | wc -c)" 0

# ---- the erasure: keyed hash, key file, the archive named ----
expect_exit "dry run makes no key" 0 cv subject erase --number "+1 512 555 0143" --request-id DSR-1 --reason "art. 17" --dry-run
expect "no key yet" test ! -e "$CALLVAULT_DB.erasure-key"
expect_exit "erase by number" 0 cv subject erase --number "+1 512 555 0143" --request-id DSR-1 --reason "art. 17"
expect "names the March archive and its retention" grep -q "2026-03.tar.zst (archive 1, L1 2026-03, 2 calls): retained through 2028-03 (keep 24 months)" "$T/out"
expect "the key file exists" test -f "$CALLVAULT_DB.erasure-key"
expect_eq "the key file is 0600" "$(stat -c %a "$CALLVAULT_DB.erasure-key")" 600
expect "64 hex digits" grep -Eqx '[0-9a-f]{64}' "$CALLVAULT_DB.erasure-key"
h=$(q "SELECT DISTINCT subject_hmac FROM tombstones WHERE reason = 'erasure: request DSR-1'")
expect "each tombstone holds a 64-hex keyed hash" grep -Eqx '[0-9a-f]{64}' <<<"$h"
expect_eq "the same hash on both" "$(q "SELECT count(*) FROM tombstones WHERE subject_hmac = '$h'")" 2
key=$(cat "$CALLVAULT_DB.erasure-key")
want=$(printf '%s' "number:+15125550143" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -hex | sed 's/.*= //')
expect_eq "it is HMAC-SHA256(key, number:E164), checked with openssl" "$h" "$want"
plain=$(printf '%s' "+15125550143" | sha256sum | cut -c1-64)
plain2=$(printf '%s' "number:+15125550143" | sha256sum | cut -c1-64)
expect "not a plain hash of the number" test "$h" != "$plain" -a "$h" != "$plain2"
expect "the store holds no number of theirs" bash -c "! sqlite3 '$CALLVAULT_DB' .dump | grep -q '5550143'"
expect_exit "a later request about them" 0 cv subject erase --number "(512) 555-0143" --request-id DSR-2 --reason again --dry-run
expect "is matched to the earlier erasure" grep -q "erasure: request DSR-1: 2 calls" "$T/out"
expect_exit "another person" 0 cv subject erase --contact K2 --request-id DSR-3 --reason x --dry-run
expect "is not" bash -c "! grep -q 'earlier' '$T/out'"

# ---- the next bag carries it ----
rec a1 K3 "+15125550111" 2026-04-01 >"$T/april.jsonl"
cv import "$T/april.jsonl" >/dev/null
expect_exit "archive April" 0 cv archive --month 2026-04 --out "$T/arch"
APR="$T"/arch/L1/2026-04.tar.zst
tar --zstd -xOf "$APR" --wildcards '*/data/erasures.jsonl' >"$T/erasures.jsonl"
expect_eq "two erasures carried" "$(wc -l <"$T/erasures.jsonl")" 2
expect "one line, ids and the keyed hash, no content" grep -qx "{\"callId\":\"c1\",\"erasedAt\":\"[0-9T:.-]*Z\",\"locationId\":\"L1\",\"messageId\":\"m-c1\",\"reason\":\"erasure: request DSR-1\",\"subjectHmac\":\"$h\"}" "$T/erasures.jsonl"
expect "no number, no content" bash -c "! grep -q '5550143\|summary' '$T/erasures.jsonl'"
mkdir "$T/x"
tar --zstd -xf "$APR" -C "$T/x"
expect "covered by the manifest" bash -c "cd '$T'/x/* && grep -q ' data/erasures.jsonl$' manifest-sha256.txt && sha256sum -c --quiet manifest-sha256.txt"
expect_exit "April verifies" 0 cv verify --deep "$APR"

# ---- verify checks it parses (a bag made to match its manifests) ----
if command -v python3 >/dev/null; then
	cp -r "$T/x" "$T/bad"
	d=$(echo "$T"/bad/*)
	printf '{"callId":"c1","reason":"not an erasure"}\n' >>"$d/data/erasures.jsonl"
	python3 "$SRC/tests/hostile_bag.py" "$d" "$T/bad.tar.zst"
	expect_exit "a bag whose erasures.jsonl does not parse fails verify" 3 cv --db "$T/none.db" verify "$T/bad.tar.zst"
	expect "naming the file and line" grep -q "data/erasures.jsonl.*line 3 is not an erasure" "$T/out" "$T/err"
fi

# ---- restore honours them: a fresh store, the older bag first ----
FRESH="$T/fresh.db"
expect_exit "restore March into a fresh store" 0 cv --db "$FRESH" restore "$T"/arch/L1/2026-03.tar.zst
expect_eq "March brings c1 c2 back for now" "$(sqlite3 "$FRESH" "SELECT count(*) FROM calls WHERE id IN ('c1','c2')")" 2
expect_exit "restore April" 0 cv --db "$FRESH" restore "$APR"
expect "says what it erased" grep -q "2 erasures carried, 2 calls erased" "$T/out"
for t in "calls WHERE id IN ('c1','c2')" "versions WHERE call_id IN ('c1','c2')" \
	"webhook_events WHERE call_id IN ('c1','c2')" "calls_fts WHERE calls_fts MATCH 'summary AND c1'"; do
	expect_eq "gone: $t" "$(sqlite3 "$FRESH" "SELECT count(*) FROM $t")" 0
done
expect_eq "their tombstones kept, with the hash" \
	"$(sqlite3 "$FRESH" "SELECT count(*) FROM tombstones WHERE reason = 'erasure: request DSR-1' AND subject_hmac = '$h'")" 2
expect_eq "the others stay" "$(sqlite3 "$FRESH" "SELECT group_concat(id) FROM (SELECT id FROM calls ORDER BY id)")" "a1,o1"
expect_exit "March again: nothing comes back" 0 cv --db "$FRESH" restore "$T"/arch/L1/2026-03.tar.zst
expect "counted as disposed" grep -q "2 disposed of, not loaded" "$T/out"
expect_exit "the fresh store checks" 0 cv --db "$FRESH" check
expect_exit "and its audit chain" 0 cv --db "$FRESH" audit --verify

# ---- the later bag first ----
F2="$T/fresh2.db"
expect_exit "April first" 0 cv --db "$F2" restore "$APR"
expect_exit "then March" 0 cv --db "$F2" restore "$T"/arch/L1/2026-03.tar.zst
expect "drops them" grep -q "2 disposed of, not loaded" "$T/out"
expect_eq "absent" "$(sqlite3 "$F2" "SELECT count(*) FROM calls WHERE id IN ('c1','c2')")" 0

# ---- a hold in the restoring store wins ----
F3="$T/fresh3.db"
cv --db "$F3" restore "$T"/arch/L1/2026-03.tar.zst >/dev/null
cv --db "$F3" hold add --matter "Doe v. Roe" --call c2 --reason r >/dev/null
expect_exit "April over a hold" 0 cv --db "$F3" restore "$APR"
expect "says some were held" grep -q "2 erasures carried, 1 call erased (some held" "$T/out"
expect_eq "the held call stays" "$(sqlite3 "$F3" "SELECT group_concat(id) FROM calls WHERE id IN ('c1','c2')")" c2
expect_eq "and has no tombstone" "$(sqlite3 "$F3" "SELECT count(*) FROM tombstones WHERE call_id = 'c2'")" 0

# ---- an erase waits for a busy store instead of failing at 5 s ----
# (serve's writer under a webhook burst held the write lock back to back
# and an erase failed with "database is locked": tools/bench/bench_erase.sh)
rec w1 K7 "+15125550777" 2026-04-02 >"$T/w.jsonl"
cv import "$T/w.jsonl" >/dev/null
{ echo "BEGIN IMMEDIATE; INSERT INTO settings VALUES ('x', 'y', 0, 'test');"; sleep 7; echo "ROLLBACK;"; } |
	sqlite3 "$CALLVAULT_DB" &
locker=$!
sleep 1
t0=$(date +%s)
expect_exit "an erase while another process writes for 6 s" 0 cv subject erase --contact K7 --request-id DSR-5 --reason x
expect "it waited for the lock" test $(( $(date +%s) - t0 )) -ge 4
expect_eq "and erased" "$(q "SELECT count(*) FROM calls WHERE id = 'w1'")" 0
wait $locker

# ---- the key file is guarded ----
chmod 644 "$CALLVAULT_DB.erasure-key"
expect_exit "a key others may read is refused" 3 cv subject erase --contact K2 --request-id DSR-4 --reason x
expect "naming it" grep -q "erasure-key: the erasure key may be read by others" "$T/err"
expect_eq "nothing erased" "$(q "SELECT count(*) FROM calls WHERE id = 'o1'")" 1
chmod 600 "$CALLVAULT_DB.erasure-key"
check_store
expect_exit "audit chain verifies" 0 cv audit --verify
