#!/usr/bin/env bash
# Integration test of issue 18 at the command line: `callvault trust`
# (usage errors, set/show/unset, refused creation quarantined) and how
# `show --versions` marks a version kept at lower trust.
. "$(dirname "$0")/../lib.sh"

cv init >/dev/null
rec() { # ID LOC SUMMARY
	printf '{"id":"%s","locationId":"%s","createdAt":"2026-03-02T15:04:05Z","summary":"%s","transcript":"bot: hi"}\n' "$1" "$2" "$3"
}

# usage and bad input: exit 2, naming the problem
expect_exit "no subcommand" 2 cv trust
expect_exit "unknown subcommand" 2 cv trust frob
expect_exit "set without a list" 2 cv trust set --location L1
expect_exit "unknown source" 2 cv trust set --allow-create ed25519,sms
expect "names the bad word" grep -q "unknown source 'sms'" "$T/err"
expect_exit "empty word" 2 cv trust set --allow-create api,,hmac
expect_exit "unset of nothing" 1 cv trust unset --location nowhere
expect_exit "max-age without days" 2 cv trust max-age
expect_exit "max-age out of range" 2 cv trust max-age 4000
expect_exit "max-age not a number" 2 cv trust max-age 7d
cv trust show >"$T/show"
expect "no policy at first" grep -q "every source may create calls" "$T/show"
expect "no replay window at first" grep -q "no replay window" "$T/show"

# only signed webhooks and the API may create calls in L1
expect_exit "set" 0 cv trust set --location L1 --allow-create api,ed25519
expect_eq "canonical list" "$(cat "$T/out")" "L1: may create calls: api,ed25519"
cv trust show >"$T/show"
expect "show lists it" grep -q "^L1 .*may create calls: api,ed25519" "$T/show"
rec n1 L1 first >"$T/n1.jsonl"
expect_eq "an import may not create in L1" "$(cv import "$T/n1.jsonl")" \
	"read 1, new 0, updated 0, unchanged 0, quarantined 1"
expect_exit "not stored" 1 cv show n1
cv quarantine >"$T/q"
expect "quarantined with the reason" grep -q "source import may not create calls in location L1" "$T/q"
rec n2 L2 other >"$T/n2.jsonl"
expect_eq "another location is open" "$(cv import "$T/n2.jsonl")" \
	"read 1, new 1, updated 0, unchanged 0, quarantined 0"
expect_exit "unset" 0 cv trust unset --location L1
expect_eq "open again" "$(cv import "$T/n1.jsonl")" \
	"read 1, new 1, updated 0, unchanged 0, quarantined 0"
if command -v sqlite3 >/dev/null; then
	expect_eq "changes audited" \
		"$(sqlite3 "$CALLVAULT_DB" "SELECT count(*) FROM audit WHERE command IN ('trust set','trust unset')")" 2
fi

# findings 3 and 4 over HTTP: `serve` with HighLevel's Ed25519 key and a
# workflow shared secret
command -v openssl >/dev/null && command -v curl >/dev/null ||
	{ echo "openssl or curl missing: HTTP part skipped"; exit 0; }
openssl genpkey -algorithm ed25519 -out "$T/priv.pem" 2>/dev/null
openssl pkey -in "$T/priv.pem" -pubout -out "$T/pub.pem"
SECRET=0123456789abcdef0123456789abcdef-secret
printf '%s\n' "$SECRET" >"$T/secret"
chmod 600 "$T/secret"
"$CALLVAULT" serve --listen 127.0.0.1:0 --port-file "$T/port" \
	--public-key "$T/pub.pem" --shared-secret-file "$T/secret" 2>"$T/serve.err" &
SERVE=$!
cleanup_hooks+=("kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null")
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
BASE="http://127.0.0.1:$(cat "$T/port")"
body() { # WEBHOOK_ID SUMMARY
	printf '{"type":"VoiceAiCallEnd","webhookId":"%s","timestamp":"2019-05-02T10:00:00.000Z","id":"w1","locationId":"LW","agentId":"ag","contactId":"k","createdAt":"2019-05-02T09:58:00.000Z","duration":60,"summary":"%s","transcript":"bot: hi\\nhuman: my SSN is 078-05-1120","messageId":"m-w1"}' "$1" "$2"
}
post_ed() { # FILE
	local sig
	sig=$(openssl pkeyutl -sign -inkey "$T/priv.pem" -rawin -in "$1" | base64 -w0)
	curl -s -o /dev/null -w '%{http_code}' -H "x-ghl-signature: $sig" \
		-H 'Content-Type: application/json' --data-binary @"$1" "$BASE/webhooks/highlevel"
}
post_hmac() { # FILE
	local mac
	mac=$(openssl dgst -sha256 -hmac "$SECRET" -hex <"$1" | sed 's/.*= //')
	curl -s -o /dev/null -w '%{http_code}' -H "X-HighLevel-Signature: $mac" \
		-H 'Content-Type: application/json' --data-binary @"$1" "$BASE/webhooks/highlevel"
}
body wh-1 "the genuine summary" >"$T/signed.json"
body wh-2 "a forged summary" >"$T/forged.json"
expect_eq "Ed25519 delivery" "$(post_ed "$T/signed.json")" 200
expect_eq "HMAC delivery of other content" "$(post_hmac "$T/forged.json")" 200
cv show w1 --versions >"$T/v"
expect "current summary is the signed one" grep -q "the genuine summary" "$T/v"
expect "the forged version is kept" grep -q "^  v2 .*hmac" "$T/v"
expect "and flagged" grep -q "not current: lower trust than current version from ed25519" "$T/v"
expect "the signed one is current" grep -q "^  v1 .*ed25519 .*(current)" "$T/v"

# archive, verify, purge; then replay the saved, validly signed body
cv retention set --keep-months 0 >/dev/null
expect_exit "archive" 0 cv archive --month 2019-05 --out "$T/arch"
expect_exit "verify" 0 cv verify "$T"/arch/*/*.tar.zst
expect_exit "purge" 0 cv purge
expect "purged" grep -q "^purged 1;" "$T/out"
expect_eq "replay after purge answered" "$(post_ed "$T/signed.json")" 200
expect_exit "not back" 1 cv show w1
expect "show: disposed of" grep -q "w1 was disposed of" "$T/err"
expect "counted in /metrics" bash -c "curl -s '$BASE/metrics' | grep -q '^callvault_webhook_disposed_total 1$'"
if command -v sqlite3 >/dev/null; then
	expect_eq "no event row keeps its body" \
		"$(sqlite3 "$CALLVAULT_DB" "SELECT count(*) FROM webhook_events WHERE call_id = 'w1'")" 0
fi

# the replay window: set while serve runs, it applies within a second
expect_exit "max-age 30" 0 cv trust max-age 30
sleep 1.1
expect "show says so" bash -c "'$CALLVAULT' trust show | grep -q 'more than 30 day(s) old are refused'"
sed 's/"w1"/"w2"/; s/wh-1/wh-9/' "$T/signed.json" >"$T/old.json"
expect_eq "an old body is answered" "$(post_ed "$T/old.json")" 200
expect_exit "and not stored" 1 cv show w2
expect "counted in /metrics" bash -c "curl -s '$BASE/metrics' | grep -q '^callvault_webhook_stale_total 1$'"
kill -TERM $SERVE; wait $SERVE
