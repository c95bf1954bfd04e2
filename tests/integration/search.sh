#!/usr/bin/env bash
# search.sh FIXTURE — `callvault search`, `show --highlight`, `export` and
# `audit` through the binary: exit codes, output formats, the export
# cursor after a failed run, and tamper detection in the audit chain.
. "$(dirname "$0")/../lib.sh"
FIX=$1
cv import "$FIX" >/dev/null
sqlite3 "$CALLVAULT_DB" "INSERT INTO agents(location_id, id, name, updated_at)
	VALUES ('L1', 'A2', 'Billing Desk', 0)"

ids() { cv search "$@" --format csv --limit 100 | tail -n +2 | cut -d, -f1 | sort | tr '\n' ' ' | sed 's/ $//'; }

# queries and filters through the CLI
expect_eq "refund" "$(ids refund)" "c01 c05 c07"
expect_eq "words joined" "$(ids refund manager)" "c01 c05"
expect_eq "speaker" "$(ids 'bot:refund')" "c05 c07"
expect_eq "phone" "$(ids '+1 (555) 010-2030')" "c04"
expect_eq "last four" "$(ids 4242)" "c03"
expect_eq "literal" "$(ids --literal 'Refund')" "c07"
expect_eq "agent by name" "$(ids --agent 'billing desk')" "c02 c05 c08"
expect_eq "number filter" "$(ids --number '(512) 555-0101')" "c01 c04"
expect_eq "month" "$(ids --from 2026-03-01 --to 2026-03-31)" "c01 c02 c03 c07"
expect_eq "month in NY" "$(ids --from 2026-03-01 --to 2026-03-31 --tz America/New_York)" "c01 c02 c03 c04 c07"
expect_eq "trial" "$(ids --trial)" "c02"
expect_eq "action" "$(ids --action sms)" "c03"
expect_eq "durations" "$(ids --min-duration 30 --max-duration 60)" "c02 c04 c07"
expect_eq "count" "$(cv search refund --count)" "3"
expect_eq "count nothing" "$(cv search zebra --count)" "0"

# syntax errors: exit 2 with the position, never an empty result
expect_exit "dangling AND" 2 cv search 'refund AND'
expect "position named" grep -q "position 11" "$T/err"
expect "hint given" grep -q "hint" "$T/err"
expect_exit "unclosed quote" 2 cv search '"refund'
expect_exit "unknown field" 2 cv search 'agent:bob'
expect_exit "bad date" 2 cv search refund --from 2026-13-01
expect_exit "bad zone" 2 cv search refund --from 2026-03-01 --tz Mars/Base
expect_exit "bad number" 2 cv search --number 12
expect_exit "bad sort" 2 cv search refund --sort sideways
expect_exit "a word FTS5 sees as nothing" 2 cv search "refund $(printf '\342\270\272')"
expect "names its position" grep -q "position 8" "$T/err"
expect_exit "non-Latin words still search" 0 cv search "refund привет"
expect_exit "too long" 2 cv search "$(head -c 2000 /dev/zero | tr '\0' a)"

# output: no escape codes when not a terminal; [hit] marks; JSON ranges
out=$(cv search 'bot:refund')
expect "marks as [..]" grep -q '\[refund\]' <<<"$out"
expect "no escapes" bash -c "! grep -q $'\033' <<<\"\$1\"" _ "$out"
if command -v script >/dev/null; then
	# on a terminal: bold; with NO_COLOR on a terminal: [..]
	script -qc "$CALLVAULT search 'bot:refund' --limit 1" /dev/null >"$T/tty"
	expect "bold on a terminal" grep -q $'\033\[1mrefund\033\[0m' "$T/tty"
	NO_COLOR=1 script -qc "$CALLVAULT search 'bot:refund' --limit 1" /dev/null >"$T/tty"
	expect "NO_COLOR on a terminal" grep -q '\[refund\]' "$T/tty"
	expect "NO_COLOR: no escapes" bash -c "! grep -q $'\033' \"\$1\"" _ "$T/tty"
fi
cv search 'human:manager' --format json >"$T/j"
expect "json fields" python3 - "$T/j" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
assert len(a) == 1 and a[0]["id"] == "c05", a
o = a[0]
for k in ("id", "locationId", "agentId", "contactId", "createdAt", "duration", "snippet", "snippetRanges"):
    assert k in o, k
assert o["agentName"] == "Billing Desk"
s, e = o["snippetRanges"][0]
assert o["snippet"][s:e].lower() == "manager", o
PY

# show --highlight marks the whole transcript
cv show c07 --highlight refund >"$T/show"
expect "show marks" grep -q 'The \[refund\] was denied because the \[refund\] window' "$T/show"
expect "show counts" grep -q '^3 hits marked' "$T/show"
expect_exit "show bad query" 2 cv show c07 --highlight 'refund OR'

# export CSV read back with Python's csv module equals the store, once
# the spreadsheet marking is undone as docs/operations.md says
cv export --out "$T/all.csv"
expect "csv equals store" python3 - "$T/all.csv" "$CALLVAULT_DB" <<'PY'
import csv, sqlite3, sys
undo = lambda c: c[1:] if c.startswith("'") else c
rows = [{k: undo(v) for k, v in r.items()} for r in
        csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8"))]
db = sqlite3.connect(sys.argv[2])
want = {r[0]: r for r in db.execute(
    "SELECT id, location_id, agent_id, contact_id, from_number, duration,"
    " trial_call, action_types, appointment_booked, transferred, summary,"
    " strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch')"
    " FROM calls")}
assert len(rows) == len(want) == 8, (len(rows), len(want))
b = lambda v: "" if v is None else ("true" if v else "false")
for r in rows:
    w = want[r["id"]]
    assert r["locationId"] == w[1] and r["agentId"] == w[2]
    assert r["contactId"] == (w[3] or "") and r["fromNumber"] == (w[4] or "")
    assert float(r["duration"]) == w[5]
    assert r["trialCall"] == b(w[6]) and r["actionTypes"] == (w[7] or "")
    assert r["appointmentBooked"] == b(w[8]) and r["transferred"] == b(w[9])
    assert r["summary"] == (w[10] or ""), (r["summary"], w[10])
    assert r["createdAt"] == w[11], (r["createdAt"], w[11])
assert [r["id"] for r in rows][0] == "c06"  # oldest first
PY
cv export --format jsonl --location L2 >"$T/l2.jsonl"
expect "jsonl" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["id"] for r in rows] == ["c03", "c04"], rows
assert rows[0]["actionTypes"] == ["APPOINTMENT_BOOKING", "SMS"]
assert rows[0]["appointmentBooked"] is True' "$T/l2.jsonl"

# the cursor: a failed run (unwritable place) does not move it
mkdir "$T/ro" && chmod 500 "$T/ro"
if [ "$(id -u)" = 0 ]; then ro="$T/missing/dir/x.csv"; else ro="$T/ro/x.csv"; fi
expect_exit "unwritable out" 1 cv export --since-last daily --out "$ro"
expect "says cursor kept" grep -q "cursor did not move" "$T/err"
expect_eq "cursor untouched" "$(sqlite3 "$CALLVAULT_DB" "SELECT count(*) FROM export_cursors")" "0"
cv export --since-last daily --out "$T/d1.csv" 2>/dev/null
expect_eq "first run: all" "$(($(wc -l <"$T/d1.csv") - 1))" "8"
cv export --since-last daily --out "$T/d2.csv" 2>/dev/null
expect_eq "second run: none" "$(wc -l <"$T/d2.csv")" "1"
printf '%s\n' '{"id":"c09","createdAt":"2026-05-01T00:00:00Z","locationId":"L1","summary":"new call","transcript":"bot: hello"}' \
	'{"id":"c01","createdAt":"2026-03-01T10:00:00.000Z","locationId":"L1","agentId":"A1","summary":"changed","transcript":"bot: hi"}' >"$T/more.jsonl"
cv import "$T/more.jsonl" >/dev/null
expect_exit "failed again" 1 cv export --since-last daily --out "$ro"
cv export --since-last daily --out "$T/d3.csv" 2>/dev/null
expect_eq "new and changed" "$(python3 -c '
import csv, sys
print(" ".join(sorted(r["id"] + ":" + r["operation"]
    for r in csv.DictReader(open(sys.argv[1], newline="")))))' "$T/d3.csv")" "c01:changed c09:new"
check_store

# the audit trail: every read is there; tampering is caught
n=$(cv audit --format json | python3 -c 'import json,sys; a=json.load(sys.stdin); print(len(a))')
expect "audited reads" test "$n" -ge 20
expect_eq "search entry" "$(cv audit --format json | python3 -c '
import json, sys
a = json.load(sys.stdin)
e = [x for x in a if x["command"] == "search" and x["detail"].get("query") == "refund manager"][0]
print(e["resultCount"], e["actor"] != "")')" "2 True"
cv --actor alice search refund >/dev/null
expect_eq "actor filter" "$(cv audit --actor alice --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "1"
expect_exit "intact chain" 0 cv audit --verify
cp "$CALLVAULT_DB" "$T/clean.db"
sqlite3 "$CALLVAULT_DB" "UPDATE audit SET result_count = 99 WHERE id = 5"
expect_exit "changed entry" 3 cv audit --verify
expect "names entry 5" grep -q "entry 5" "$T/err"
cp "$T/clean.db" "$CALLVAULT_DB"; rm -f "$CALLVAULT_DB-wal" "$CALLVAULT_DB-shm"
sqlite3 "$CALLVAULT_DB" "DELETE FROM audit WHERE id = 7"
expect_exit "deleted entry" 3 cv audit --verify
expect "names entry 8" grep -q "entry 8" "$T/err"
cp "$T/clean.db" "$CALLVAULT_DB"
sqlite3 "$CALLVAULT_DB" "UPDATE audit SET id = -1 WHERE id = 3; UPDATE audit SET id = 3 WHERE id = 4; UPDATE audit SET id = 4 WHERE id = -1"
expect_exit "reordered entries" 3 cv audit --verify
expect "names entry 3" grep -q "entry 3" "$T/err"
cp "$T/clean.db" "$CALLVAULT_DB"
sqlite3 "$CALLVAULT_DB" "DELETE FROM audit WHERE id = (SELECT max(id) FROM audit)"
expect_exit "intact after truncation of the tail" 0 cv audit --verify
check_store
