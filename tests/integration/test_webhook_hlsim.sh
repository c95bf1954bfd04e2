#!/usr/bin/env bash
# test_webhook_hlsim.sh — end to end: hlsim's webhook emitter (Ed25519
# signed, HighLevel's retry-on-429 policy, duplicates, reordering, CALL
# message events) delivers to `callvault serve`; every call the simulator
# holds ends up stored once, with the same transcript; forged deliveries
# change nothing; a locked store answers 429 and the emitter's retries
# get the events in.
. "$(dirname "$0")/../lib.sh"
HLSIM=${HLSIM:?set by meson}
command -v openssl >/dev/null || { echo "openssl CLI missing: skipped"; exit 77; }

openssl genpkey -algorithm ed25519 -out "$T/priv.pem" 2>/dev/null
openssl pkey -in "$T/priv.pem" -pubout -out "$T/pub.pem"
cv init >/dev/null
"$CALLVAULT" serve --listen 127.0.0.1:0 --port-file "$T/port" --public-key "$T/pub.pem" \
	--busy-timeout 100 2>"$T/serve.err" &
SERVE=$!
cleanup_hooks+=("kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null")
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
URL="http://127.0.0.1:$(cat "$T/port")/webhooks/highlevel"
DATA=(--seed 3 --locations 2 --calls-per-location 40)
"$HLSIM" "${DATA[@]}" --dump "$T/truth.jsonl" --dump-only
N=$(wc -l <"$T/truth.jsonl")

# every event delivered, duplicates and all
"$HLSIM" emit --url "$URL" --key "$T/priv.pem" "${DATA[@]}" \
	--duplicates 0.3 --reorder --inbound-share 0.3 >"$T/emit1" 2>&1
expect "emit exits 0" [ $? -eq 0 ]
expect "no delivery failed" grep -q 'failed=0 ' "$T/emit1"
dups=$(sed -n 's/.*duplicates=\([0-9]*\).*/\1/p' "$T/emit1")
expect "the emitter sent duplicates" [ "${dups:-0}" -gt 0 ]
expect_eq "one call per simulated call" \
	"$(cv stats | awk '/^calls/ {print $2}')" "$N"
expect_eq "one version each despite duplicates" \
	"$(cv stats | awk '/^versions/ {print $2}')" "$N"
missing=0; differs=0
while read -r id; do
	cv show "$id" --json >"$T/show.json" 2>/dev/null || { missing=$((missing + 1)); continue; }
	want=$(jq -r --arg id "$id" 'select(.id == $id) | .transcript' "$T/truth.jsonl")
	got=$(jq -r '.call.transcript' "$T/show.json")
	[ "$want" = "$got" ] || differs=$((differs + 1))
done < <(jq -r .id "$T/truth.jsonl" | head -12)
expect_eq "calls missing" "$missing" 0
expect_eq "transcripts differing from the simulator's" "$differs" 0
# the CALL message events are listed with their call
linked=0
while read -r id; do
	cv show "$id" | grep -q InboundMessage || continue
	# and in JSON: the call end and the message, oldest first
	cv show "$id" --json | jq -e '[.webhookEvents[].type] |
		index("VoiceAiCallEnd") != null and
		index("InboundMessage") != null' >/dev/null && linked=1
	break
done < <(jq -r .id "$T/truth.jsonl")
expect "a call lists its InboundMessage CALL event" [ "$linked" -eq 1 ]
check_store

# forged signatures: refused, nothing stored
before=$(cv stats | awk '/^events/ {print $2}')
"$HLSIM" emit --url "$URL" --key "$T/priv.pem" --seed 4 --locations 1 \
	--calls-per-location 5 --bad-signature 1 >"$T/emit2" 2>&1
expect "forged deliveries reported" grep -q 'bad-signature=[1-9]' "$T/emit2"
expect_eq "forged deliveries stored nothing" \
	"$(cv stats | awk '/^events/ {print $2}')" "$before"

kill -TERM $SERVE; wait $SERVE
expect_eq "serve exits 0 on SIGTERM" "$?" 0
check_store

# a locked store answers 429; HighLevel's retries then get the events in.
# (A store of its own: hlsim's webhookIds for another seed can repeat
# those of seed 3, and a repeated webhookId is a duplicate by design.)
export CALLVAULT_DB="$T/lock.db"
cv init >/dev/null
rm -f "$T/port"
"$CALLVAULT" serve --listen 127.0.0.1:0 --port-file "$T/port" \
	--public-key "$T/pub.pem" --busy-timeout 100 2>"$T/serve2.err" &
SERVE=$!
cleanup_hooks+=("kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null")
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
URL="http://127.0.0.1:$(cat "$T/port")/webhooks/highlevel"
python3 - "$CALLVAULT_DB" >"$T/lock.out" 2>&1 <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(1.5)
db.execute("ROLLBACK")
PY
LOCK=$!
for _ in $(seq 100); do grep -q locked "$T/lock.out" 2>/dev/null && break; sleep 0.05; done
"$HLSIM" emit --url "$URL" --key "$T/priv.pem" --seed 5 --locations 1 \
	--calls-per-location 10 --inbound-share 0 --retry-ms 400 \
	--max-retries 6 >"$T/emit3" 2>&1
wait $LOCK
expect "emit after the lock: all delivered" grep -q 'failed=0 ' "$T/emit3"
expect "some deliveries were retried after 429" \
	grep -q '429-retried=[1-9]' "$T/emit3"
expect_eq "calls after the retried deliveries" \
	"$(cv stats | awk '/^calls/ {print $2}')" 10
kill -TERM $SERVE; wait $SERVE
expect_eq "serve exits 0 on SIGTERM" "$?" 0
check_store
