#!/usr/bin/env bash
# Integration test of issue 23's data-subject requests and identities:
# `subject export` (a BagIt bag that stock tar and sha256sum check, with
# nobody else's calls), `subject erase` (three calls of a contact, one
# under a hold: two gone from every table, the held one named and kept;
# re-import, webhook replay and restore of the month's archive leave the
# two absent; check and the audit chain pass), and the audit log's OS
# user beside the --actor claim.
. "$(dirname "$0")/../lib.sh"
command -v sqlite3 >/dev/null || { echo "sqlite3 missing: skipped"; exit 77; }
q() { sqlite3 "$CALLVAULT_DB" "$1"; }

cv init >/dev/null
rec() { # ID CONTACT NUMBER DAY WORD
	printf '{"id":"%s","locationId":"L1","contactId":"%s","fromNumber":"%s","createdAt":"2026-03-%02dT15:04:05Z","messageId":"m-%s","summary":"summary %s","transcript":"bot: hi\\nhuman: my word is %s, call me on 512 555 %s"}\n' \
		"$1" "$2" "$3" "$4" "$1" "$5" "$5" "${3: -4}"
}
{
	rec c1 K1 "+15125550143" 1 zanzibar
	rec c2 K1 "+15125550143" 2 quetzal
	rec c3 K1 "+15125550143" 3 marmalade
	rec o1 K2 "+15125550199" 4 obsidian
} >"$T/calls.jsonl"
expect_eq "import" "$(cv import "$T/calls.jsonl")" \
	"read 4, new 4, updated 0, unchanged 0, quarantined 0"

# ---- usage and bad input: exit 2, naming the problem ----
expect_exit "no subcommand" 2 cv subject
expect_exit "unknown subcommand" 2 cv subject forget --contact K1
expect "names it" grep -q "unknown subcommand 'forget'" "$T/err"
expect_exit "nobody" 2 cv subject erase --request-id R --reason x
expect_exit "two people" 2 cv subject erase --contact K1 --number +15125550143 --request-id R --reason x
expect "says one" grep -q "exactly one of" "$T/err"
expect_exit "no request id" 2 cv subject erase --contact K1 --reason x
expect "names --request-id" grep -q -- "--request-id" "$T/err"
expect_exit "empty reason" 2 cv subject erase --contact K1 --request-id R --reason ""
expect_exit "control character in the reason" 2 cv subject erase --contact K1 --request-id R --reason "$(printf 'a\033[2Jb')"
expect_exit "bad number" 2 cv subject erase --number "call me" --request-id R --reason x
expect "names the number" grep -qi "number" "$T/err"
expect_exit "bad time" 2 cv subject export --contact K1 --from yesterday --out "$T/p.tar.zst"
expect_exit "range with --call" 2 cv subject erase --call c1 --from 2026-01-01 --request-id R --reason x
expect_exit "a control character in a call id" 2 cv subject erase --call "$(printf 'c1\033')" --request-id R --reason x
expect_exit "an --out path that is not UTF-8" 2 cv subject export --contact K1 --out "$T/$(printf 'p\377').tar.zst"
expect_exit "export needs --out" 2 cv subject export --contact K1
expect_exit "export of call ids" 2 cv subject export --call c1 --out "$T/p.tar.zst"
expect_eq "nothing written by bad input" "$(q "SELECT count(*) FROM audit")" 0

# ---- subject access ----
expect_exit "export" 0 cv subject export --number "(512) 555-0143" --out "$T/p.tar.zst"
expect "export summary" grep -q "3 calls, 3 versions" "$T/out"
expect_exit "an existing file is not overwritten" 2 cv subject export --contact K1 --out "$T/p.tar.zst"
expect "package is 0600" test "$(stat -c %a "$T/p.tar.zst")" = 600
mkdir "$T/x"
expect "stock tar extracts it" tar --zstd -xf "$T/p.tar.zst" -C "$T/x"
expect "sha256sum -c manifest" bash -c "cd '$T/x/subject-access' && sha256sum -c --quiet manifest-sha256.txt"
expect "sha256sum -c tag manifest" bash -c "cd '$T/x/subject-access' && sha256sum -c --quiet tagmanifest-sha256.txt"
expect "sha256sum -c the file" bash -c "cd '$T' && sha256sum -c --quiet p.tar.zst.sha256"
if command -v python3 >/dev/null; then
	expect "independent BagIt check" python3 "$TESTS_DIR/bagit_check.py" "$T/p.tar.zst"
fi
# the evidence package format (docs/evidence.md), under subject-access/
expect_eq "every call of the person" \
	"$(ls "$T/x/subject-access/data/calls" | tr '\n' ' ')" 'c1 c2 c3 '
expect "nobody else's call" bash -c "! grep -rq 'o1\|obsidian\|K2' '$T/x'"
expect_eq "each version with its source and hashes" \
	"$(cat "$T/x/subject-access/data/calls"/*/versions.jsonl | grep -c '"rawSha256":"[0-9a-f]\{64\}".*"source":"import"')" 3
expect "transcripts inside" grep -q zanzibar "$T/x/subject-access/data/calls/c1/transcript.txt"
expect "versions inside" grep -q zanzibar "$T/x/subject-access/data/calls/c1/versions.jsonl"
expect_eq "a load file row per call" "$(grep -c '^c[123],' "$T/x/subject-access/data/loadfile.csv")" 3
expect "a custody report naming the person" grep -q "every call of number +15125550143" "$T/x/subject-access/data/custody-report.html"
expect "whose verify commands name this bag" grep -q 'cd "$W/subject-access"' "$T/x/subject-access/data/custody-report.html"
expect_exit "a range narrows it" 0 cv subject export --contact K1 --from 2026-03-02 --to 2026-03-02 --out "$T/one.tar.zst"
expect "one call" grep -q "1 call, 1 version" "$T/out"
expect_exit "nobody's export" 0 cv subject export --contact K9 --out "$T/none.tar.zst"
expect_eq "says 0 calls" "$(cat "$T/out")" "0 calls: nothing matched, nothing written"
expect "and writes no file" test ! -e "$T/none.tar.zst"
expect_eq "exports audited" "$(q "SELECT count(*) FROM audit WHERE command = 'subject export'")" 2

# ---- the erasure's setting: webhook events, a fetch row, an archive, a hold ----
command -v openssl >/dev/null && command -v curl >/dev/null ||
	{ echo "openssl or curl missing: erase part skipped"; exit 0; }
SECRET=0123456789abcdef0123456789abcdef-secret
printf '%s\n' "$SECRET" >"$T/secret"
chmod 600 "$T/secret"
start_serve() {
	rm -f "$T/port"
	"$CALLVAULT" serve --listen 127.0.0.1:0 --port-file "$T/port" \
		--shared-secret-file "$T/secret" 2>>"$T/serve.err" &
	SERVE=$!
	cleanup_hooks+=("kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null")
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
	BASE="http://127.0.0.1:$(cat "$T/port")"
}
hook() { # ID DAY WORD
	printf '{"type":"VoiceAiCallEnd","webhookId":"wh-%s","id":"%s","locationId":"L1","contactId":"K1","fromNumber":"+15125550143","createdAt":"2026-03-%02dT15:04:05.000Z","duration":61,"messageId":"m-%s","summary":"summary %s","transcript":"bot: hi\\nhuman: my word is %s"}' \
		"$1" "$1" "$2" "$1" "$3" "$3" >"$T/hook-$1.json"
}
post() { # ID
	local mac
	mac=$(openssl dgst -sha256 -hmac "$SECRET" -hex <"$T/hook-$1.json" | sed 's/.*= //')
	curl -s -o /dev/null -w '%{http_code}' -H "X-HighLevel-Signature: $mac" \
		-H 'Content-Type: application/json' --data-binary @"$T/hook-$1.json" \
		"$BASE/webhooks/highlevel"
}
hook c1 1 zanzibar
hook c2 2 quetzal
start_serve
expect_eq "webhook c1" "$(post c1)" 200
expect_eq "webhook c2" "$(post c2)" 200
kill -TERM $SERVE; wait $SERVE
expect_eq "their events are kept" "$(q "SELECT count(*) FROM webhook_events WHERE call_id IN ('c1','c2')")" 2
q "INSERT OR IGNORE INTO fetch_queue(call_id, location_id, queued_at) VALUES ('c1', 'L1', 0)"
expect_exit "archive March" 0 cv archive --month 2026-03 --out "$T/arch"
expect_exit "verify it" 0 cv verify "$T"/arch/*/*.tar.zst
cv retention set --keep-months 24 >/dev/null
cv hold add --matter "Smith v. Acme" --call c3 --reason litigation >/dev/null
raw_c1=$(q "SELECT group_concat(raw_sha256) FROM versions WHERE call_id = 'c1'")
rid_c1=$(q "SELECT rid FROM calls WHERE id = 'c1'")
audits=$(q "SELECT count(*) FROM audit")

# ---- dry run: says what and why, writes nothing ----
expect_exit "dry run" 0 cv subject erase --contact K1 --request-id DSR-7 --reason "art. 17 request" --dry-run
expect "would erase c1" grep -q "would erase c1" "$T/out"
expect "c3 held, hold named" grep -q "held  *c3 .*hold 1 (Smith v. Acme)" "$T/out"
expect "says the tombstone" grep -q 'tombstone "erasure: request DSR-7"' "$T/out"
expect "names the archive and its retention" grep -q "2026-03.tar.zst (archive 1, L1 2026-03, 2 calls): retained through 2028-03 (keep 24 months)" "$T/out"
expect "counts" grep -q "^3 calls matched: 2 would be erased, 1 held" "$T/out"
expect_eq "dry run wrote nothing" "$(q "SELECT count(*) FROM audit"):$(q "SELECT count(*) FROM calls")" "$audits:4"

# ---- nothing matched: nothing written, exit 0 ----
expect_exit "nobody to erase" 0 cv subject erase --contact K9 --request-id DSR-8 --reason x
expect_eq "0 calls" "$(cat "$T/out")" "0 calls: nothing matched, nothing written"
expect_eq "no audit entry, no tombstone" "$(q "SELECT count(*) FROM audit"):$(q "SELECT count(*) FROM tombstones")" "$audits:0"

# ---- the erasure ----
expect_exit "erase: held call refused" 1 cv subject erase --contact K1 --request-id DSR-7 --reason "art. 17 request"
expect "says the request is not complete" grep -q "1 call held" "$T/err"
expect "c1 erased" grep -q "erased  *c1" "$T/out"
expect "c3 held, hold named" grep -q "held  *c3 .*hold 1 (Smith v. Acme)" "$T/out"
expect "the archive still holding them" grep -q "archives still holding erased calls" "$T/out"
for t in "calls WHERE id IN ('c1','c2')" "versions WHERE call_id IN ('c1','c2')" \
	"webhook_events WHERE call_id IN ('c1','c2') OR message_id IN ('m-c1','m-c2')" \
	"fetch_queue WHERE call_id IN ('c1','c2')" \
	"raw_payloads WHERE instr(',$raw_c1,', ',' || sha256 || ',') > 0" \
	"calls_fts WHERE rowid = $rid_c1" "calls_digits WHERE rowid = $rid_c1" \
	"calls_fts WHERE calls_fts MATCH 'zanzibar OR quetzal'"; do
	expect_eq "gone: $t" "$(q "SELECT count(*) FROM $t")" 0
done
expect_eq "the held call and the other person's remain" \
	"$(q "SELECT group_concat(id) FROM (SELECT id FROM calls ORDER BY id)")" "c3,o1"
expect_eq "tombstones with the request" \
	"$(q "SELECT group_concat(call_id || ':' || reason) FROM (SELECT * FROM tombstones ORDER BY call_id)")" \
	"c1:erasure: request DSR-7,c2:erasure: request DSR-7"
expect_eq "search finds nothing of theirs" "$(cv search zanzibar --format json | grep -c '"id"')" 0
d=$(q "SELECT detail FROM audit WHERE command = 'subject erase'")
expect "audit: request, ids, counts" bash -c "grep -q '\"request\":\"DSR-7\"' <<<'$d' && grep -q '\"erased\":\[\"c1\",\"c2\"\]' <<<'$d' && grep -q '\"matched\":3' <<<'$d'"
expect "audit: the refused call and its hold" grep -q '"held":\[{"call":"c3","holds":"1 (Smith v. Acme)"}\]' <<<"$d"
expect "audit: no content, contact or number" bash -c "! grep -qi 'zanzibar\|quetzal\|K1\|555' <<<'$d'"
expect_eq "audit count" "$(q "SELECT result_count FROM audit WHERE command = 'subject erase'")" 2

# ---- nothing brings them back ----
expect "re-import drops them" bash -c "'$CALLVAULT' import '$T/calls.jsonl' | grep -q 'disposed 2'"
start_serve
expect_eq "webhook replay c1 answered" "$(post c1)" 200
expect_eq "webhook replay c2 answered" "$(post c2)" 200
kill -TERM $SERVE; wait $SERVE
expect_exit "restore the month's archive" 0 cv restore "$T"/arch/*/2026-03.tar.zst
expect "restore counts them" grep -q "2 disposed of, not loaded" "$T/out"
expect_eq "still absent everywhere" \
	"$(q "SELECT (SELECT count(*) FROM calls WHERE id IN ('c1','c2')) + (SELECT count(*) FROM versions WHERE call_id IN ('c1','c2')) + (SELECT count(*) FROM webhook_events WHERE call_id IN ('c1','c2'))")" 0
expect_exit "the archive still verifies against the store" 0 cv verify --deep "$T"/arch/*/2026-03.tar.zst
expect_exit "show says erased" 1 cv show c1
expect "with the request" grep -q "erasure: request DSR-7" "$T/err"
check_store
expect_exit "audit chain verifies" 0 cv audit --verify

# ---- by call id; unknown ids reported ----
expect_exit "erase by --call" 0 cv subject erase --call o1 --call c1 --call nope --call o1 --request-id DSR-9 --reason "by id"
expect "one call matched, o1 once" grep -q "^1 call matched: 1 erased, 0 held" "$T/out"
expect "erased o1" grep -q "erased  *o1" "$T/out"
expect "c1 already disposed of" grep -q "missing c1: already disposed of" "$T/out"
expect "unknown id said" grep -q "missing nope: no such call" "$T/out"
expect "after the erase, export has the held call only" \
	bash -c "'$CALLVAULT' subject export --contact K1 --out '$T/after.tar.zst' | grep -q '1 call, 1 version'"

# ---- by number; many calls: one transaction and audit entry per 500 ----
for i in $(seq 1 1201); do
	printf '{"id":"b%d","locationId":"L2","contactId":"KB%d","fromNumber":"+1 512 555 0777","createdAt":"2026-04-01T00:00:00Z","summary":"s","transcript":"bot: x"}\n' "$i" "$i"
done >"$T/many.jsonl"
cv import "$T/many.jsonl" >/dev/null
cv hold add --matter "Bulk matter" --call b600 >/dev/null
expect_exit "erase 1201 calls by number, one held" 1 cv subject erase --number "+15125550777" --request-id DSR-B --reason bulk
expect "counts" grep -q "^1201 calls matched: 1200 erased, 1 held" "$T/out"
expect_eq "only the held one is left" "$(q "SELECT group_concat(id) FROM calls WHERE from_e164 = '+15125550777'")" b600
expect_eq "three batches audited, 1200 erased" \
	"$(q "SELECT count(*) || ' ' || sum(result_count) FROM audit WHERE command = 'subject erase' AND detail LIKE '%DSR-B%' AND detail LIKE '%\"batches\":3%'")" "3 1200"
expect_eq "the hold named once, by the batch b600 falls in" \
	"$(q "SELECT group_concat(json_extract(detail, '$.batch')) FROM audit WHERE command = 'subject erase' AND detail LIKE '%Bulk matter%'")" 2
expect_eq "a tombstone each" "$(q "SELECT count(*) FROM tombstones WHERE reason = 'erasure: request DSR-B'")" 1200
check_store
expect_exit "audit chain verifies" 0 cv audit --verify

# ---- sync against hlsim, which still holds every call ----
if [ -n "${HLSIM:-}" ] && [ -x "$HLSIM" ]; then
	MAIN_DB=$CALLVAULT_DB
	export CALLVAULT_DB="$T/sync.db"
	"$HLSIM" --quiet --port-file "$T/sim.port" --info-file "$T/sim.info" \
		--seed 23 --locations 1 --calls-per-location 80 \
		--contacts-per-location 6 >/dev/null 2>"$T/sim.err" &
	SIM_PID=$!
	cleanup_hooks+=("kill $SIM_PID 2>/dev/null; wait $SIM_PID 2>/dev/null")
	for _ in $(seq 100); do [ -s "$T/sim.port" ] && break; sleep 0.05; done
	jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
	LOC=$(jget "$T/sim.info" "d['locations'][0]['id']")
	jget "$T/sim.info" "d['locations'][0]['pit']" >"$T/pit"
	cv init >/dev/null
	cv location add "$LOC" --token-file "$T/pit" \
		--api-base "http://127.0.0.1:$(cat "$T/sim.port")" >/dev/null
	expect_exit "sync" 0 cv sync
	K=$(q "SELECT contact_id FROM calls WHERE contact_id IS NOT NULL GROUP BY contact_id HAVING count(*) >= 3 ORDER BY contact_id LIMIT 1")
	n=$(q "SELECT count(*) FROM calls WHERE contact_id = '$K'")
	H=$(q "SELECT id FROM calls WHERE contact_id = '$K' ORDER BY id LIMIT 1")
	cv hold add --matter "Sync matter" --call "$H" >/dev/null
	expect_exit "erase the contact" 1 cv subject erase --contact "$K" --request-id DSR-S --reason "sync test"
	expect_exit "sync --full" 0 cv sync --full
	expect "sync counts them disposed" grep -q "disposed $((n - 1))" "$T/out"
	expect_eq "only the held call is back in the store" \
		"$(q "SELECT group_concat(id) FROM calls WHERE contact_id = '$K'")" "$H"
	check_store
	kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null
	export CALLVAULT_DB=$MAIN_DB
fi

# ---- identities ----
me=$(id -un)
cv --actor carol search marmalade >/dev/null
cv search marmalade >/dev/null
USER=mallory LOGNAME=mallory cv search marmalade >/dev/null
expect_eq "os user from the uid, actor from --actor" \
	"$(q "SELECT os_user || '/' || actor FROM audit WHERE command = 'search' AND detail LIKE '%marmalade%' ORDER BY id")" \
	"$me/carol
$me/$me
$me/$me"
expect_eq "audit --os-user --actor" \
	"$(cv audit --os-user "$me" --actor carol --command search --format json | grep -c '"osUser": "'"$me"'"')" 1
cv audit --command search >"$T/a"
expect "table shows both" grep -q "^ *[0-9]* .* $me  *carol  *search" "$T/a"
if [ "$(id -u)" = 0 ]; then
	expect_eq "run as root with --actor carol" \
		"$(q "SELECT os_user || ' ' || actor FROM audit WHERE actor = 'carol'")" "root carol"
fi
expect_exit "empty --actor refused" 2 cv --actor "" search x
q "UPDATE audit SET os_user = 'nobody' WHERE actor = 'carol'"
expect_exit "a changed OS user breaks the chain" 3 cv audit --verify

# a subject-access package is signed like an evidence package once the
# site has a key, and openssl checks the signature over its tag manifest
if command -v openssl >/dev/null; then
	expect_exit "key init" 0 cv key init
	cp "$T/out" "$T/site.pub"
	expect_exit "a signed subject export" 0 cv subject export --contact K1 --out "$T/signed.tar.zst"
	expect "it says it is signed" grep -q "signed by the site key" "$T/out"
	mkdir "$T/sx" && tar --zstd -xf "$T/signed.tar.zst" -C "$T/sx"
	expect "openssl verifies the signature" openssl pkeyutl -verify -pubin \
		-inkey "$T/site.pub" -rawin \
		-in "$T/sx/subject-access/tagmanifest-sha256.txt" \
		-sigfile "$T/sx/subject-access/tagmanifest-sha256.txt.sig"
fi
