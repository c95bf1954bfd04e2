#!/usr/bin/env bash
# Integration test of query holds (issue 21): `hold add --query` keeps its
# search and holds what it matches now and later (a call that arrives or
# changes after the hold), purge frees what it does not match, a query
# that does not parse is refused with the parser's message, and `hold
# show` lists the calls covered now.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
command -v sqlite3 >/dev/null || { echo "sqlite3 missing: skipped"; exit 77; }
q() { sqlite3 "$CALLVAULT_DB" "$1"; }
A="$T/archives"

rec() { # ID LOCATION NUMBER DAY TEXT
	printf '{"id":"%s","locationId":"%s","contactId":"K-%s","fromNumber":"%s","createdAt":"2026-01-%02dT15:04:05Z","messageId":"m-%s","summary":"call %s","transcript":"bot: hello\\nhuman: %s"}\n' \
		"$1" "$2" "$1" "$3" "$4" "$1" "$1" "$5"
}

cv init >/dev/null
{
	rec q1 L1 "+13105550177" 5 "my lawyer wants a cancellation"
	rec q2 L1 "+13105550100" 6 "my lawyer wants a cancellation"
	rec n1 L1 "+13105550177" 7 "please book a table"
	rec q3 L2 "+13105550177" 8 "my attorney asked to cancel"
} >"$T/calls.jsonl"
cv import "$T/calls.jsonl" >/dev/null

# ---- bad input: exit 2, the parser's own message ----
expect_exit "a query that does not parse" 2 cv hold add --matter X --query '(lawyer'
cv search '(lawyer' 2>"$T/serr" >/dev/null
expect "the parser's message" grep -qF "$(sed -n 1p "$T/serr" | sed 's/.*position 1: //')" "$T/err"
expect_exit "a bad filter" 2 cv hold add --matter X --query lawyer --min-duration 5x
expect "names the filter" grep -q "min_duration" "$T/err"
expect_exit "an unknown zone" 2 cv hold add --matter X --query lawyer --tz Mars/Base
expect_exit "--action without --query" 2 cv hold add --matter X --action SMS
expect_exit "--call with --query" 2 cv hold add --matter X --query lawyer --call q1
expect_eq "nothing placed" "$(q "SELECT count(*) FROM holds")" 0

# ---- the hold: "lawyer or attorney, and cancel*, from this number, L1" ----
expect_exit "query hold" 0 cv hold add --matter "Doe v. Acme" \
	--query '(lawyer OR attorney) AND cancel*' --number "(310) 555-0177" \
	--location L1 --from 2026-01-01 --tz America/Los_Angeles --reason subpoena
expect_eq "keeps its query" "$(q "SELECT query FROM holds WHERE id = 1")" \
	'(lawyer OR attorney) AND cancel*'
expect "keeps its filters and zone" bash -c "sqlite3 '$CALLVAULT_DB' 'SELECT query_filters FROM holds' | grep -qx 'tz=America/Los_Angeles'"
expect_exit "hold show" 0 cv hold show 1
expect "lists the call covered now" grep -qx "  held call q1" "$T/out"
expect_eq "only that one" "$(grep -c "held call" "$T/out")" 1
expect "shows the query" grep -q "query     (lawyer OR attorney) AND cancel\*" "$T/out"
expect "audited with its query" bash -c "sqlite3 '$CALLVAULT_DB' \"SELECT detail FROM audit WHERE command = 'hold add'\" | grep -q 'cancel\*'"

# ---- purge: the match stays, the rest goes ----
cv archive --through 2026-01 --out "$A" >/dev/null
bag_info() { tar --zstd -xOf "$A/$1/2026-01.tar.zst" "$1_2026-01/bag-info.txt"; }
expect "L1's bag names the hold" bash -c "$(declare -f bag_info); A='$A'; bag_info L1 | grep -qx 'Callvault-Legal-Hold: #1'"
expect "L2's bag does not (the hold is scoped to L1)" bash -c "$(declare -f bag_info); A='$A'; bag_info L2 | grep -qx 'Callvault-Legal-Hold: none'"
cv verify "$A"/*/*.tar.zst >/dev/null
cv retention set --keep-months 0 >/dev/null
expect_exit "purge" 0 cv purge
expect "matching call kept" cv show q1
expect_exit "other number purged" 1 cv show q2
expect_exit "not matching the query purged" 1 cv show n1
expect_exit "outside the location scope purged" 1 cv show q3

# ---- later: a new call that matches is held, one that does not is not ----
rec q4 L1 "+13105550177" 20 "the lawyer said cancel it" >"$T/late.jsonl"
cv import "$T/late.jsonl" >/dev/null
# a new version of an old-looking call: n3 comes to match
rec n3 L1 "+13105550177" 22 "nothing to see" >"$T/n3a.jsonl"
cv import "$T/n3a.jsonl" >/dev/null
rec n3 L1 "+13105550177" 22 "now my attorney wants a cancellation" >"$T/n3b.jsonl"
cv import "$T/n3b.jsonl" >/dev/null
rec n2 L1 "+13105550177" 21 "what are your opening hours" >"$T/n2.jsonl"
cv import "$T/n2.jsonl" >/dev/null
cv archive --month 2026-01 --out "$A" >/dev/null
cv verify "$A"/*/*.tar.zst >/dev/null
cv hold show 1 >"$T/show"
expect "show: the late match" grep -qx "  held call q4" "$T/show"
expect "show: the new version's match" grep -qx "  held call n3" "$T/show"
expect "show: not the other" bash -c "! grep -q 'held call n2' '$T/show'"
expect_exit "purge on schedule" 0 cv purge
expect "late match held" cv show q4
expect "changed call held" cv show n3
expect_exit "late non-match purged" 1 cv show n2
expect "the first match still held" cv show q1

# ---- release frees them ----
cv hold release 1 --reason settled >/dev/null
cv purge >/dev/null
expect_exit "released: purged" 1 cv show q1

# ---- a query hold scoped to several locations ----
{
	rec m1 L3 "+13105550101" 23 "my attorney called"
	rec m2 L4 "+13105550102" 23 "my attorney called"
	rec m3 L5 "+13105550103" 23 "my attorney called"
} >"$T/multi.jsonl"
cv import "$T/multi.jsonl" >/dev/null
expect_exit "several locations need --query" 2 cv hold add --matter X --location L3 --location L4
expect_exit "query hold on two locations" 0 cv hold add --matter Multi --query attorney --location L3 --location L4
expect_exit "hold show" 0 cv hold show 2
expect "shows both locations" bash -c "grep -qx '  location  L3' '$T/out' && grep -qx '  location  L4' '$T/out'"
expect "holds the call in L3" grep -qx "  held call m1" "$T/out"
expect "and in L4" grep -qx "  held call m2" "$T/out"
expect "not in L5" bash -c "! grep -q 'held call m3' '$T/out'"
cv archive --month 2026-01 --out "$A" >/dev/null
cv verify "$A"/*/*.tar.zst >/dev/null
cv purge >/dev/null
expect "m1 kept" cv show m1
expect "m2 kept" cv show m2
expect_exit "m3 purged" 1 cv show m3
bag_l5() { tar --zstd -xOf "$A/L5/2026-01.tar.zst" L5_2026-01/bag-info.txt; }
bag_l4() { tar --zstd -xOf "$A/L4/2026-01.tar.zst" L4_2026-01/bag-info.txt; }
expect "L4's bag names it" bash -c "$(declare -f bag_l4); A='$A'; bag_l4 | grep -qx 'Callvault-Legal-Hold: #2'"
expect "L5's bag does not" bash -c "$(declare -f bag_l5); A='$A'; ! bag_l5 | grep -q '#2'"
check_store
