#!/usr/bin/env bash
# Purged months are not invisible (issue 21): a search whose period holds
# calls that purge removed says how many and names the archives holding
# them (table: after the results; json/csv: on stderr, stdout stays
# JSON); `search --archives DIR` runs the same query and filters in those
# archives, lists their matches and records them in its audit entry;
# erased calls are not advertised.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
A="$T/archives"
rec() { # ID MONTH NUMBER TEXT
	printf '{"id":"%s","locationId":"L1","contactId":"K-%s","fromNumber":"%s","createdAt":"2026-%s-05T15:04:05Z","messageId":"m-%s","transcript":"human: %s"}\n' \
		"$1" "$1" "$3" "$2" "$1" "$4"
}
cv init >/dev/null
{
	rec j1 01 "+13105550177" "my lawyer wants a cancellation"
	rec j2 01 "+13105550100" "my lawyer called"
	rec j3 01 "+13105550100" "book a table"
	rec e1 01 "+13105550199" "my lawyer again"
	rec f1 02 "+13105550177" "my lawyer in february"
} >"$T/calls.jsonl"
cv import "$T/calls.jsonl" >/dev/null
cv archive --month 2026-01 --out "$A" >/dev/null
cv verify "$A"/*/*.tar.zst >/dev/null
# e1 is erased (a data-subject request), not purged: never advertised
cv subject erase --call e1 --request-id R1 --reason "asked" >/dev/null
cv retention set --keep-months 0 >/dev/null
cv purge >/dev/null
expect_exit "january purged" 1 cv show j1

expect_exit "search the purged month" 0 cv search lawyer --from 2026-01-01 --to 2026-01-31
expect "no live match" grep -q "no calls match" "$T/out"
expect "says how many" grep -q "note: 3 calls of the months this search covers were purged" "$T/out"
expect "names the archive" grep -q "  $A/L1/2026-01.tar.zst (L1 2026-01, 3 calls)" "$T/out"
expect_exit "a later period" 0 cv search lawyer --from 2026-02-01
expect "no note" bash -c "! grep -q note '$T/out' '$T/err'"
expect "the live call" grep -q "^f1 " "$T/out"
expect_exit "json" 0 cv search lawyer --to 2026-01-31 --format json
expect "stdout stays JSON" python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == []' "$T/out"
expect "the note on stderr" grep -q "note: 3 calls" "$T/err"

# ---- --archives: the same grammar and filters inside the archives ----
expect_exit "search the archives" 0 cv search 'lawyer AND NOT february' --archives "$A" --format json
expect_eq "their matches, not the erased call" "$(python3 -c '
import json,sys
print(" ".join(sorted(h["id"] + "@" + h["archive"].rsplit("/", 2)[-2] for h in json.load(open(sys.argv[1])))))' "$T/out")" \
	"j1@L1 j2@L1"
expect_exit "a filter applies in the archives" 0 cv search lawyer --number "(310) 555-0177" --archives "$A"
expect "j1" grep -q "^j1 " "$T/out"
expect "not j2" bash -c "! grep -q '^j2 ' '$T/out'"
expect "the live one too" grep -q "^f1 " "$T/out"
expect "says where" grep -q "  j1 in $A/L1/2026-01.tar.zst" "$T/out"
expect_exit "a bad query" 2 cv search '(lawyer' --archives "$A"
expect_exit "--archives with csv" 2 cv search lawyer --archives "$A" --format csv
expect_exit "a missing archive directory" 1 cv search lawyer --archives "$T/nowhere"
# a damaged archive is named and stops the search: exit 3
mkdir -p "$T/bad/L1"
cp "$A/L1/2026-01.tar.zst" "$A/L1/2026-01.tar.zst.sha256" "$T/bad/L1/"
printf 'x' | dd of="$T/bad/L1/2026-01.tar.zst" bs=1 seek=200 conv=notrunc status=none
expect_exit "a damaged archive" 3 cv search lawyer --archives "$T/bad"
expect "named" grep -q "2026-01.tar.zst" "$T/err"
command -v sqlite3 >/dev/null && expect_eq "audited with the archives searched" \
	"$(sqlite3 "$CALLVAULT_DB" "SELECT result_count FROM audit WHERE command = 'search' AND detail LIKE '%\"archiveHits\":1%' AND detail LIKE '%2026-01.tar.zst%' AND detail LIKE '%0177%'")" 2
check_store
