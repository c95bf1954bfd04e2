#!/usr/bin/env bash
# test_hlsim_webhooks.sh — hlsim emit and the server's webhooks for
# arriving calls: Ed25519 signatures verify with openssl, 429 is retried
# and 5xx is not, bodies have the VoiceAiCallEnd shape; calls arrive and
# summaries change while a client reads.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../hlsim.sh"

# a second simulator serves as the webhook sink (POST /__sim/webhook)
start_sim B --seed 2 --locations 1 --calls-per-location 5
CL=/voice-ai/dashboard/call-logs

# --- emitter: signatures verify with openssl; 429 retried, 5xx not
mkdir -p "$T/wh"
"$HLSIM" emit --seed 2 --locations 1 --calls-per-location 5 \
	--url "$B_URL/__sim/webhook?fail429=2" --key-out "$T/pub.pem" \
	--save-dir "$T/wh" --inbound-share 0.5 --duplicates 0.5 --reorder \
	--retry-ms 50 >"$T/emit.out" 2>"$T/emit.err"
expect_eq "emit exit 0" "$?" 0
expect "emit summary: 2 retried" grep -q '429-retried=2 failed=0' "$T/emit.out"
SENT=$(sed -n 's/^sent=\([0-9]*\) .*/\1/p' "$T/emit.out")
expect_eq "every event got a 2xx" \
	"$(sed -n 's/.* 2xx=\([0-9]*\) .*/\1/p' "$T/emit.out")" "$SENT"
expect_eq "sink saw sends + retries" \
	"$(curl -s "$B_URL/__sim/stats" | jq .webhooks)" "$((SENT + 2))"
expect "public key is SPKI PEM" grep -q 'BEGIN PUBLIC KEY' "$T/pub.pem"
nver=0
for b in "$T"/wh/*.json; do
	openssl pkeyutl -verify -pubin -inkey "$T/pub.pem" -rawin -in "$b" \
		-sigfile "${b%.json}.sig" >/dev/null 2>&1 && nver=$((nver + 1))
done
expect_eq "all signatures verify with openssl" "$nver" \
	"$(ls "$T"/wh/*.json | wc -l)"
{ cat "$(ls "$T"/wh/*.json | head -1)"; printf ' '; } >"$T/changed"
expect "a changed body fails verification" \
	sh -c "! openssl pkeyutl -verify -pubin -inkey '$T/pub.pem' -rawin \
	-in '$T/changed' -sigfile '$(ls "$T"/wh/*.sig | head -1)' \
	>/dev/null 2>&1"
cat "$T"/wh/*.json | jq -s . >"$T/bodies"
expect_eq "5 VoiceAiCallEnd events" \
	"$(jq '[.[] | select(.type == "VoiceAiCallEnd") | .id] | unique | length' \
		"$T/bodies")" 5
expect_eq "webhook shape: envelope, no isAgentDeleted, _id actions" \
	"$(jq '[.[] | select(.type == "VoiceAiCallEnd") |
		(.webhookId and .timestamp and .locationId and
		 (has("isAgentDeleted") | not) and
		 ([.executedCallActions[] | has("_id") and
		   (has("actionId") | not)] | all))] | all' "$T/bodies")" true
expect_eq "InboundMessage CALL events" \
	"$(jq '[.[] | select(.type == "InboundMessage") | .messageType] |
		unique' -c "$T/bodies")" '["CALL"]'
"$HLSIM" emit --seed 2 --locations 1 --calls-per-location 5 --count 2 \
	--inbound-share 0 --url "$B_URL/__sim/webhook?status=503" \
	>"$T/emit5" 2>/dev/null
expect_eq "5xx: not retried, counted failed" "$(cat "$T/emit5")" \
	"sent=2 2xx=0 429-retried=0 failed=2 bad-signature=0 duplicates=0"

# --- arrivals and summary changes while a client pages
start_sim D --seed 4 --locations 1 --calls-per-location 10 \
	--arrival-rate 25 --mutate-share 1 --mutate-after-ms 200 \
	--dump "$T/dumpD.jsonl" --webhook-url "$B_URL/__sim/webhook" \
	--inbound-share 0 --key-out "$T/pubD.pem" --save-dir "$T/whD"
LOCD=$(jq -r '.locations[0].id' "$T/D.info")
PITD=$(jq -r '.locations[0].pit' "$T/D.info")
ID1=$(head -1 "$T/dumpD.jsonl" | jq -r .id)
getd() { curl -s -H "Authorization: Bearer $PITD" -H "Version: v3" \
	"$D_URL$CL$1"; }
S1=$(getd "/$ID1?locationId=$LOCD" | jq -r .summary)
sleep 0.4
S2=$(getd "/$ID1?locationId=$LOCD" | jq -r .summary)
expect "summary changed after first being served" test "$S1" != "$S2"
TOT=$(getd "?locationId=$LOCD" | jq .total)
expect "calls keep arriving" test "$TOT" -gt 10
curl -s "$D_URL/__sim/dump" >"$T/dumpD.now"
expect "/__sim/dump has the arrivals" test "$(wc -l <"$T/dumpD.now")" -ge "$TOT"
expect "arrivals are delivered as webhooks" \
	test "$(curl -s "$D_URL/__sim/stats" | jq .emitted.ok)" -gt 0
kill -TERM "$D_PID"
wait "$D_PID"
expect_eq "SIGTERM with arrivals: exit 0" "$?" 0
nbad=0
for b in $(ls "$T"/whD/*.json | head -12); do
	openssl pkeyutl -verify -pubin -inkey "$T/pubD.pem" -rawin -in "$b" \
		-sigfile "${b%.json}.sig" >/dev/null 2>&1 || nbad=$((nbad + 1))
	grep -q "\"id\":\"$(jq -r .id "$b")\"" "$T/dumpD.jsonl" ||
		nbad=$((nbad + 1))
done
expect_eq "server webhooks verify and name calls in the dump" "$nbad" 0
expect_eq "--dump at exit has the changed summary" \
	"$(jq -r --arg i "$ID1" 'select(.id == $i) | .summary' "$T/dumpD.jsonl")" \
	"$S2"

