#!/usr/bin/env bash
# Integration test of issue 22 item 7: each monthly bag records the
# audit chain's head (MACed with the audit key, kept outside the store);
# `audit --verify --against` catches a log cut short, emptied or
# rewritten and recomputed, which `audit --verify` alone passes.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
A="$T/archives"
TAMPER="$SRC/tests/audit_tamper.py"

python3 "$SRC/tools/bench/gencalls.py" 20 --seed 13 --locations 1 \
	--start 2026-01 --months 2 --with-location >"$T/calls.jsonl"
cv init >/dev/null
cv import "$T/calls.jsonl" >/dev/null
for q in alpha beta gamma; do cv --actor alice search "$q" >/dev/null; done
# the head a bag records: the newest entry before its own archive entry
read -r hid hhash < <(python3 "$TAMPER" "$CALLVAULT_DB" head)
expect_exit "archive January" 0 cv archive --month 2026-01 --out "$A"
key="$CALLVAULT_DB.secrets/audit.key"
expect_eq "the audit key is made, 0600" "$(stat -c %a "$key")" 600
info=$(tar --zstd -xOf "$A"/*/2026-01.tar.zst --wildcards '*/bag-info.txt')
expect "the bag records the head" \
	grep -qx "Callvault-Audit-Head: $hid $hhash" <<<"$info"
expect "with its MAC" grep -qE \
	"^Callvault-Audit-Head-MAC: hmac-sha256 [0-9a-f]{64}$" <<<"$info"
cv --actor alice search delta >/dev/null
expect_exit "archive February" 0 cv archive --month 2026-02 --out "$A"
for q in epsilon zeta; do cv --actor alice search "$q" >/dev/null; done

# status shows the current head, for an external system to record
read -r nid nhash < <(python3 "$TAMPER" "$CALLVAULT_DB" head)
cv status --json >"$T/st.json"
expect_eq "status --json: the audit head" "$(python3 -c "
import json, sys; h = json.load(open(sys.argv[1]))['auditHead']
print(h['id'], h['hash'])" "$T/st.json")" "$nid $nhash"
expect "status: the audit head" bash -c "cv() { \"\$CALLVAULT\" \"\$@\"; }; cv status | grep -qx 'audit head   #$nid $nhash'"

expect_exit "intact log holds every head" 0 cv audit --verify --against "$A"
expect "says so" grep -q "audit log holds every archived head: 2 archive(s)" "$T/out"
expect_exit "--against needs archives with a head" 1 \
	cv audit --verify --against "$T/calls.jsonl"

# each tampering: --against catches it; audit --verify alone passes a
# truncation, but no longer a recomputed chain: its entries are keyed
python3 "$TAMPER" "$CALLVAULT_DB" copy "$T/good.db"
good_db() {
	rm -f "$CALLVAULT_DB-wal" "$CALLVAULT_DB-shm"
	cp "$T/good.db" "$CALLVAULT_DB"
}
try() {
	local what=$1 alone=$2; shift 2
	good_db
	python3 "$TAMPER" "$CALLVAULT_DB" "$@"
	expect_exit "$what: audit --verify alone" "$alone" cv audit --verify
	expect_exit "$what: caught against the archives" 3 \
		cv audit --verify --against "$A"
}
try "newest entries deleted" 0 truncate $((hid - 1))
expect "named truncated" grep -q "BAD audit log truncated: the bag recorded entry #$hid" "$T/out"
try "all entries deleted" 0 clear
expect "named truncated (empty)" grep -q "the live log is empty" "$T/out"
try "an entry rewritten, chain recomputed" 3 rewrite 2
expect "named rewritten" grep -q "BAD audit log rewritten: entry #$hid" "$T/out"
expect "both bags named" test "$(grep -c 'BAD audit log rewritten' "$T/out")" -eq 2

# the bags' heads rewritten to match the forged log: the MAC says no
mkdir -p "$T/forged"
for f in "$A"/*/2026-02.tar.zst; do
	rm -rf "$T/x" && mkdir -p "$T/x"
	tar --zstd -xf "$f" -C "$T/x"
	top=$(ls "$T/x")
	# the February head is the newest entry before February's archive
	# entry: point it at the forged log's same id
	read -r bid _ < <(grep '^Callvault-Audit-Head:' "$T/x/$top/bag-info.txt" | cut -d' ' -f2-)
	fh=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT hash FROM audit WHERE id = ?', (int(sys.argv[2]),)).fetchone()[0])" "$CALLVAULT_DB" "$bid")
	sed -i "s/^Callvault-Audit-Head: .*/Callvault-Audit-Head: $bid $fh/" "$T/x/$top/bag-info.txt"
	python3 "$SRC/tests/rebag.py" "$T/x/$top"
	tar --zstd -cf "$T/forged/2026-02.tar.zst" -C "$T/x" "$top"
done
expect_exit "a forged head: caught by its MAC" 3 \
	cv audit --verify --against "$T/forged"
expect "named the MAC" grep -q "BAD audit head #.*MAC does not verify" "$T/out"
expect_exit "without the key: neither entries nor heads checked (said)" 1 \
	env CALLVAULT_AUDIT_KEY="$T/none" "$CALLVAULT" audit --verify \
	--against "$T/forged"
expect "says the MACs were not checked" grep -q "MACs are not checked" "$T/out"
expect "says the keyed entries were not checked" \
	grep -q "cannot check [0-9]* keyed entries without the audit key" "$T/err"
expect "audit made no key" test ! -e "$T/none"

# without the key one can also clear the keyed marks from an entry on
# and recompute from there: the chain links, but unkeyed entries follow
# keyed ones, which is how that looks
try "rewritten from an entry on, unkeyed" 3 unkey "$hid"
expect_exit "the unkeyed tail: exit 3 alone" 3 cv audit --verify
expect "says how many" grep -q "^BAD: [0-9]* unkeyed entries after the first keyed one (#1), from #$hid" "$T/out"
expect_exit "--accept-unkeyed accepts them" 0 cv audit --verify --accept-unkeyed
expect "says so" grep -q "^accepted: [0-9]* unkeyed entries" "$T/out"
# or make the whole log look older than the key: only the archived
# heads (keyed hashes, MACed) show it
try "the whole log recomputed unkeyed" 0 plain
expect_exit "verify alone" 0 cv audit --verify
expect "shows no entry keyed" grep -q "^audit chain ok: [0-9]* entries, 0 keyed" "$T/out"
expect "and notes it" grep -q "^note: no entry is keyed although the audit key exists" "$T/out"

# the key's permissions are checked
good_db
chmod 644 "$key"
expect_exit "a 0644 audit key is refused" 2 cv audit --verify --against "$A"
expect "naming the fix" grep -q "chmod 600 $key" "$T/err"
expect_exit "archive refuses it too" 2 cv archive --month 2026-01 --out "$A"
chmod 600 "$key"
expect_exit "the old log still verifies against the archives" 0 \
	cv audit --verify --against "$A"

# a process that cannot read the key appends unkeyed entries rather
# than failing; verify counts them after the keyed ones
expect_exit "search without the key still runs" 0 env \
	CALLVAULT_AUDIT_KEY=/dev/null/audit.key "$CALLVAULT" search alpha
expect "silently" test ! -s "$T/err"
expect_exit "an unkeyed entry after keyed ones: exit 3" 3 cv audit --verify
expect "says so" grep -q "^BAD: 1 unkeyed entry after the first keyed one" "$T/out"
expect_exit "accepted when asked" 0 cv audit --verify --accept-unkeyed
expect "said accepted" grep -q "^accepted: 1 unkeyed entry" "$T/out"
# a key group or others may read is never used: a warning, unkeyed
chmod 640 "$key"
expect_exit "search with a 0640 key still runs" 0 cv search beta
expect "warns naming the fix" grep -q "chmod 600 $key" "$T/err"
chmod 600 "$key"
expect_exit "its entry is unkeyed too" 3 cv audit --verify
expect "2 now" grep -q "^BAD: 2 unkeyed entries" "$T/out"
cv search gamma >/dev/null
expect_exit "keyed again: still 3 (bound, not exposed)" 3 cv audit --verify
expect "none exposed" grep -q "; 0 after the newest keyed one" "$T/out"
