#!/usr/bin/env bash
# test_hlsim.sh — the HighLevel simulator answers as HighLevel does: paging
# and sorting, 422 validation, 401 messages, rate-limit headers and 429,
# OAuth refresh rotation, faults, --dump matching the API, determinism.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../hlsim.sh"

start_sim A --seed 7 --locations 2 --calls-per-location 57 \
	--dump "$T/dump.jsonl"
LOC0=$(jq -r '.locations[0].id' "$T/A.info")
LOC1=$(jq -r '.locations[1].id' "$T/A.info")
PIT0=$(jq -r '.locations[0].pit' "$T/A.info")
PIT1=$(jq -r '.locations[1].pit' "$T/A.info")

# api TOKEN PATH?QUERY : GET with the usual headers; body to stdout
api() {
	curl -s -H "Authorization: Bearer $1" -H "Version: 2021-04-15" \
		-H "Accept: application/json" "$A_URL$2"
}
# status TOKEN PATH [VERSION] : HTTP status only
status() {
	curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $1" \
		-H "Version: ${3:-2021-04-15}" "$A_URL$2"
}
CL=/voice-ai/dashboard/call-logs

# --- paging and sorting
page_all() {  # LOC PIT EXTRA → ids in API order, one per line
	local p=1 n
	while :; do
		api "$2" "$CL?locationId=$1&page=$p&pageSize=25$3" >"$T/page"
		n=$(jq '.callLogs | length' "$T/page")
		[ "$n" -gt 0 ] || break
		jq -r '.callLogs[].id' "$T/page"
		p=$((p + 1))
		[ "$p" -le 20 ] || break
	done
}
page_all "$LOC0" "$PIT0" "&sortBy=createdAt&sort=ascend" >"$T/ids0"
page_all "$LOC1" "$PIT1" "&sortBy=createdAt&sort=ascend" >"$T/ids1"
expect_eq "57 calls paged for location 0" "$(wc -l <"$T/ids0")" 57
expect_eq "57 calls paged for location 1" "$(sort -u "$T/ids1" | wc -l)" 57
jq -r --arg l "$LOC0" 'select(.locationId == $l) | .id' "$T/dump.jsonl" \
	>"$T/dump0"
expect_eq "ascending pages equal the dump, in createdAt order" \
	"$(cat "$T/ids0")" "$(cat "$T/dump0")"
cat "$T/ids0" "$T/ids1" | sort >"$T/api_all"
jq -r .id "$T/dump.jsonl" | sort >"$T/dump_all"
expect "dump ids = API ids" cmp -s "$T/api_all" "$T/dump_all"
expect_eq "dump records carry locationId" \
	"$(jq -r 'select(.locationId == null) | .id' "$T/dump.jsonl" | wc -l)" 0
api "$PIT0" "$CL?locationId=$LOC0&pageSize=3" >"$T/p"
expect_eq "page echoes total/page/pageSize" \
	"$(jq -c '[.total, .page, .pageSize, (.callLogs | length)]' "$T/p")" \
	"[57,1,3,3]"
expect_eq "default order is newest first" \
	"$(jq '[.callLogs[].createdAt] | . == (sort | reverse)' "$T/p")" true
expect_eq "REST call logs have no locationId" \
	"$(jq '[.callLogs[] | has("locationId")] | any' "$T/p")" false
api "$PIT0" "$CL?locationId=$LOC0&pageSize=50&sortBy=duration&sort=descend" \
	>"$T/p"
expect_eq "sortBy=duration&sort=descend" \
	"$(jq '[.callLogs[].duration] | . == (sort | reverse)' "$T/p")" true
S=$(jq -r --arg l "$LOC0" 'select(.locationId == $l) | .createdAt' \
	"$T/dump.jsonl" | sed -n 10p)
E=$(jq -r --arg l "$LOC0" 'select(.locationId == $l) | .createdAt' \
	"$T/dump.jsonl" | sed -n 29p)
SMS=$(date -d "$S" +%s%3N)
EMS=$(date -d "$E" +%s%3N)
api "$PIT0" "$CL?locationId=$LOC0&startDate=$SMS&endDate=$EMS&pageSize=50" \
	>"$T/p"
expect_eq "startDate/endDate select an inclusive range" \
	"$(jq .total "$T/p")" 20
# filters: the API's totals equal counts over the dump
d0() { jq -c --arg l "$LOC0" "select(.locationId == \$l) | $1" "$T/dump.jsonl"; }
total() { api "$PIT0" "$CL?locationId=$LOC0&pageSize=1$1" | jq .total; }
expect_eq "callType=TRIAL" "$(total "&callType=TRIAL")" \
	"$(d0 'select(.trialCall)' | wc -l)"
expect_eq "callType=LIVE" "$(total "&callType=LIVE")" \
	"$(d0 'select(.trialCall | not)' | wc -l)"
AG=$(jq -r '.locations[0].agents[0].id' "$T/A.info")
expect_eq "agentId filter" "$(total "&agentId=$AG")" \
	"$(d0 "select(.agentId == \"$AG\")" | wc -l)"
C1=$(d0 '.contactId // empty' | sed -n 1p | tr -d '"')
C2=$(d0 '.contactId // empty' | sed -n 2p | tr -d '"')
expect_eq "contactId comma list" "$(total "&contactId=$C1,$C2")" \
	"$(d0 "select(.contactId == \"$C1\" or .contactId == \"$C2\")" | wc -l)"
expect_eq "actionType comma list" "$(total "&actionType=SMS,CUSTOM_ACTION")" \
	"$(d0 'select([.executedCallActions[].actionType] |
		any(. == "SMS" or . == "CUSTOM_ACTION"))' | wc -l)"
expect_eq "bad actionType: 422" \
	"$(status "$PIT0" "$CL?locationId=$LOC0&actionType=SMS,NOPE")" 422
ONE=$(sed -n 5p "$T/dump0")
api "$PIT0" "$CL/$ONE?locationId=$LOC0" >"$T/one"
expect_eq "get one call log" "$(jq -r .id "$T/one")" "$ONE"
expect_eq "get one: same object as the dump" \
	"$(jq -cS . "$T/one")" \
	"$(jq -cS --arg i "$ONE" 'select(.id == $i) | del(.locationId)' \
		"$T/dump.jsonl")"
expect_eq "unknown call id: 404" \
	"$(status "$PIT0" "$CL/000000000000000000000000?locationId=$LOC0")" 404
expect_eq "404 body" "$(jq -r .message "$T/body")" "Call log not found"
api "$PIT0" "/voice-ai/agents?locationId=$LOC0" >"$T/agents"
expect_eq "agents: deleted agent not listed" "$(jq .total "$T/agents")" 3
DEL=$(jq -r '.locations[0].agents[] | select(.deleted) | .id' "$T/A.info")
expect_eq "calls of the deleted agent say isAgentDeleted" \
	"$(jq -r --arg a "$DEL" 'select(.agentId == $a) | .isAgentDeleted' \
		"$T/dump.jsonl" | sort -u)" true

# --- 422 validation
expect_eq "limit: 422" "$(status "$PIT0" "$CL?locationId=$LOC0&limit=5")" 422
expect_eq "limit: HighLevel's body" "$(cat "$T/body")" \
	'{"statusCode":422,"message":["property limit should not exist"],"error":"Unprocessable Entity"}'
expect_eq "start >= end: 422" \
	"$(status "$PIT0" "$CL?locationId=$LOC0&startDate=5000&endDate=5000")" 422
expect_eq "only startDate: 422" \
	"$(status "$PIT0" "$CL?locationId=$LOC0&startDate=5000")" 422
expect_eq "pageSize 51: 422" \
	"$(status "$PIT0" "$CL?locationId=$LOC0&pageSize=51")" 422
expect_eq "sort=asc: 422" "$(status "$PIT0" "$CL?locationId=$LOC0&sortBy=createdAt&sort=asc")" 422
expect_eq "no locationId: 422" "$(status "$PIT0" "$CL")" 422

# --- 401 messages
curl -s -H "Authorization: Bearer $PIT0" "$A_URL$CL?locationId=$LOC0" \
	>"$T/b"
expect_eq "missing Version" "$(jq -r .message "$T/b")" \
	"version header was not found."
expect_eq "bad Version: 401" \
	"$(status "$PIT0" "$CL?locationId=$LOC0" 2020-01-01)" 401
expect_eq "bad Version message" "$(jq -r .message "$T/body")" \
	"version header is invalid"
expect_eq "bad token: 401" "$(status pit-nope "$CL?locationId=$LOC0")" 401
expect_eq "bad token message" "$(jq -r .message "$T/body")" \
	"Invalid token: access token is invalid"
expect_eq "token of another location: 401" \
	"$(status "$PIT0" "$CL?locationId=$LOC1")" 401
expect_eq "other location message" "$(jq -r .message "$T/body")" \
	"The token is not authorized for this scope."
expect_eq "v3 Version accepted" "$(status "$PIT0" "$CL?locationId=$LOC0" v3)" 200

# --- rate-limit headers on every response
curl -s -D "$T/h" -o /dev/null -H "Authorization: Bearer $PIT0" \
	-H "Version: v3" "$A_URL$CL?locationId=$LOC0"
for hname in X-RateLimit-Limit-Daily X-RateLimit-Daily-Remaining \
	X-RateLimit-Interval-Milliseconds X-RateLimit-Max X-RateLimit-Remaining; do
	expect "header $hname" grep -qi "^$hname: [0-9]" "$T/h"
done
curl -s -D "$T/h" -o /dev/null "$A_URL$CL?locationId=$LOC0"
expect "rate headers on a 401 too" grep -qi "^X-RateLimit-Max: 100" "$T/h"

# --- OAuth: code, refresh rotation, old refresh token rejected
tok() { curl -s -o "$T/tok" -w '%{http_code}' "$1/oauth/token" \
	-d client_id=hlsim-client -d client_secret=hlsim-secret \
	-d user_type=Location "${@:2}"; }
expect_eq "authorization_code grant" \
	"$(tok "$A_URL" -d grant_type=authorization_code -d "code=code-$LOC0")" 200
AT1=$(jq -r .access_token "$T/tok")
RT1=$(jq -r .refresh_token "$T/tok")
expect_eq "token locationId" "$(jq -r .locationId "$T/tok")" "$LOC0"
expect_eq "code is single-use" \
	"$(tok "$A_URL" -d grant_type=authorization_code -d "code=code-$LOC0")" 400
expect_eq "access token works" "$(status "$AT1" "$CL?locationId=$LOC0")" 200
expect_eq "refresh" \
	"$(tok "$A_URL" -d grant_type=refresh_token -d "refresh_token=$RT1")" 200
AT2=$(jq -r .access_token "$T/tok")
RT2=$(jq -r .refresh_token "$T/tok")
expect "refresh token rotated" test "$RT2" != "$RT1"
expect_eq "old refresh token rejected" \
	"$(tok "$A_URL" -d grant_type=refresh_token -d "refresh_token=$RT1")" 400
expect_eq "invalid_grant" "$(jq -r .error "$T/tok")" invalid_grant
expect_eq "new access token works" "$(status "$AT2" "$CL?locationId=$LOC0")" 200
expect_eq "new refresh token works once" \
	"$(tok "$A_URL" -d grant_type=refresh_token -d "refresh_token=$RT2")" 200
expect_eq "a JSON body works too" "$(curl -s -o "$T/tok" -w '%{http_code}' \
	"$A_URL/oauth/token" -H 'Content-Type: application/json' \
	-d "{\"client_id\":\"hlsim-client\",\"client_secret\":\"hlsim-secret\",
	\"grant_type\":\"authorization_code\",\"code\":\"code-$LOC1-json\"}")" 200
expect_eq "JSON body: token for that location" "$(jq -r .locationId "$T/tok")" \
	"$LOC1"
expect_eq "wrong client secret" "$(curl -s -o /dev/null -w '%{http_code}' \
	"$A_URL/oauth/token" -d client_id=hlsim-client -d client_secret=x \
	-d grant_type=refresh_token -d "refresh_token=$RT2")" 401

# --- burst limit, 429, stats; token expiry (second simulator). The window
# is long so that eight requests fit in it however slow the machine is.
printf '# extra PITs\n0=pit-from-file\n' >"$T/pits"
start_sim B --seed 2 --locations 1 --calls-per-location 5 --burst 5 \
	--window-ms 60000 --token-ttl 1 --pits-file "$T/pits"
LOCB=$(jq -r '.locations[0].id' "$T/B.info")
PITB=$(jq -r '.locations[0].pit' "$T/B.info")
: >"$T/codes"
for _ in 1 2 3 4 5 6 7 8; do
	curl -s -o /dev/null -D "$T/hb" -w '%{http_code}\n' \
		-H "Authorization: Bearer $PITB" -H "Version: v3" \
		"$B_URL$CL?locationId=$LOCB" >>"$T/codes"
done
expect_eq "5 allowed in the window" "$(grep -c '^200$' "$T/codes")" 5
expect_eq "then 429" "$(grep -c '^429$' "$T/codes")" 3
expect "429 says Remaining 0" grep -qi '^X-RateLimit-Remaining: 0' "$T/hb"
curl -s "$B_URL/__sim/stats" >"$T/stats"
expect_eq "stats: served429" "$(jq .served429 "$T/stats")" 3
expect_eq "stats: maxWindowRequests" "$(jq .maxWindowRequests "$T/stats")" 8
expect_eq "a PIT from --pits-file works (own burst bucket)" \
	"$(curl -s -o /dev/null -w '%{http_code}' -H "Version: v3" \
	-H "Authorization: Bearer pit-from-file" "$B_URL$CL?locationId=$LOCB")" 200
curl -s -X POST "$B_URL/__sim/reset" >/dev/null
expect_eq "reset clears stats" \
	"$(curl -s "$B_URL/__sim/stats" | jq '.served429 + .maxWindowRequests')" 0
tokb() { curl -s -o "$T/tok" -w '%{http_code}' "$B_URL/oauth/token" \
	-d client_id=hlsim-client -d client_secret=hlsim-secret "$@"; }
tokb -d grant_type=authorization_code -d "code=code-$LOCB-x" >/dev/null
ATB=$(jq -r .access_token "$T/tok")
expect_eq "expires_in follows --token-ttl" "$(jq .expires_in "$T/tok")" 1
expect_eq "fresh access token works" "$(curl -s -o /dev/null -w '%{http_code}' \
	-H "Authorization: Bearer $ATB" -H "Version: v3" \
	"$B_URL$CL?locationId=$LOCB")" 200
sleep 1.1
expect_eq "expired access token: 401" "$(curl -s -o /dev/null -w '%{http_code}' \
	-H "Authorization: Bearer $ATB" -H "Version: v3" \
	"$B_URL$CL?locationId=$LOCB")" 401

# --- faults, switched at run time through POST /__sim/fault
start_sim C --seed 3 --locations 1 --calls-per-location 20
LOCC=$(jq -r '.locations[0].id' "$T/C.info")
PITC=$(jq -r '.locations[0].pit' "$T/C.info")
fault() { curl -s -o /dev/null -w '%{http_code}' "$C_URL/__sim/fault" \
	--data-urlencode "spec=$1"; }
getc() {  # EXTRA-QUERY → body in $T/c; prints "HTTPCODE CURLRC"
	local code rc
	code=$(curl -s -o "$T/c" -w '%{http_code}' -H "Authorization: Bearer $PITC" \
		-H "Version: v3" "$C_URL$CL?locationId=$LOCC&pageSize=5${1:-}")
	rc=$?
	echo "$code $rc"
}
expect_eq "bad fault spec: 400" "$(fault bogus=1)" 400
fault reset=1 >/dev/null
expect_eq "reset: empty reply (curl 52)" "$(getc)" "000 52"
fault truncate=1 >/dev/null
expect_eq "truncate: partial body (curl 18)" "$(getc)" "200 18"
fault badjson=1 >/dev/null
expect_eq "badjson: 200" "$(getc)" "200 0"
expect "badjson: not JSON" sh -c "! jq . '$T/c' >/dev/null 2>&1"
fault 5xx=1 >/dev/null
code=$(getc)
expect "5xx: status 50x" test "${code:0:2}" = 50
fault empty=1 >/dev/null
getc >/dev/null
expect_eq "empty: no items, real total" \
	"$(jq -c '[.total, (.callLogs | length)]' "$T/c")" "[20,0]"
fault page-noecho=1 >/dev/null
getc "&page=2" >/dev/null
expect "page-noecho: page differs" test "$(jq .page "$T/c")" != 2
fault repeat=1 >/dev/null
getc "&page=2&sortBy=createdAt&sort=ascend" >/dev/null
P2=$(jq -c '[.callLogs[].id]' "$T/c")
fault "" >/dev/null
getc "&page=1&sortBy=createdAt&sort=ascend" >/dev/null
expect_eq "repeat: page 2 served page 1's items" "$P2" \
	"$(jq -c '[.callLogs[].id]' "$T/c")"
fault total-drift=1 >/dev/null
getc >/dev/null
expect "total-drift: total is off" test "$(jq .total "$T/c")" != 20
fault example=1 >/dev/null
getc "&page=4" >/dev/null
expect_eq "example: the spec example whatever was asked" \
	"$(jq -c '[.total, .page, .pageSize]' "$T/c")" "[137,1,2]"
fault storm429=3,storm-every=0 >/dev/null
for _ in 1 2 3 4; do getc; done >"$T/storm"
expect_eq "storm429: 3 x 429 then 200" "$(cut -c1-3 "$T/storm" | tr '\n' ' ')" \
	"429 429 429 200 "
fault latency-ms=300 >/dev/null
expect "latency-ms: the answer waits" \
	test "$(curl -s -o /dev/null -w '%{time_total}' -H "Version: v3" \
	-H "Authorization: Bearer $PITC" "$C_URL$CL?locationId=$LOCC" |
	tr -d .)" -ge 300000
fault oauth5xx=1 >/dev/null
expect_eq "oauth5xx: token endpoint 503" "$(curl -s -o /dev/null -w '%{http_code}' \
	"$C_URL/oauth/token" -d client_id=hlsim-client -d client_secret=hlsim-secret \
	-d grant_type=authorization_code -d "code=code-$LOCC")" 503
fault revoke=1 >/dev/null
expect_eq "revoke: 401" "$(getc)" "401 0"
fault "" >/dev/null
expect_eq "a revoked PIT still works afterwards" "$(getc)" "200 0"
curl -s "$C_URL/__sim/stats" >"$T/cstats"
expect_eq "stats count fired faults" \
	"$(jq -c '.faults | [.reset, .truncate, .badjson, .storm429, .["latency-ms"]]' \
	"$T/cstats")" "[1,1,1,3,1]"

# --- determinism: same seed, same data; another seed, other data
"$HLSIM" --seed 7 --locations 2 --calls-per-location 57 --dump "$T/again" \
	--dump-only
expect "same seed: identical dump" cmp -s "$T/again" "$T/dump.jsonl"
"$HLSIM" --seed 8 --locations 2 --calls-per-location 57 --dump "$T/other" \
	--dump-only
expect "other seed: other data" sh -c "! cmp -s '$T/other' '$T/dump.jsonl'"
expect_eq "both transcript label forms occur" \
	"$(jq -r '.transcript | split("\n")[0][0:5]' "$T/dump.jsonl" | sort -u |
		tr '\n' '|')" "bot: |bot:T|"
expect "CUSTOM_ACTION secrets occur" grep -q '"authenticationValue":"sk_live_' \
	"$T/dump.jsonl"
expect "undocumented agentTransferOccurred occurs" \
	grep -q '"agentTransferOccurred"' "$T/dump.jsonl"
expect_eq "pageSize=2.5: 422" \
	"$(status "$PIT0" "$CL?locationId=$LOC0&pageSize=2.5")" 422

# --- SIGTERM: clean exit, --dump rewritten
kill -TERM "$A_PID"
wait "$A_PID"
expect_eq "SIGTERM exit status" "$?" 0
expect_eq "dump still complete after exit" "$(wc -l <"$T/dump.jsonl")" 114
