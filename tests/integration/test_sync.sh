#!/usr/bin/env bash
# test_sync.sh — `callvault location` and `callvault sync` against the
# HighLevel simulator (tools/hlsim) over loopback: exact convergence with
# the simulator's own dump, fault kinds, kill -9, concurrent OAuth
# refresh, and the burst limit never exceeded. Windows are scaled down
# (burst per 1 s or less) to keep it fast.
# Usage: test_sync.sh [basic|faults|quirks|reconcile|crash] (default: all).
. "$(dirname "$0")/../lib.sh"
# recordings are test_recordings.sh's business: request counts and
# budgets here are the call logs' own
calls_only
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
allowed = set(filter(None, __import__("os").environ.get("EXTRA_OK", "").split(",")))
extra = [i for i in got if i not in want and i not in allowed]
dups = con.execute("SELECT count(*) - count(DISTINCT id) FROM calls").fetchone()[0]
if bad or extra or dups or not want:
    print("want %d got %d; missing/different %d (e.g. %s); extra %d; dup %d"
          % (len(want), len(got), len(bad), bad[:3], len(extra), dups))
    sys.exit(1)
EOF
}
q() { sqlite3 "$CALLVAULT_DB" "$1"; }
# drop_call ID : remove a stored call behind callvault's back (a store that
# lost it), from every table a call's search and versions live in
drop_call() {
	local rid; rid=$(q "SELECT rid FROM calls WHERE id = '$1'")
	q "DELETE FROM calls_fts WHERE rowid = $rid; DELETE FROM calls_digits WHERE rowid = $rid; DELETE FROM versions WHERE call_id = '$1'; DELETE FROM calls WHERE id = '$1';"
}
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
# per location: agents and call logs, each a page and at most one more
# that shows the end (a page shorter than asked may be a whole page of a
# server that pages by less: the next page says)
expect "second sync makes few requests ($((after - before)))" \
	test $((after - before)) -le 12
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
	extra_ok=
	if [ "${fault%%=*}" = example ]; then
		# some pages answered with the OpenAPI example instead of the
		# page asked for: the spec promises no echo to tell them by,
		# so sync keeps what it was given (the example's call too)
		# and may end a window early; a fault-free --full sync then
		# fetches the rest and stores nothing twice
		extra_ok=66f1c0d2a4b5c6d7e8f90123,66f1c1e3a4b5c6d7e8f90456 # its calls
		curl -s -d spec= "$SIM/__sim/fault" >/dev/null
		expect_exit "a sync --full after the example fault" 0 \
			cv sync --full
	fi
	export EXTRA_OK=$extra_ok
	expect "store matches the dump under $fault" \
		converged "$T/f.dump" "$CALLVAULT_DB"
	export EXTRA_OK=
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

part_quirks() {
# ---- the freedoms HighLevel's OpenAPI file leaves a server (issue 17) -------
# Each alone and all at once: sync stores every call the server holds
# (compared with the server's own dump), exits 0, and a second sync adds
# nothing. hlsim's --quirk switches are documented in `hlsim --help`.
n=0
for quirk in page-size=10 echo=asked echo=count echo=string echo=example \
	dates=day tz=-5 tz=9 sort=ignore total=all \
	page-size=10,echo=count,dates=day,tz=-5,sort=ignore,total=all \
	page-size=7,echo=asked,dates=day,tz=11,sort=ignore,total=all; do
	n=$((n + 1))
	start_sim "q$n" --seed $((20 + n)) --locations 1 \
		--calls-per-location 130 --burst 200 --window-ms 200 \
		--quirk "$quirk"
	fresh_db "q$n"
	add_pit 0
	expect_exit "sync under quirk $quirk" 0 cv sync
	expect "every call stored under $quirk" \
		converged "$T/q$n.dump" "$CALLVAULT_DB"
	expect_exit "a second sync under $quirk" 0 cv sync
	expect "the second sync adds nothing under $quirk" \
		grep -q "new 0, updated 0," "$T/out"
	check_store
	stop_sim
done

# ---- agent names are auxiliary: calls are archived whatever they do ------
for quirk in agents=scope agents=5xx agents=schema; do
	n=$((n + 1))
	start_sim "q$n" --seed $((20 + n)) --locations 1 \
		--calls-per-location 130 --burst 200 --window-ms 200 \
		--quirk "$quirk,page-size=10"
	fresh_db "q$n"
	add_pit 0
	expect_exit "sync with $quirk exits 0" 0 cv sync
	expect "every call stored with $quirk" \
		converged "$T/q$n.dump" "$CALLVAULT_DB"
	case $quirk in
	agents=schema)
		expect "the spec example's agent is named" test \
			"$(q "SELECT name FROM agents")" = "Front desk" ;;
	*)
		expect "the warning says agents were not listed ($quirk)" \
			grep -q "warning: agent names not listed" "$T/out"
		expect "location list keeps the warning ($quirk)" \
			grep -q 'last-warning "agent names not listed' \
			<(cv location list) ;;
	esac
	[ "$quirk" = agents=scope ] && expect "a missing scope is named" \
		grep -q "voice-ai-agents.readonly" <(cv location list)
	stop_sim
done

# ---- values outside the example's range or type are kept, noted ----------
n=$((n + 1))
start_sim "q$n" --seed 31 --locations 1 --calls-per-location 200 \
	--burst 200 --window-ms 200 --quirk odd-values=0.5
fresh_db "q$n"
add_pit 0
expect_exit "sync with odd values" 0 cv sync
expect_eq "no call went to quarantine" "$(q "SELECT count(*) FROM quarantine")" 0
expect_eq "every call is stored" "$(q "SELECT count(*) FROM calls")" \
	"$(wc -l < "$T/q$n.dump")"
odd=$(q "SELECT count(*) FROM versions WHERE notes LIKE '%\"duration\": negative%'")
expect "the odd calls' versions note their duration ($odd)" \
	test "$odd" -gt 50 -a "$odd" -lt 150
expect_eq "and no duration of theirs is reported" \
	"$(q "SELECT count(*) FROM calls WHERE duration < 0")" 0
stop_sim

# ---- a quarantined record holds the checkpoint: the next sync retries ----
n=$((n + 1))
start_sim "q$n" --seed 33 --locations 1 --calls-per-location 200 \
	--burst 200 --window-ms 200 --quirk no-created=0.05
fresh_db "q$n"
add_pit 0
L=$(loc_id 0)
expect_exit "sync with unidentifiable records" 0 cv sync
expect "the run says how many went to quarantine" \
	grep -q "warning: .* records went to quarantine" "$T/out"
nq=$(q "SELECT count(*) FROM quarantine")
expect "some records went to quarantine ($nq)" test "$nq" -gt 0
# the oldest createdAt (from the server's dump) of a quarantined call
oldest_q=$($PY - "$T/q$n.dump" "$CALLVAULT_DB" <<'PYEOF'
import datetime, json, sqlite3, sys
when = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    when[o["id"]] = datetime.datetime.fromisoformat(
        o["createdAt"].replace("Z", "+00:00")).timestamp() * 1000
ids = [json.loads(r[0])["id"] for r in sqlite3.connect(sys.argv[2]).execute(
    "SELECT CAST(raw AS TEXT) FROM quarantine")]
print(int(min(when[i] for i in ids)))
PYEOF
)
held=$(q "SELECT coalesce(checkpoint_ms, -1) FROM sync_state WHERE location_id = '$L'")
expect "the checkpoint stays before the oldest of them ($held < $oldest_q)" \
	test "$held" -lt "$oldest_q"
expect_exit "the next sync, the records still unreadable" 0 cv sync
expect "reads them again: the run says they stay in quarantine" \
	grep -q "warning: $nq records are still unreadable" "$T/out"
expect_eq "each is kept once, however often it is read" \
	"$(q "SELECT count(*) FROM quarantine")" "$nq"
moved=$(q "SELECT coalesce(checkpoint_ms, -1) FROM sync_state WHERE location_id = '$L'")
expect "and an unreadable record pins the checkpoint no longer ($moved)" \
	test "$moved" -gt "$oldest_q"
curl -s -d spec= "$SIM/__sim/quirk" >/dev/null
expect_exit "once the server serves them whole, reconcile --repair" 0 \
	cv reconcile --since 2015-01-01 --repair
expect "stores them" converged "$T/q$n.dump" "$CALLVAULT_DB"
stop_sim
}

part_reconcile() {
# ---- reconcile: what HighLevel lists against what the store holds --------
# Calls arrive while the simulator serves, all with a createdAt months in
# the past (late: older than sync's 24 h overlap), one stored call is
# deleted from the store, and hlsim revises some summaries after they were
# first served. A plain sync misses all of that; reconcile finds each,
# --repair stores them, and the audit log records every run.
start_sim rec --seed 41 --locations 2 --calls-per-location 300 \
	--burst 200 --window-ms 200 --arrival-rate 40 --arrival-backdate 1 \
	--mutate-share 0.05 --mutate-after-ms 300
fresh_db rec
add_pit 0
add_pit 1
L0=$(loc_id 0)
expect_exit "first sync" 0 cv sync
sleep 1.2
curl -s -X POST "$SIM/__sim/arrivals-stop" >"$T/arrived.json"
expect "calls arrived late ($(cat "$T/arrived.json"))" \
	test "$(jget "$T/arrived.json" "d['arrived']")" -gt 10
gone=$(q "SELECT id FROM calls WHERE location_id = '$L0' ORDER BY created_at LIMIT 1 OFFSET 100")
drop_call "$gone"
printf '{"id":"only-here","createdAt":"2026-02-10T10:00:00Z"}\n' |
	cv import --location "$L0" - >/dev/null
expect_exit "a plain sync" 0 cv sync
curl -s "$SIM/__sim/dump" >"$T/rec.now"
$PY - "$T/rec.now" "$CALLVAULT_DB" >"$T/want_missing" <<'PYEOF'
import json, sqlite3, sys
have = {r[0] for r in sqlite3.connect(sys.argv[2]).execute("SELECT id FROM calls")}
for line in open(sys.argv[1]):
    i = json.loads(line)["id"]
    if i not in have:
        print(i)
PYEOF
expect "a plain sync missed the late calls ($(wc -l <"$T/want_missing"))" \
	test "$(wc -l <"$T/want_missing")" -gt 10
expect "and the deleted one" grep -qx "$gone" "$T/want_missing"
expect_exit "reconcile finds what is missing (exit 3)" 3 \
	cv reconcile --since 2025-12-01 --format json
cp "$T/out" "$T/rec1.json"
$PY - "$T/rec1.json" >"$T/got_missing" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
for loc in d["locations"]:
    for m in loc["missing"]:
        print(m["id"])
PYEOF
expect_eq "it lists exactly the missing calls" \
	"$(sort "$T/got_missing")" "$(sort "$T/want_missing")"
expect "it names the call the API no longer lists" $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if any(x["id"] == "only-here" for l in d["locations"]
                  for x in l["notListed"]) else 1)' "$T/rec1.json"
expect "it finds calls revised at HighLevel" $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if sum(l["totals"]["differs"] for l in d["locations"]) > 0 else 1)' "$T/rec1.json"
expect "per day, the calls listed are the server's calls of that day" $PY -c '
import collections, json, sys
d = json.load(open(sys.argv[1]))
want = collections.Counter()
for line in open(sys.argv[2]):
    o = json.loads(line)
    want[(o["locationId"], o["createdAt"][:10])] += 1
got = collections.Counter()
for l in d["locations"]:
    for x in l["days"]:
        if x["api"]:
            got[(l["location"], x["day"])] = x["api"]
sys.exit(0 if got == want else 1)' "$T/rec1.json" "$T/rec.now"
expect "the audit log records the run and the missing id" \
	grep -q "reconcile.*$gone" <(cv audit)
# every call has now been served once: those hlsim revises change within
# --mutate-after-ms, and once only, so the repair below sees their last
# content and the reconcile after it has nothing left to find
sleep 0.5
before=$(stat_of "d['apiRequests']")
expect_exit "reconcile --repair stores them" 0 \
	cv reconcile --since 2025-12-01 --repair
after=$(stat_of "d['apiRequests']")
expect "--repair says what it stored" grep -q "repaired [1-9]" "$T/out"
curl -s "$SIM/__sim/dump" >"$T/rec.after"
export EXTRA_OK=only-here
expect "the store now holds every call the server holds" \
	converged "$T/rec.after" "$CALLVAULT_DB"
export EXTRA_OK=
expect_exit "a second reconcile finds the period complete" 0 \
	cv reconcile --since 2025-12-01
expect "and says so" grep -q ": complete: " "$T/out"
# paging 600+ calls at 50 a page: the requests are the listing's own
pages=$(( ($(wc -l <"$T/rec.after") + 49) / 50 ))
expect "--repair asked for no more than the listing ($((after - before)) for ~$pages pages)" \
	test $((after - before)) -le $((pages + 6))

# a trust policy that lets no API pull create calls: --repair cannot
# store what is missing, and does not say it did
gone2=$(q "SELECT id FROM calls WHERE location_id = '$L0' ORDER BY created_at LIMIT 1 OFFSET 50")
drop_call "$gone2"
cv trust set --location "$L0" --allow-create ed25519 >/dev/null
expect_exit "--repair that the trust policy refuses (exit 3)" 3 \
	cv reconcile --location "$L0" --since 2025-12-01 --repair
expect "it says the call was not repaired" \
	grep -q ": INCOMPLETE: .*missing 1, .*repaired 0," "$T/out"
cv trust unset --location "$L0" >/dev/null
expect_exit "--repair once the policy allows it" 0 \
	cv reconcile --location "$L0" --since 2025-12-01 --repair
check_store
stop_sim

# a server that reads the bounds as local time 9 h ahead of UTC: the last
# hours of a period are listed only because reconcile asks past its ends
start_sim tz --seed 43 --locations 1 --calls-per-location 300 \
	--burst 200 --window-ms 200 --quirk tz=9
fresh_db tz
add_pit 0
expect_exit "sync under tz=9" 0 cv sync
edge=$(q "SELECT id FROM calls ORDER BY created_at LIMIT 1 OFFSET 150")
until=$($PY -c 'import datetime, sys; print(datetime.datetime.fromtimestamp(int(sys.argv[1]) / 1000 + 3600, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))' "$(q "SELECT created_at FROM calls WHERE id = '$edge'")")
drop_call "$edge"
expect_exit "reconcile of a period whose last hour held the call" 3 \
	cv reconcile --until "$until" --days 10 --format json
expect "it is found missing" grep -q "\"id\": \"$edge\"" "$T/out"
expect "and nothing stored is taken for unlisted" $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["locations"][0]["totals"]["notListed"] == 0 else 1)' "$T/out"
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
quirks) part_quirks ;;
reconcile) part_reconcile ;;
crash) part_crash ;;
all) part_basic; part_faults; part_quirks; part_reconcile; part_crash ;;
*) echo "unknown part $PART" >&2; exit 2 ;;
esac
