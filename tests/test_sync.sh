#!/usr/bin/env bash
# test_sync.sh — `callvault location` and `callvault sync` against the
# HighLevel simulator (tools/hlsim) over loopback: exact convergence with
# the simulator's own dump, fault kinds, kill -9, concurrent OAuth
# refresh, and the burst limit never exceeded. Windows are scaled down
# (burst per 1 s or less) to keep it fast.
# Usage: test_sync.sh [basic|faults|crash] (default: all three parts).
. "$(dirname "$0")/lib.sh"
PART=${1:-all}
HLSIM=${HLSIM:-}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
if [ -z "$HLSIM" ] || [ ! -x "$HLSIM" ]; then
	echo "hlsim is not built: skipping"
	trap - EXIT
	rm -rf "$T"
	exit 77
fi

SIMS=()
cleanup_hooks+=('for p in "${SIMS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done')

# start_sim NAME ARGS… : run hlsim; sets SIM (its URL) and SIM_PID
start_sim() {
	local name=$1; shift
	rm -f "$T/$name.port"
	"$HLSIM" --quiet --port-file "$T/$name.port" \
		--info-file "$T/$name.info" --dump "$T/$name.dump" "$@" \
		>"$T/$name.out" 2>"$T/$name.err" &
	SIM_PID=$!
	SIMS+=("$SIM_PID")
	for _ in $(seq 100); do
		[ -s "$T/$name.port" ] && break
		sleep 0.05
	done
	SIM="http://127.0.0.1:$(cat "$T/$name.port")"
	INFO="$T/$name.info"
}
# stop_sim: end the current simulator (it rewrites its dump on exit)
stop_sim() { kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; }
jget() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
stat_of() { curl -s "$SIM/__sim/stats" >"$T/stats.json"; jget "$T/stats.json" "$1"; }
loc_id() { jget "$INFO" "d['locations'][$1]['id']"; }
# add_pit I [DB] : register location I of the current sim with its PIT
add_pit() {
	local id; id=$(loc_id "$1")
	jget "$INFO" "d['locations'][$1]['pit']" >"$T/pit.$id"
	# --no-check: the check's requests would count against the burst
	# window that sync, a new process, knows nothing of
	cv location add "$id" --no-check --token-file "$T/pit.$id" \
		--api-base "$SIM" >/dev/null
}
# add_oauth I : exchange the location's install code for a refresh
# token, then register it as an OAuth location
add_oauth() {
	local id; id=$(loc_id "$1")
	curl -s -X POST "$SIM/oauth/token" \
		-d client_id=hlsim-client -d client_secret=hlsim-secret \
		-d grant_type=authorization_code -d user_type=Location \
		-d "code=code-$id" >"$T/code.json"
	jget "$T/code.json" "d['refresh_token']" >"$T/rt.$id"
	echo hlsim-secret >"$T/secret"
	cv location add "$id" --no-check --client-id hlsim-client \
		--client-secret-file "$T/secret" --refresh-token-file \
		"$T/rt.$id" --api-base "$SIM" >/dev/null
}
# converged DUMP DB [LOC…] : the store holds exactly the dump's calls of
# those locations (all when none named), with the same content
converged() {
	$PY - "$@" <<'EOF'
import json, sqlite3, sys
dump, db, locs = sys.argv[1], sys.argv[2], set(sys.argv[3:])
want = {}
for line in open(dump):
    o = json.loads(line)
    if not locs or o.get("locationId") in locs:
        want[o["id"]] = o
con = sqlite3.connect(db)
got = {i: json.loads(c) for i, c in con.execute(
    "SELECT c.id, v.canonical FROM calls c JOIN versions v"
    " ON v.id = c.version_id")}
def same(a, b):
    if b == "[redacted]":
        return True
    if isinstance(a, dict):
        return isinstance(b, dict) and all(
            same(v, b.get(k)) for k, v in a.items() if v is not None)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(
            same(x, y) for x, y in zip(a, b))
    return a == b
bad = [i for i in want if i not in got or not same(want[i], got[i])]
extra = [i for i in got if i not in want]
dups = con.execute("SELECT count(*) - count(DISTINCT id) FROM calls").fetchone()[0]
if bad or extra or dups or not want:
    print("want %d got %d; missing/different %d (e.g. %s); extra %d; dup %d"
          % (len(want), len(got), len(bad), bad[:3], len(extra), dups))
    sys.exit(1)
EOF
}
q() { sqlite3 "$CALLVAULT_DB" "$1"; }
fresh_db() { export CALLVAULT_DB="$T/$1.db"; cv init >/dev/null; }

part_basic() {
# ---- usage ------------------------------------------------------------
fresh_db usage
expect_exit "sync with an unknown option" 2 cv sync --bogus
expect_exit "sync of an unknown location" 2 cv sync --location nope
expect_exit "sync with no locations" 2 cv sync
expect_exit "location add without credentials" 2 cv location add L1
expect_exit "location add with a bad id" 2 cv location add ../x \
	--token-file /dev/null
expect_exit "plain http to a remote host" 2 cv location add L1 \
	--token-file "$0" --api-base http://example.com
expect_exit "--since after --until" 2 cv sync --since 2026-02-01 \
	--until 2026-01-01

# ---- a full sync of three locations (two PIT, one OAuth) -----------------
start_sim main --seed 7 --locations 3 --calls-per-location 600 \
	--burst 10 --window-ms 500
fresh_db main
add_pit 0
add_pit 1
add_oauth 2
L0=$(loc_id 0); L1=$(loc_id 1); L2=$(loc_id 2)
SEC="$CALLVAULT_DB.secrets"
expect_eq "secrets dir mode" "$(stat -c %a "$SEC/$L0")" 700
expect_eq "PIT file mode" "$(stat -c %a "$SEC/$L0/token")" 600
expect_eq "OAuth tokens file mode" "$(stat -c %a "$SEC/$L2/tokens")" 600
expect "no secret in the store" test -z "$(q "SELECT * FROM locations" |
	grep -F -f "$T/pit.$L0")"
expect_exit "full sync" 0 cv sync
cp "$T/err" "$T/sync1.err"; cp "$T/out" "$T/sync1.out"
expect "one ok line per location" test "$(grep -c ': ok: ' "$T/sync1.out")" -eq 3
expect "simulator dump matches the store" converged "$T/main.dump" "$CALLVAULT_DB"
expect_eq "no 429 on a clean server" "$(stat_of "d['served429']")" 0
expect "burst limit never exceeded" test "$(stat_of "d['maxWindowRequests']")" -le 10
expect_eq "agents listed" "$(q "SELECT count(*) FROM agents")" \
	"$(jget "$INFO" "sum(1 for l in d['locations'] for a in l['agents'] if not a['deleted'])")"
check_store
ID=$(q "SELECT c.id FROM calls c JOIN agents a ON a.id = c.agent_id LIMIT 1")
NAME=$(q "SELECT a.name FROM calls c JOIN agents a ON a.id = c.agent_id WHERE c.id = '$ID'")
expect "show prints the agent name" grep -qF "$NAME" <(cv show "$ID")
expect "checkpoint recorded" test -n "$(q "SELECT checkpoint_ms FROM sync_state WHERE location_id = '$L0'")"
expect "location list shows the checkpoint" grep -q "$L2  oauth" <(cv location list)
for f in "$T"/pit.*; do
	expect "no PIT in output" test -z "$(grep -F -f "$f" "$T/sync1.err" "$T/sync1.out")"
done

# ---- the second sync reads only the window after the checkpoint ----------
before=$(stat_of "d['apiRequests']")
expect_exit "second sync" 0 cv sync
after=$(stat_of "d['apiRequests']")
# per location: one agents page and one call-log page
expect "second sync makes few requests ($((after - before)))" \
	test $((after - before)) -le 6
expect "second sync reads nothing new" test "$(grep -c 'read 0,' "$T/out")" -eq 3
expect_exit "--full re-reads everything" 0 cv sync --full --location "$L0"
expect "--full reads the location again" grep -q "read 6[0-9][0-9], new 0" "$T/out"
check_store

# ---- one location failing does not stop the others ------------------------
echo pit-wrong >"$T/badpit"
cv location add BADLOC --no-check --token-file "$T/badpit" --api-base "$SIM" >/dev/null
cv location add NOSECRET --no-check --token-file "$T/badpit" --api-base "$SIM" >/dev/null
rm "$SEC/NOSECRET/token"
expect_exit "a bad location fails the run" 1 cv sync
expect "the refused location is named" grep -q "BADLOC: HTTP 401" "$T/err"
expect "the location without secrets is named" grep -q "NOSECRET: credentials" "$T/err"
expect "the others still synced" test "$(grep -c ': ok: ' "$T/out")" -eq 3
expect_exit "location remove" 0 cv location remove BADLOC
expect_exit "location remove without secrets" 0 cv location remove NOSECRET
expect "secrets removed" test ! -e "$SEC/BADLOC"
stop_sim

# ---- new calls arriving between syncs -------------------------------------
start_sim arrive --seed 8 --locations 1 --calls-per-location 100 \
	--arrival-rate 40 --burst 50 --window-ms 500
fresh_db arrive
add_pit 0
expect_exit "sync while calls arrive" 0 cv sync
sleep 1
expect_exit "next sync" 0 cv sync
expect "the next sync picks up new calls" grep -Eq "new [1-9]" "$T/out"
n_api=$(stat_of "d['apiRequests']")
stop_sim
expect "every stored call is the simulator's" $PY - "$T/arrive.dump" "$CALLVAULT_DB" <<'EOF'
import json, sqlite3, sys
ids = {json.loads(l)["id"] for l in open(sys.argv[1])}
got = [r[0] for r in sqlite3.connect(sys.argv[2]).execute("SELECT id FROM calls")]
sys.exit(0 if got and set(got) <= ids and len(got) == len(set(got)) else 1)
EOF
check_store

# ---- summaries that change after a call first appears ----------------------
start_sim mutate --seed 14 --locations 1 --calls-per-location 300 \
	--mutate-share 0.3 --mutate-after-ms 200
fresh_db mutate
add_pit 0
expect_exit "sync before the summaries change" 0 cv sync
sleep 0.5
expect_exit "--full sync after they changed" 0 cv sync --full
expect "changed summaries became new versions" grep -Eq "updated [1-9]" "$T/out"
stop_sim
expect "store matches the final dump" converged "$T/mutate.dump" "$CALLVAULT_DB"
expect "the first versions are kept" test \
	"$(q "SELECT count(*) FROM versions")" -gt "$(q "SELECT count(*) FROM calls")"
check_store
}

# ---- each fault kind still converges ---------------------------------------
part_faults() {
# repeat= serves the previous page for page > 1: sync moves startDate
# instead of the page number, so it never asks for page 2 and the fault
# has nothing to fire on; latency-ms is not counted as a fault
for fault in 5xx=0.25 reset=0.15 truncate=0.15 badjson=0.15 repeat=0.4 \
	total-drift=0.6 empty=0.3 page-noecho=0.6 example=0.3 \
	storm429=12 latency-ms=30 revoke=0.2; do
	start_sim f --seed 9 --locations 2 --calls-per-location 400 \
		--burst 40 --window-ms 200 --fault "$fault"
	fresh_db "f-${fault%%=*}"
	add_pit 0
	add_oauth 1
	ok_run=0
	for _ in 1 2 3; do
		if cv sync --retries 8 --timeout 5 >"$T/out" 2>"$T/err"; then
			ok_run=1
			break
		fi
	done
	expect_eq "sync converges under $fault" "$ok_run" 1
	fired=$(stat_of "sum(d['faults'].values()) + d['served429']")
	case $fault in
	repeat=*|latency-ms=*) ;;
	*) expect "fault $fault fired" test "$fired" -gt 0 ;;
	esac
	expect "store matches the dump under $fault" converged "$T/f.dump" "$CALLVAULT_DB"
	check_store
	stop_sim
done

# ---- the store fills up mid-sync (--max-store-mb) ---------------------------
# three locations share each commit: the ones with pages not yet
# committed fail by name, nothing partial is kept, and a sync without the
# cap converges
start_sim full --seed 12 --locations 3 --calls-per-location 400 \
	--burst 40 --window-ms 200
fresh_db full
add_pit 0
add_pit 1
add_pit 2
cap=$(( $(stat -c %s "$CALLVAULT_DB") / 1048576 + 2 ))
expect_exit "a sync past --max-store-mb fails" 1 cv sync --max-store-mb "$cap"
expect "a location is failed for the full store" \
	grep -q "store: .*full" "$T/err"
failed=$(grep -c "store: .*full" "$T/err")
expect "the cap stopped the sync early" \
	test "$(q 'SELECT count(*) FROM calls')" -lt 1200
expect_eq "every stored call is whole" \
	"$(q 'SELECT (SELECT count(*) FROM calls) = (SELECT count(*) FROM versions) AND (SELECT count(*) FROM calls) = (SELECT count(*) FROM calls_fts) AND (SELECT count(*) FROM calls) = (SELECT count(*) FROM calls_digits)')" 1
check_store
expect_exit "the next sync, without the cap, succeeds" 0 cv sync
expect "a failed location ($failed) missed nothing" \
	converged "$T/full.dump" "$CALLVAULT_DB"
check_store
stop_sim
}

part_crash() {
# ---- a daily budget that runs out stops that location clearly -------------
start_sim daily --seed 10 --locations 1 --calls-per-location 600 --daily 4
fresh_db daily
add_pit 0
expect_exit "sync past the daily budget" 1 cv sync
expect "daily budget named" grep -q "daily API budget is spent" "$T/err"
stop_sim

# ---- kill -9 at random points, then sync again ----------------------------
start_sim kill --seed 11 --locations 2 --calls-per-location 1500 \
	--fault latency-ms=15 --burst 100 --window-ms 1000
fresh_db kill
add_pit 0
add_oauth 1
for delay in 0.3 0.7 1.1 0.5; do
	cv sync >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
expect "killed syncs stored part of the data" test "$(q "SELECT count(*) FROM calls")" -gt 0
expect_exit "sync after kill -9" 0 cv sync
expect "converged after kill -9" converged "$T/kill.dump" "$CALLVAULT_DB"
expect_eq "no call stored twice (one version each)" \
	"$(q "SELECT count(*) FROM versions")" "$(q "SELECT count(*) FROM calls")"
check_store
stop_sim

# ---- two concurrent syncs share one OAuth refresh token --------------------
start_sim oauth --seed 12 --locations 1 --calls-per-location 1500 \
	--token-ttl 1 --fault latency-ms=20 --burst 200 --window-ms 1000
fresh_db oauth
add_oauth 0
cv sync --full >"$T/a.out" 2>"$T/a.err" &
a=$!
cv sync --full >"$T/b.out" 2>"$T/b.err" &
b=$!
wait "$a"; ra=$?
wait "$b"; rb=$?
expect_eq "first concurrent sync" "$ra" 0
expect_eq "second concurrent sync" "$rb" 0
expect "tokens were refreshed" test "$(stat_of "d['oauth']['refreshed']")" -ge 2
expect_eq "no refresh token was refused" "$(stat_of "d['oauth']['rejected']")" 0
sleep 1.2
expect_exit "the saved refresh token still works" 0 cv sync
expect "the refresh token is on file" grep -q '^refresh_token=.' \
	"$CALLVAULT_DB.secrets/$(loc_id 0)/tokens"
expect "store matches" converged "$T/oauth.dump" "$CALLVAULT_DB"
check_store
stop_sim

# ---- the fetch queue: calls announced by webhooks --------------------------
start_sim queue --seed 13 --locations 1 --calls-per-location 50
fresh_db queue
add_pit 0
LQ=$(loc_id 0)
$PY - "$T/queue.dump" "$CALLVAULT_DB" "$LQ" <<'EOF'
import json, sqlite3, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1])][:5]
con = sqlite3.connect(sys.argv[2])
for i in ids + ["ffffffffffffffffffffffff"]:
    con.execute("INSERT INTO fetch_queue(call_id, location_id, queued_at)"
                " VALUES(?, ?, 0)", (i, sys.argv[3]))
con.commit()
EOF
# a window with no calls in it, so only the queue brings calls in
expect_exit "sync drains the queue" 0 cv sync --since 2015-01-01 --until 2015-01-02
expect_eq "queued calls stored" "$(q "SELECT count(*) FROM calls")" 5
expect_eq "the unknown call stays queued" \
	"$(q "SELECT call_id || ' ' || attempts FROM fetch_queue")" \
	"ffffffffffffffffffffffff 1"
expect_eq "fetched as api versions" \
	"$(q "SELECT count(*) FROM versions WHERE source = 'api'")" 5
check_store
stop_sim
}

case $PART in
basic) part_basic ;;
faults) part_faults ;;
crash) part_crash ;;
all) part_basic; part_faults; part_crash ;;
*) echo "unknown part $PART" >&2; exit 2 ;;
esac
