#!/usr/bin/env bash
# test_credentials.sh — issue 17 against the HighLevel simulator:
#   check      `location add` asks the API what a token can do before it
#              stores anything (scopes, another location's token, OAuth
#              reply, --replace, --no-check, an unreachable API);
#   ratelimit  sync under rate-limit headers as a server may state them:
#              Retry-After (seconds and HTTP-date), X-RateLimit-Daily-Reset,
#              429s with no headers, headers that are not integers.
#   agency     `location add-agency`: a Company-level install, its
#              locations' own tokens from /oauth/locationToken, sync, token
#              expiry, the app leaving and coming back.
# Usage: test_credentials.sh [check|ratelimit|agency] (default: all).
. "$(dirname "$0")/../lib.sh"
# recordings are test_recordings.sh's business: request counts and
# budgets here are the call logs' own
calls_only
PART=${1:-all}
HLSIM=${HLSIM:-}
if [ -z "$HLSIM" ] || [ ! -x "$HLSIM" ]; then
	echo "hlsim is not built: skipping"
	trap - EXIT
	rm -rf "$T"
	exit 77
fi
. "$(dirname "$0")/../hlsim.sh"

# sim NAME ARGS… : start hlsim; SIM is its URL, INFO its /__sim/info
# file, NAME_PID its pid (hlsim.sh's start_sim also asserts the port on
# stdout, which under load may come after the port file)
sim() {
	local name=$1; shift
	"$HLSIM" --quiet --port 0 --port-file "$T/$name.port" \
		--info-file "$T/$name.info" --seed 5 --locations 2 "$@" \
		>"$T/$name.out" 2>"$T/$name.err" &
	local pid=$!
	cleanup_hooks+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null")
	printf -v "${name}_PID" '%s' "$pid"
	for _ in $(seq 200); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
	SIM="http://127.0.0.1:$(cat "$T/$name.port")"
	INFO="$T/$name.info"
	for _ in $(seq 200); do [ -s "$INFO" ] && break; sleep 0.05; done
	L0=$(jq -r '.locations[0].id' "$INFO")
	L1=$(jq -r '.locations[1].id' "$INFO")
	jq -r '.locations[0].pit' "$INFO" >"$T/pit0"
	jq -r '.locations[1].pit' "$INFO" >"$T/pit1"
}
fresh_db() { export CALLVAULT_DB="$T/$1.db"; cv init >/dev/null; }
# refresh_token I FILE : an OAuth install of location I; its refresh token
refresh_token() {
	local id; id=$(jq -r ".locations[$1].id" "$INFO")
	curl -s -X POST "$SIM/oauth/token" -d client_id=hlsim-client \
		-d client_secret=hlsim-secret -d grant_type=authorization_code \
		-d user_type=Location -d "code=code-$id" | jq -r .refresh_token >"$2"
}
echo hlsim-secret >"$T/secret"
add_oauth() { # LOC REFRESH_FILE [ARGS…]
	local loc=$1 rt=$2; shift 2
	cv location add "$loc" --client-id hlsim-client --client-secret-file \
		"$T/secret" --refresh-token-file "$rt" --api-base "$SIM" "$@"
}
nothing_stored() { # LOC : no row, no secrets, no staging left behind
	local loc=$1
	expect "no row for $loc" test -z "$(cv location list | grep "^$loc ")"
	expect "no secrets for $loc" test ! -e "$CALLVAULT_DB.secrets/$loc"
	expect "no staging for $loc" test ! -e "$CALLVAULT_DB.secrets/$loc.new"
}
api_requests() { curl -s "$SIM/__sim/stats" | jq .apiRequests; }

part_check() {
# ---- a token with every scope -------------------------------------------
sim full --calls-per-location 20
fresh_db full
expect_exit "add a good PIT" 0 cv location add "$L0" --token-file "$T/pit0" \
	--api-base "$SIM"
expect "what the token can do" grep -qx "location $L0: call logs: ok; agents: ok; recordings: not checked" "$T/out"
expect "added" grep -q "^location $L0 added" "$T/out"
expect_eq "secrets dir mode" "$(stat -c %a "$CALLVAULT_DB.secrets/$L0")" 700
expect "no staging dir left" test ! -e "$CALLVAULT_DB.secrets/$L0.new"
expect_eq "one request per endpoint" "$(api_requests)" 2

# another location's PIT, an invalid PIT, a wrong Version: refused
expect_exit "another location's PIT" 2 cv location add "$L1" \
	--token-file "$T/pit0" --api-base "$SIM"
expect "says it cannot read call logs" grep -q "cannot read call logs: missing scope voice-ai-dashboard.readonly (or it is not a token of this location); nothing stored" "$T/err"
nothing_stored "$L1"
echo pit-00000000-bogus >"$T/badpit"
expect_exit "an invalid PIT" 2 cv location add "$L1" --token-file \
	"$T/badpit" --api-base "$SIM"
expect "the server's words" grep -q "call logs: refused (HTTP 401: Invalid token" "$T/out"
nothing_stored "$L1"
expect_exit "a Version the API refuses" 2 cv location add "$L1" \
	--token-file "$T/pit1" --api-base "$SIM" --version 1999-01-01
expect "names the version problem" grep -q "version header is invalid" "$T/out"
nothing_stored "$L1"
# --no-check stores what it is given
expect_exit "--no-check stores an unchecked token" 0 cv location add "$L1" \
	--no-check --token-file "$T/badpit" --api-base "$SIM"
expect "says not checked" grep -q "not checked" "$T/out"
# --replace with refused credentials keeps the working ones
cp "$CALLVAULT_DB.secrets/$L0/token" "$T/kept"
expect_exit "--replace with a refused token" 2 cv location add "$L0" \
	--replace --token-file "$T/badpit" --api-base "$SIM"
expect "old token kept" cmp -s "$T/kept" "$CALLVAULT_DB.secrets/$L0/token"
expect_exit "--replace with a good token" 0 cv location add "$L0" \
	--replace --token-file "$T/pit0" --api-base "$SIM"
expect_exit "the location still syncs" 0 cv sync --location "$L0"

# OAuth: the reply names the location and the scopes
refresh_token 0 "$T/rt0"
cp "$T/rt0" "$T/rt0.orig"
expect_exit "OAuth token of another location" 2 add_oauth "$L1" "$T/rt0" \
	--replace
expect "names both locations" grep -q "the OAuth token is for location $L0, not $L1; nothing stored" "$T/err"
expect "the spent refresh token is handed back" \
	grep -q "now holds its successor" "$T/err"
expect "the file holds a new token" test "$(cat "$T/rt0")" != "$(cat "$T/rt0.orig")"
expect_exit "the handed-back token works" 0 add_oauth "$L0" "$T/rt0" --replace
expect "recordings scope granted" grep -qx "location $L0: call logs: ok; agents: ok; recordings: scope granted, not checked" "$T/out"
expect_exit "OAuth location syncs" 0 cv sync --location "$L0"
stop_full

# ---- the token lacks the agents scope: added, with a warning ------------
sim noagents --calls-per-location 20 --lack-scope voice-ai-agents.readonly
fresh_db noagents
expect_exit "PIT without the agents scope" 0 cv location add "$L0" \
	--token-file "$T/pit0" --api-base "$SIM"
expect "names the missing scope" grep -qx "location $L0: call logs: ok; agents: missing scope voice-ai-agents.readonly; recordings: not checked" "$T/out"
expect "warns on stderr" grep -q "agent names stay unknown" "$T/err"
refresh_token 1 "$T/rt1"
expect_exit "OAuth without the agents scope" 0 add_oauth "$L1" "$T/rt1"
expect "the scope list says so" grep -q "agents: missing scope voice-ai-agents.readonly" "$T/out"
stop_noagents

# ---- the token lacks the call-log scope: refused ------------------------
sim nocalls --calls-per-location 20 \
	--lack-scope voice-ai-dashboard.readonly,conversations/message.readonly
fresh_db nocalls
expect_exit "PIT without the call-log scope" 2 cv location add "$L0" \
	--token-file "$T/pit0" --api-base "$SIM"
expect "names the call-log scope" grep -q "call logs: missing scope voice-ai-dashboard.readonly; agents: ok" "$T/out"
nothing_stored "$L0"
refresh_token 1 "$T/rt1"
before=$(api_requests)
expect_exit "OAuth without the call-log scope" 2 add_oauth "$L1" "$T/rt1"
expect "names both missing scopes" grep -qx "location $L1: call logs: missing scope voice-ai-dashboard.readonly; agents: ok; recordings: missing scope conversations/message.readonly" "$T/out"
expect "refusal without a scope hint" grep -q "missing scope voice-ai-dashboard.readonly; nothing stored" "$T/err"
expect_eq "no call-log request the scope list rules out" \
	$(($(api_requests) - before)) 1
nothing_stored "$L1"
stop_nocalls

# ---- the API cannot answer ----------------------------------------------
sim down --calls-per-location 20 --fault 5xx=1
fresh_db down
expect_exit "API answering 5xx" 1 cv location add "$L0" --token-file \
	"$T/pit0" --api-base "$SIM"
expect "suggests --no-check" grep -q "could not check the credentials: HTTP 5.*--no-check" "$T/err"
expect_eq "asked three times per endpoint" "$(api_requests)" 6
nothing_stored "$L0"
stop_down
expect_exit "API not listening" 1 cv location add "$L0" --token-file \
	"$T/pit0" --api-base "$SIM"
nothing_stored "$L0"
}

# stop_NAME : end the simulator NAME
for n in full noagents nocalls down ra date daily nodaily bare junk agency; do
	eval "stop_$n() { kill \"\$${n}_PID\"; wait \"\$${n}_PID\" 2>/dev/null; }"
done

# spend PIT N : N API requests with the PIT of location 0
spend() {
	for _ in $(seq "$1"); do
		curl -s -o /dev/null -H "Authorization: Bearer $(cat "$T/pit0")" \
			-H 'Version: 2021-04-15' \
			"$SIM/voice-ai/agents?locationId=$L0"
	done
}
# align MS : sleep until 100 ms past a multiple of MS on the wall clock
# (hlsim's --day-ms periods), so that a budget spent now stays spent
align() {
	local now ms
	now=$(date +%s%3N)
	ms=$(($1 - now % $1 + 100))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
}
# waited: the wait_ms sync logged for its first 429
waited() { grep -o 'wait_ms=[0-9]*' "$T/err" | head -1 | cut -d= -f2; }
stored() { sqlite3 "$CALLVAULT_DB" "SELECT count(*) FROM calls"; }

part_ratelimit() {
# ---- Retry-After: the wait the server asks, not the interval ------------
# the window (6 s) is spent by another client; 2.5 s later sync's first
# request gets 429 with Retry-After 4 s (as seconds, or as an HTTP-date:
# up to a second more), X-RateLimit-Interval-Milliseconds 6000
retry_after_case() { # NAME MODE MAX_WAIT_MS
	sim "$1" --calls-per-location 20 --burst 3 --window-ms 6000 \
		--retry-after "$2"
	fresh_db "$1"
	cv location add "$L0" --no-check --token-file "$T/pit0" \
		--api-base "$SIM" >/dev/null
	spend 3
	sleep 2.5
	expect_exit "sync after a 429 with Retry-After as $2" 0 cv sync
	local w; w=$(waited)
	expect "waited as Retry-After ($2) said (${w:-none} ms)" \
		test "${w:-0}" -ge 3000 -a "${w:-99999}" -lt "$3"
	expect_eq "all calls stored" "$(stored)" 20
	"stop_$1"
}
retry_after_case ra seconds 5000
retry_after_case date date 5900

# ---- the daily budget, spent by another client, renews soon -------------
sim daily --calls-per-location 20 --daily 4 --day-ms 3000 --daily-reset-header
fresh_db daily
cv location add "$L0" --no-check --token-file "$T/pit0" --api-base "$SIM" >/dev/null
align 3000
spend 4
expect_exit "sync waits for the daily reset" 0 cv sync
expect "said why it waited" grep -q "daily budget spent; waiting" "$T/err"
w=$(waited)
expect "waited at most the period (${w:-none} ms)" test "${w:-99999}" -le 3300
expect_eq "all calls stored" "$(stored)" 20
stop_daily
# without the header nothing says when: the location fails clearly
sim nodaily --calls-per-location 20 --daily 4 --day-ms 3000
fresh_db nodaily
cv location add "$L0" --no-check --token-file "$T/pit0" --api-base "$SIM" >/dev/null
align 3000
spend 4
expect_exit "sync with a spent daily budget" 1 cv sync
expect "daily budget named" grep -q "daily API budget is spent" "$T/err"
stop_nodaily

# ---- 429s with no headers at all: wait and retry ------------------------
sim bare --calls-per-location 400 --burst 1000 --window-ms 300 --bare-429 \
	--fault storm429=3,storm-every=6
fresh_db bare
cv location add "$L0" --no-check --token-file "$T/pit0" --api-base "$SIM" >/dev/null
expect_exit "sync through bare 429s" 0 cv sync --location "$L0"
expect_eq "all calls stored" "$(stored)" 400
expect "bare 429s were served" test "$(curl -s "$SIM/__sim/stats" | jq .served429)" -ge 3
expect "waited on them" grep -q "rate limited (429); waiting" "$T/err"
stop_bare

# ---- every rate-limit header unreadable: ignored, warned about once -----
sim junk --calls-per-location 300 --ratelimit-garbage --daily-reset-header
fresh_db junk
cv location add "$L0" --no-check --token-file "$T/pit0" --api-base "$SIM" >/dev/null
expect_exit "sync with unreadable rate-limit headers" 0 cv sync --location "$L0"
expect_eq "all calls stored" "$(stored)" 300
for h in X-RateLimit-Limit-Daily X-RateLimit-Daily-Remaining \
	X-RateLimit-Interval-Milliseconds X-RateLimit-Max \
	X-RateLimit-Remaining X-RateLimit-Daily-Reset; do
	expect_eq "one warning for $h" "$(grep -c "header=$h value=" "$T/err")" 1
done
expect "the value is shown" grep -q 'header=X-RateLimit-Max value="100.0"' "$T/err"
stop_junk
}

# company_token FILE : a Company-level install; its refresh token
company_token() {
	curl -s -X POST "$SIM/oauth/token" -d client_id=hlsim-client \
		-d client_secret=hlsim-secret -d grant_type=authorization_code \
		-d user_type=Company -d "code=company-$RANDOM" |
		jq -r .refresh_token >"$1"
}
install() { # LOC 0|1 : (un)install the app in LOC
	curl -s -o /dev/null -X POST -d "locationId=$1" -d "installed=$2" \
		"$SIM/__sim/install"
}
agency() { cv location add-agency "$@"; }
COMPANY=GNb7aIv4rQFVb9iwNl5K

part_agency() {
sim agency --locations 3 --calls-per-location 30 --token-ttl 3
L2=$(jq -r '.locations[2].id' "$INFO")
jq -r '.locations[2].pit' "$INFO" >"$T/pit2"
fresh_db agency
SEC="$CALLVAULT_DB.secrets"
# a location-level install is not an agency's
refresh_token 0 "$T/rtl"
cp "$T/rtl" "$T/rtl.orig"
expect_exit "add-agency with a location's install" 2 agency \
	--client-id hlsim-client --client-secret-file "$T/secret" \
	--refresh-token-file "$T/rtl" --api-base "$SIM"
expect "the refresh with user_type=Company refused" grep -q "agency install: location agency: token refresh refused (HTTP 400" "$T/err"
expect "the refresh token file untouched" cmp -s "$T/rtl" "$T/rtl.orig"
expect "nothing stored" test -z "$(cv location list)" -a ! -e "$SEC/agency-$COMPANY"
expect_exit "--company before any install" 2 agency --company "$COMPANY"
# a location with a PIT of its own stays as it is
cv location add "$L2" --token-file "$T/pit2" --no-check --api-base "$SIM" >/dev/null
company_token "$T/crt"
expect_exit "add-agency" 0 agency --client-id hlsim-client \
	--client-secret-file "$T/secret" --refresh-token-file "$T/crt" \
	--api-base "$SIM"
expect "each checked" test "$(grep -c "call logs: ok; agents: ok" "$T/out")" -eq 2
expect "summary" grep -qx "agency $COMPANY: 3 installed location(s): 2 added, 0 already registered, 0 stopped, 0 failed (some have credentials of their own)" "$T/out"
expect "the PIT location left alone" grep -qx "location $L2: has credentials of its own: left as it is" "$T/out"
expect_eq "agency secrets dir mode" "$(stat -c %a "$SEC/agency-$COMPANY")" 700
expect_eq "agency tokens file mode" "$(stat -c %a "$SEC/agency-$COMPANY/tokens")" 600
expect "no client secret in a location's dir" test ! -e "$SEC/$L0/client_secret"
expect_exit "sync every location" 0 cv sync
expect_eq "every call stored" "$(stored)" 90
# the tokens expire (3 s): the locations' come again from
# /oauth/locationToken, with the company's token refreshed first
sleep 3.2
r0=$(curl -s "$SIM/__sim/stats" | jq .oauth.refreshed)
expect_exit "sync after every token expired" 0 cv sync
expect "company token refreshed" test "$(curl -s "$SIM/__sim/stats" | jq .oauth.refreshed)" -gt "$r0"
expect "location tokens requested again" test "$(grep -c 'OAuth tokens refreshed' "$T/err")" -ge 3
expect_eq "no refresh token refused but the location's" \
	"$(curl -s "$SIM/__sim/stats" | jq .oauth.rejected)" 1
# the app leaves a location, and comes back
install "$L1" 0
expect_exit "listing again" 0 agency --company "$COMPANY"
expect "the location is stopped" grep -q "location $L1: the app is no longer installed there: stopped" "$T/out"
expect "its row is gone" test -z "$(cv location list | grep "^$L1 ")"
expect "its secrets are gone" test ! -e "$SEC/$L1"
expect_eq "its calls stay" "$(stored)" 90
install "$L1" 1
expect_exit "listing once more" 0 agency --company "$COMPANY"
expect "added back" grep -q "location $L1 added (agency $COMPANY)" "$T/out"
expect "the others kept" grep -q "location $L0: already registered" "$T/out"
expect_exit "sync after the changes" 0 cv sync
check_store
stop_agency
}

case $PART in
check) part_check ;;
ratelimit) part_ratelimit ;;
agency) part_agency ;;
all) part_check; part_ratelimit; part_agency ;;
*) echo "usage: $0 [check|ratelimit|agency]" >&2; exit 2 ;;
esac
