#!/usr/bin/env bash
# Integration test of issue 23's one notion of time on the command line:
# `config set|get timezone` (default UTC; an unknown zone refused naming
# the option, exit 2; audited), and the store's zone used where times are
# read or shown (search, show, export, hold add, hold list, audit, stats,
# status, subject export), with --tz overriding it per command. Archive
# months stay UTC. The console and the JSON API: test_tz_cross.c.
. "$(dirname "$0")/../lib.sh"
command -v sqlite3 >/dev/null || { echo "sqlite3 missing: skipped"; exit 77; }
q() { sqlite3 "$CALLVAULT_DB" "$1"; }

cv init >/dev/null
# 01:30 CST, 03:30 CDT on the night clocks go forward; a call that is
# on 2026-11-01 in Chicago but on 2026-11-02 in UTC
cat >"$T/calls.jsonl" <<'J'
{"id":"a1","locationId":"L1","contactId":"K1","createdAt":"2026-03-08T07:30:00Z","summary":"one"}
{"id":"a2","locationId":"L1","contactId":"K1","createdAt":"2026-03-08T08:30:00Z","summary":"two"}
{"id":"b1","locationId":"L1","contactId":"K2","createdAt":"2026-11-02T05:30:00Z","summary":"late"}
J
expect_eq "import" "$(cv import "$T/calls.jsonl")" \
	"read 3, new 3, updated 0, unchanged 0, quarantined 0"

# ---- config ----
expect_eq "default is UTC" "$(cv config get timezone)" UTC
expect_exit "unknown zone" 2 cv config set timezone Mars/Olympus_Mons
expect "names the option" grep -q "set timezone: unknown time zone 'Mars/Olympus_Mons'" "$T/err"
expect_exit "a path is no zone" 2 cv config set timezone ../../etc/passwd
expect_exit "unknown setting" 2 cv config set colour blue
expect "names the setting" grep -q "unknown setting 'colour'" "$T/err"
expect_exit "usage" 2 cv config set timezone
expect_eq "nothing set by bad input" "$(q "SELECT count(*) FROM settings")" 0
expect_eq "nothing audited by bad input" "$(q "SELECT count(*) FROM audit")" 0
expect_exit "set" 0 cv config set timezone America/Chicago
expect_eq "get" "$(cv config get timezone)" America/Chicago
expect_eq "list" "$(cv config list)" "timezone = America/Chicago"
expect_eq "audited with the old value" \
	"$(q "SELECT detail FROM audit WHERE command = 'config set'")" \
	'{"key":"timezone","value":"America/Chicago","was":null}'

# ---- reading times: the store's zone, --tz overrides ----
expect_eq "search reads the store's zone" \
	"$(cv search --from 2026-03-08T01:00 --to 2026-03-08T01:59 --count)" 1
expect_eq "--tz overrides" \
	"$(cv search --tz UTC --from 2026-03-08T01:00 --to 2026-03-08T01:59 --count)" 0
expect_eq "a Chicago day" "$(cv search --from 2026-11-01 --to 2026-11-01 --count)" 1
expect_eq "a UTC day" "$(cv search --tz UTC --from 2026-11-01 --to 2026-11-01 --count)" 0
expect_exit "search --tz unknown" 2 cv search --tz Nowhere/Else zebra
expect "names --tz" grep -q "tz: unknown time zone 'Nowhere/Else'" "$T/err"
expect_eq "the search's audit entry names the zone" \
	"$(q "SELECT json_extract(detail, '\$.filters.tz') FROM audit WHERE command = 'search' ORDER BY id LIMIT 1")" \
	America/Chicago
expect_eq "export reads the store's zone" \
	"$(cv export --from 2026-11-01 --to 2026-11-01 --format jsonl | grep -c '"b1"')" 1
expect_eq "export --tz" \
	"$(cv export --tz UTC --from 2026-11-01 --to 2026-11-01 --format jsonl | grep -c '"b1"')" 0
expect_eq "audit --from in the zone" \
	"$(cv audit --format json --from 2000-01-01T00:00 | grep -c '"command": "config set"')" 1
expect_exit "hold add in the zone" 0 cv hold add --matter M --from 2026-11-01 --to 2026-11-01 --reason r
expect_eq "it covers the Chicago day" "$(cv hold list | grep -c 'covers 1 stored')" 1
expect_exit "hold add --tz UTC" 0 cv hold add --matter U --from 2026-11-01 --to 2026-11-01 --reason r --tz UTC
expect_eq "that one covers the UTC day" "$(cv hold show 2 | grep -c 'covers 0 stored')" 1
expect_exit "hold --tz unknown" 2 cv hold list --tz Nowhere/Else
expect_exit "subject export in the zone" 0 cv subject export --contact K2 --from 2026-11-01 --to 2026-11-01 --out "$T/s.tar.zst"
expect "one call" grep -q "1 call, 1 version" "$T/out"

# ---- showing times: on the zone's wall clock, with the offset, zone named ----
cv search --from 2026-03-08 --to 2026-03-08 >"$T/s.txt"
expect "search names the zone" grep -q "^times in America/Chicago" "$T/s.txt"
expect "search shows CST" grep -q "^a1 .*2026-03-08 01:30 -06:00" "$T/s.txt"
expect "search shows CDT" grep -q "^a2 .*2026-03-08 03:30 -05:00" "$T/s.txt"
cv search --tz UTC --from 2026-03-08 --to 2026-03-08 >"$T/s.txt"
expect "search --tz UTC shows UTC" grep -q "^a1 .*2026-03-08 07:30 UTC" "$T/s.txt"
expect_eq "search JSON stays UTC" \
	"$(cv search --from 2026-03-08 --to 2026-03-08 --format json | grep -c '"createdAt": "2026-03-08T07:30:00.000Z"')" 1
expect "show" bash -c "'$CALLVAULT' show a2 | grep -q '^Created       2026-03-08T03:30:00.000-05:00 (America/Chicago)'"
expect "show --tz" bash -c "'$CALLVAULT' show a2 --tz Asia/Kolkata | grep -q '^Created       2026-03-08T14:00:00.000+05:30 (Asia/Kolkata)'"
expect "hold list" bash -c "'$CALLVAULT' hold list | grep -q '^  from      2026-11-01T00:00:00.000-05:00'"
expect "hold list --tz" bash -c "'$CALLVAULT' hold list --tz UTC | grep -q '^  from      2026-11-01T05:00:00.000Z'"
expect "stats" bash -c "'$CALLVAULT' stats | grep -q '^span         2026-03-08T01:30:00.000-06:00 .. 2026-11-01T23:30:00.000-06:00 (America/Chicago)'"
expect "stats months stay UTC" bash -c "'$CALLVAULT' stats | grep -q '^  2026-11 '"
expect "audit names the zone" bash -c "'$CALLVAULT' audit | grep -q '^times in America/Chicago'"
expect "audit in the zone" bash -c "'$CALLVAULT' audit | grep -Eq '^ +1  [0-9-]+T[0-9:.]+-0[56]:00 '"
expect "status names the zone" bash -c "'$CALLVAULT' status | grep -q '^times in     America/Chicago'"
expect "status --tz" bash -c "'$CALLVAULT' status --tz Europe/Berlin | grep -q '^times in     Europe/Berlin'"
expect "subject erase's report in the zone" bash -c "'$CALLVAULT' subject erase --contact K1 --request-id R --reason r --dry-run | grep -q 'would erase a1  2026-03-08T01:30:00.000-06:00'"
cv retention set --keep-months 24 >/dev/null
expect "retention show in the zone" bash -c "'$CALLVAULT' retention show | grep -Eq 'set [0-9-]+T[0-9:.]+-0[56]:00 by'"
expect "retention show --tz" bash -c "'$CALLVAULT' retention show --tz UTC | grep -Eq 'set [0-9-]+T[0-9:.]+Z by'"
cv trust set --allow-create api,ed25519 >/dev/null
expect "trust show in the zone" bash -c "'$CALLVAULT' trust show | grep -Eq 'set [0-9-]+T[0-9:.]+-0[56]:00 by'"
expect "trust show --tz" bash -c "'$CALLVAULT' trust show --tz=Asia/Kolkata | grep -Eq 'set [0-9-]+T[0-9:.]+\+05:30 by'"
printf 'not json\n' >"$T/bad.jsonl"
cv import "$T/bad.jsonl" >/dev/null 2>&1
expect "quarantine in the zone" bash -c "'$CALLVAULT' quarantine 2>/dev/null | grep -Eq '^[0-9]+	[0-9-]+T[0-9:.]+-0[56]:00	'"
expect_exit "quarantine --tz unknown" 2 cv quarantine --tz Nowhere/Else
cv export --since-last weekly --format jsonl >/dev/null
expect "export --list-cursors in the zone" bash -c "'$CALLVAULT' export --list-cursors | grep -Eq '^weekly +[0-9-]+T[0-9:.]+-0[56]:00 '"
expect "export --list-cursors --tz" bash -c "'$CALLVAULT' export --list-cursors --tz UTC | grep -Eq '^weekly +[0-9-]+T[0-9:.]+Z '"
expect "export --list-cursors JSON stays UTC" bash -c "'$CALLVAULT' export --list-cursors --format jsonl | grep -q 'Z\",'"
expect "archive --help: months are UTC" bash -c "'$CALLVAULT' archive --help | grep -qi 'UTC month'"

# back to UTC
expect_exit "set UTC" 0 cv config set timezone UTC
expect_eq "Z is UTC" "$(cv config set timezone Z)" "timezone = UTC"
expect "search back in UTC" bash -c "'$CALLVAULT' search --from 2026-03-08 --to 2026-03-08 | grep -q '^times in UTC'"
check_store
expect "audit chain" cv audit --verify
