#!/usr/bin/env bash
# test_serve_access.sh — who may read /metrics and which Origin the console
# accepts (issue 18, item 9): /metrics answers loopback clients only, or
# the holder of --metrics-token-file's token; with --public-url the
# console takes state-changing requests only from that origin, not from
# whatever Host a (rebound) request names.
. "$(dirname "$0")/../lib.sh"
cv init >/dev/null

# start_serve NAME ARGS… : serve on 127.0.0.1, port in $PORT
start_serve() {
	local name=$1; shift
	rm -f "$T/$name.port"
	"$CALLVAULT" serve --listen 127.0.0.1:0 --port-file "$T/$name.port" \
		"$@" 2>"$T/$name.log" &
	local pid=$!
	cleanup_hooks+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null")
	for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
	PORT=$(cat "$T/$name.port")
	SPID=$pid
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# ---- /metrics without a token: loopback clients only ---------------------
start_serve open --console --public-url https://vault.example.com
expect_eq "/metrics from 127.0.0.1" "$(code "http://127.0.0.1:$PORT/metrics")" 200
# (a client from outside loopback is refused 403; the tests have no such
# address to send from: every 127/8 source is loopback)

# ---- the console's Origin: the public URL, not the request's Host ----------
L="http://127.0.0.1:$PORT/login"
expect_eq "an Origin matching only the Host is refused (DNS rebinding)" \
	"$(code -H "Origin: http://127.0.0.1:$PORT" -d 'user=x&password=y' "$L")" 403
expect "an Origin that is the public URL gets past the check" test \
	"$(code -H "Origin: https://vault.example.com" -d 'user=x&password=y' "$L")" != 403
expect_eq "and a foreign one is refused" \
	"$(code -H "Origin: https://evil.example" -d 'user=x&password=y' "$L")" 403
kill "$SPID"; wait "$SPID" 2>/dev/null
expect_exit "--public-url with a path is refused" 2 \
	cv serve --console --public-url https://vault.example.com/console

# ---- /metrics with a token ------------------------------------------------
printf 'short\n' >"$T/short"; chmod 600 "$T/short"
expect_exit "a token under 16 bytes is refused at start" 2 \
	cv serve --metrics-token-file "$T/short"
printf 'metrics-token-0123456789abcdef\n' >"$T/tok"; chmod 600 "$T/tok"
start_serve tok --metrics-token-file "$T/tok"
M="http://127.0.0.1:$PORT/metrics"
expect_eq "/metrics without the token" "$(code "$M")" 401
expect_eq "/metrics with a wrong token" \
	"$(code -H 'Authorization: Bearer metrics-token-0123456789abcdeX' "$M")" 401
expect_eq "/metrics with the token" \
	"$(code -H 'Authorization: Bearer metrics-token-0123456789abcdef' "$M")" 200
expect "the token is never logged" \
	test -z "$(grep -F metrics-token-0123456789abcdef "$T/tok.log")"
kill "$SPID"; wait "$SPID" 2>/dev/null
