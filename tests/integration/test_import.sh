#!/usr/bin/env bash
# Integration tests of `callvault import`: idempotence, versions,
# quarantine with reasons, stdin, list responses.
. "$(dirname "$0")/../lib.sh"
D="$TESTS_DIR/fixtures/sample-calls.jsonl"
N=$(wc -l < "$D")

expect_exit "init" 0 cv init
out=$(cv import "$D")
expect_eq "first import" "$out" "read $N, new $N, updated 0, unchanged 0, quarantined 0"
out=$(cv import "$D")
expect_eq "second import changes nothing" "$out" "read $N, new 0, updated 0, unchanged $N, quarantined 0"
expect_eq "calls" "$(cv stats --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["calls"], d["versions"], d["quarantined"])')" "$N $N 0"
check_store

# a changed summary becomes a second version, the first is kept
id=$(head -1 "$D" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
head -1 "$D" | python3 -c '
import json,sys
r=json.load(sys.stdin); r["summary"]="Summary changed after the call"
print(json.dumps(r))' > "$T/changed.jsonl"
out=$(cv import "$T/changed.jsonl")
expect_eq "changed summary" "$out" "read 1, new 0, updated 1, unchanged 0, quarantined 0"
cv show "$id" --versions > "$T/show"
expect "show lists two versions" grep -q "^  v2 " "$T/show"
expect "show has the new summary" grep -q "Summary changed after the call" "$T/show"
nv=$(cv show "$id" --versions --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["versions"]), d["versions"][0]["record"].get("summary")!=d["versions"][1]["record"].get("summary"))')
expect_eq "both versions kept, different" "$nv" "2 True"
# the old version again is a new version (history is never rewritten)
out=$(head -1 "$D" | cv import -)
expect_eq "old content from stdin" "$out" "read 1, new 0, updated 1, unchanged 0, quarantined 0"
check_store

# malformed lines are quarantined with reasons; the rest is imported
{
	echo '{"id":"ok-1","createdAt":"2026-05-01T10:00:00Z","transcript":"bot: hi"}'
	echo 'not json at all'
	echo '{"createdAt":"2026-05-01T10:00:00Z"}'
	echo '{"id":"bad-date","createdAt":"May first"}'
	echo '{"id":"bad-type","createdAt":"2026-05-01T10:00:00Z","duration":"long"}'
	echo '[1,2,3]'
	echo ''
	printf '{"id":"bad-utf8","createdAt":"2026-05-01T10:00:00Z","summary":"\xff"}\n'
	echo '{"total":2,"page":1,"pageSize":50,"callLogs":[{"id":"ok-2","createdAt":"2026-05-02T10:00:00Z"},{"id":"bad-in-list"}]}'
	echo '{"type":"VoiceAiCallEnd","webhookId":"w1","id":"ok-3","locationId":"L9","createdAt":"2026-05-03T10:00:00Z","executedCallActions":[{"_id":"a","actionType":"SMS","actionName":"s"}]}'
	printf '{"id":"ok-4","createdAt":"2026-05-04T10:00:00Z"}'   # no final newline
} > "$T/mixed.jsonl"
expect_exit "mixed file exits 0" 0 cv import "$T/mixed.jsonl"
expect_eq "mixed counts" "$(cat "$T/out")" "read 11, new 5, updated 0, unchanged 0, quarantined 6"
cv quarantine > "$T/q" 2>/dev/null
for want in 'invalid JSON' 'field "id": missing' 'field "createdAt"' 'expected a JSON object' 'callLogs\[1\]\|field "createdAt": missing'; do
	expect "quarantine reason: $want" grep -q "$want" "$T/q"
done
expect_eq "quarantine rows" "$(wc -l < "$T/q")" "6"
# a field of an unexpected type is no reason to lose the call: it is kept
# as received, and its version says what could not be read
expect_eq "a call with an unreadable duration is kept, noted" \
	"$(sqlite3 "$CALLVAULT_DB" "SELECT v.notes FROM calls c JOIN versions v ON v.id = c.version_id WHERE c.id = 'bad-type'")" \
	'field "duration": expected number, got string'
expect "its duration column is empty" test -z \
	"$(sqlite3 "$CALLVAULT_DB" "SELECT duration FROM calls WHERE id = 'bad-type'")"
expect_eq "webhook shape location" "$(cv show ok-3 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["call"]["locationId"])')" "L9"
check_store

# --location fills the REST shape's missing locationId
echo '{"id":"loc-1","createdAt":"2026-05-05T10:00:00Z"}' | cv import --location LOCX - >/dev/null
cv show loc-1 > "$T/show"
expect "location hint" grep -q 'Location      LOCX' "$T/show"

# usage errors
expect_exit "import without files" 2 cv import
expect_exit "missing file" 1 cv import "$T/nope.jsonl"
expect_exit "bad --batch" 2 cv import --batch 0 "$D"
expect_exit "show unknown id" 1 cv show does-not-exist
expect_exit "stats on a missing store" 1 cv --db "$T/none.db" stats
check_store
