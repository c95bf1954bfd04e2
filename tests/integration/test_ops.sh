#!/usr/bin/env bash
# Issue 25: private by default (under umask 022 nothing callvault creates
# is readable by others; `check` warns about a store that is), `status`
# and its figures on /metrics, and `backup`.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../hlsim.sh"
PY=python3
jget() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
q() { sqlite3 "$CALLVAULT_DB" "$1"; }

umask 022
# what callvault creates goes under $C (created here by the shell, as a
# deployment's directory would be); the test's own files stay outside
C="$T/cv"
mkdir "$C"
export CALLVAULT_DB="$C/store.db"
# ---- a store, synced, archived, verified, exported, backed up ---------
start_sim SIM --seed 3 --locations 2 --calls-per-location 60 \
	--start 2026-01 --months 2
L0=$(jget "$T/SIM.info" "d['locations'][0]['id']")
L1=$(jget "$T/SIM.info" "d['locations'][1]['id']")
jget "$T/SIM.info" "d['locations'][0]['pit']" >"$T/pit0"
echo not-a-valid-token >"$T/pit1"
cv init >/dev/null
cv location add "$L0" --token-file "$T/pit0" --api-base "$SIM_URL" >/dev/null
# --no-check: registered offline, so that its token fails at sync
cv location add "$L1" --no-check --token-file "$T/pit1" --api-base "$SIM_URL" >/dev/null
cv sync >"$T/sync.out" 2>&1
expect_eq "sync: one location fails (bad token)" "$?" 1
cv archive --through 2026-02 --out "$C/arch" >/dev/null
expect "archive" test "$(ls "$C"/arch/*/*.tar.zst | wc -l)" -ge 2
one=$(ls "$C"/arch/"$L0"/2026-01.tar.zst)
expect_exit "verify one month" 0 cv verify "$one"
expect_exit "export --out" 0 cv export --out "$C/calls.csv"
expect_exit "backup" 0 cv backup --out "$C/backup.db"

readable=$(find "$C" -mindepth 1 \( -perm -o=r -o -perm -o=w \) -print)
expect_eq "under umask 022 nothing created is open to others" \
	"$readable" ""
expect_eq "store 0600" "$(stat -c %a "$CALLVAULT_DB")" 600
expect_eq "WAL 0600" "$(stat -c %a "$CALLVAULT_DB-wal")" 600
expect_eq "archive directory 0700" "$(stat -c %a "$C/arch/$L0")" 700
expect_eq "backup 0600" "$(stat -c %a "$C/backup.db")" 600

# ---- check warns about a store others can read ------------------------
cv check >/dev/null 2>"$T/check.err"
expect_eq "check: no warning on a private store" "$(cat "$T/check.err")" ""
chmod 644 "$CALLVAULT_DB"
expect_exit "check still passes" 0 cv check
expect "check names the readable store" grep -q \
	"warning: $CALLVAULT_DB is readable by other users (mode 0644)" "$T/err"
chmod 600 "$CALLVAULT_DB"

# ---- status --------------------------------------------------------------
cv status --json >"$T/st.json"
wal=$(stat -c %s "$CALLVAULT_DB-wal")
expect_eq "status: calls" "$(jget "$T/st.json" "d['calls']")" \
	"$(q 'SELECT count(*) FROM calls')"
loc() { jget "$T/st.json" "[l for l in d['locations'] if l['id'] == '$1'][0]$2"; }
expect_eq "status: synced location's calls" "$(loc "$L0" "['calls']")" \
	"$(q "SELECT count(*) FROM calls WHERE location_id = '$L0'")"
expect "status: last success of the synced location" \
	test "$(loc "$L0" "['lastSuccessAt']")" != None
expect_eq "status: its last error" "$(loc "$L0" "['lastError']")" None
expect_eq "status: the failing location never succeeded" \
	"$(loc "$L1" "['lastSuccessAt']")" None
expect "status: its error is shown" \
	test "$(loc "$L1" "['lastError']")" != None
expect_eq "status: WAL size" "$(jget "$T/st.json" "d['walBytes']")" "$wal"
arch() { jget "$T/st.json" "[a for a in d['archives'] if a['locationId'] == '$L0' and a['month'] == '$1'][0]$2"; }
expect "status: January verified" test "$(arch 2026-01 "['lastVerifiedAt']")" != None
expect_eq "status: February written, never verified" \
	"$(arch 2026-02 "['lastVerifiedAt']") $(arch 2026-02 "['unverified']")" "None 1"
# a queued fetch, 90 s old
q "INSERT INTO fetch_queue(call_id, location_id, queued_at) VALUES ('qc1', '$L0', $(( $(date +%s) * 1000 - 90000 )))"
cv status --json >"$T/st.json"
expect_eq "status: queue depth" "$(jget "$T/st.json" "d['fetchQueue']['depth']")" 1
expect "status: queue age" test "$(jget "$T/st.json" "d['fetchQueue']['oldestAgeSeconds']")" -ge 90
cv status >"$T/st.txt"
expect "status text: the queue" grep -q "fetch queue  1 waiting" "$T/st.txt"
expect "status text: the error" grep -q "^$L1 .*never" "$T/st.txt"
expect "status text: unverified month" grep -q "2026-02 .* UNVERIFIED" "$T/st.txt"
expect_exit "status: unknown option" 2 cv status --bogus
# calls behind: the API's total for the last sync's range less the calls
# stored there; unknown (null) for a location whose sync never got a page
expect_eq "status: the synced location is not behind" \
	"$(loc "$L0" "['callsBehind']")" 0
expect "status: as of its sync" test "$(loc "$L0" "['callsBehindAsOf']")" != None
expect_eq "status: the failing location: unknown" \
	"$(loc "$L1" "['callsBehind']")" None
expect "status text: behind column" grep -q "^$L0 *60 *0 " "$T/st.txt"

# ---- the same figures on /metrics ------------------------------------
"$CALLVAULT" serve --listen 127.0.0.1:0 --port-file "$T/port" 2>"$T/serve.log" &
spid=$!
cleanup_hooks+=("kill $spid 2>/dev/null; wait $spid 2>/dev/null")
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
curl -s "http://127.0.0.1:$(cat "$T/port")/metrics" >"$T/metrics"
m() { awk -v k="$1" '$1 == k {print $2}' "$T/metrics"; }
expect_eq "metrics: status up" "$(m callvault_status_up)" 1
expect_eq "metrics: calls" "$(m callvault_calls_stored)" \
	"$(q 'SELECT count(*) FROM calls')"
expect_eq "metrics: fetch queue" "$(m callvault_fetch_queue_depth)" 1
expect_eq "metrics: the audit head" "$(m callvault_audit_head_id)" \
	"$(q 'SELECT max(id) FROM audit')"
expect_eq "metrics: its hash" "$(grep -c "^callvault_audit_head_info{id=\"$(q 'SELECT max(id) FROM audit')\",hash=\"$(q 'SELECT hash FROM audit ORDER BY id DESC LIMIT 1')\"} 1$" "$T/metrics")" 1
expect "metrics: queue age" awk -v a="$(m callvault_fetch_queue_oldest_age_seconds)" 'BEGIN { exit !(a >= 90) }'
expect_eq "metrics: failing location" \
	"$(m "callvault_sync_last_run_failed{location=\"$L1\"}")" 1
expect_eq "metrics: synced location" \
	"$(m "callvault_sync_last_run_failed{location=\"$L0\"}")" 0
expect_eq "metrics: its last success" \
	"$(m "callvault_sync_last_success_timestamp_seconds{location=\"$L0\"}" | cut -d. -f1)" \
	"$(q "SELECT last_ok_at / 1000 FROM sync_state WHERE location_id = '$L0'")"
expect_eq "metrics: unverified month" \
	"$(m "callvault_archive_unverified{location=\"$L0\",month=\"2026-02\"}")" 1
expect "metrics: WAL size" grep -q '^callvault_webhook_wal_file_bytes [0-9]' "$T/metrics"
expect_eq "metrics: calls behind" \
	"$(m "callvault_location_calls_behind{location=\"$L0\"}")" 0
expect_eq "metrics: none for a location with no total" \
	"$(grep -c "^callvault_location_calls_behind{location=\"$L1\"}" "$T/metrics")" 0
kill "$spid"; wait "$spid" 2>/dev/null

# ---- calls behind: a sync killed after its first page ----------------
# The first page's total (the whole range's) is recorded with the page,
# so what the run did not get shows; a later sync that gets the calls
# brings it to 0. 150 calls, 50 a page, each answer 700 ms late.
B="$T/behind.db"
start_sim BS --seed 5 --locations 1 --calls-per-location 150 \
	--start 2026-01 --months 1 --fault latency-ms=700
LB=$(jget "$T/BS.info" "d['locations'][0]['id']")
jget "$T/BS.info" "d['locations'][0]['pit']" >"$T/pitb"
"$CALLVAULT" --db "$B" init >/dev/null
"$CALLVAULT" --db "$B" location add "$LB" --token-file "$T/pitb" \
	--api-base "$BS_URL" >/dev/null
"$CALLVAULT" --db "$B" sync --no-media >"$T/syncb.out" 2>&1 &
bpid=$!
cleanup_hooks+=("kill -9 $bpid 2>/dev/null")
for _ in $(seq 200); do
	[ -n "$(sqlite3 "$B" 'SELECT listed_total FROM sync_state' 2>/dev/null)" ] && break
	sleep 0.05
done
kill -9 "$bpid"; wait "$bpid" 2>/dev/null
stored=$(sqlite3 "$B" 'SELECT count(*) FROM calls')
"$CALLVAULT" --db "$B" status --json >"$T/stb.json"
expect_eq "behind: the API's 150 less the $stored stored" \
	"$(jget "$T/stb.json" "d['locations'][0]['callsBehind']")" \
	"$((150 - stored))"
expect "behind: the killed sync had stored only part" test "$stored" -lt 150
curl -s -d spec= "$BS_URL/__sim/fault" >/dev/null
"$CALLVAULT" --db "$B" sync --no-media >"$T/syncb2.out" 2>&1
expect_eq "behind: a sync that stores them" "$?" 0
"$CALLVAULT" --db "$B" status --json >"$T/stb.json"
expect_eq "behind: none after it" \
	"$(jget "$T/stb.json" "d['locations'][0]['callsBehind']")" 0

# ---- backup ----------------------------------------------------------
cv search refund --count >/dev/null   # the store moved on since
expect_exit "backup: refuses to overwrite" 2 cv backup --out "$C/backup.db"
expect_exit "backup: --out is required" 2 cv backup
expect_exit "backup: a directory that does not exist" 1 \
	cv backup --out "$T/nope/b.db"
expect_eq "backup: nothing left behind" \
	"$(ls "$C" | grep -c 'backup.db.tmp')" 0
expect_exit "backup: the copy passes check" 0 \
	"$CALLVAULT" --db "$C/backup.db" check
expect_eq "backup: the copy holds the calls" \
	"$(sqlite3 "$C/backup.db" 'SELECT count(*) FROM calls')" \
	"$(q 'SELECT count(*) FROM calls')"
expect_eq "backup: audited" \
	"$(q "SELECT command, result_count FROM audit WHERE command = 'backup'")" \
	"backup|$(q 'SELECT count(*) FROM calls')"
# online: a backup while serve holds the store open and takes writes
"$CALLVAULT" serve --listen 127.0.0.1:0 --port-file "$T/port2" 2>"$T/serve2.log" &
spid=$!
cleanup_hooks+=("kill $spid 2>/dev/null; wait $spid 2>/dev/null")
for _ in $(seq 100); do [ -s "$T/port2" ] && break; sleep 0.05; done
for i in $(seq 20); do cv search "refund" --count >/dev/null; done &
spid2=$!
expect_exit "backup while serving and searching" 0 cv backup --out "$C/b2.db"
wait $spid2
expect_exit "that copy passes check" 0 "$CALLVAULT" --db "$C/b2.db" check
kill "$spid"; wait "$spid" 2>/dev/null
