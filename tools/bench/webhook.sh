#!/usr/bin/env bash
# Benchmark `callvault serve` (issue 4): unique, validly signed
# VoiceAiCallEnd bodies at concurrency 64 — durable events/s and p50/p99 —
# with, in the same run, the same load against /healthz (the HTTP ceiling)
# and the disk's fsync rate.
#   tools/bench/webhook.sh [BUILD_DIR] [N] [CONCURRENCY] [ROUNDS]
# Each of ROUNDS rounds (default 3) starts a server on a fresh store and
# sends N requests to /healthz, then N unique signed webhooks; the
# figures are the medians of the rounds (this VM's speed drifts by up to a
# half within minutes, so one round says as much about the minute).
# CLIENT=curl sends through libcurl instead of bench_webhook's own minimal
# HTTP/1.1 client (the generator shares the two cores with the server;
# libcurl costs it more CPU per request).
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
N=${2:-50000}
C=${3:-64}
ROUNDS=${4:-3}
CV=${CV:-$B/callvault}   # CV=path/to/callvault measures another build
BW=$B/tools/bench/bench_webhook
CLIENT=${CLIENT:-raw}
case $CLIENT in raw) CF= ;; curl) CF=--curl ;;
	*) echo "CLIENT must be raw or curl" >&2; exit 2 ;; esac
W=$(mktemp -d "${TMPDIR:-/tmp}/cvbench.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
"$BW" keygen "$W"
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
. tools/bench/lib.sh

echo "== machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $ROUNDS rounds: GET /healthz then POST /webhooks/highlevel ($N unique signed bodies), concurrency $C, client $CLIENT"
: > "$W/rounds"
for r in $(seq "$ROUNDS"); do
	serve_fresh
	echo "-- round $r ($(date +%H:%M:%S))"
	"$BW" run $CF "$W/ed25519.pem" "$P" "$N" "$C" /healthz | tee "$W/h"
	cpu0=$(awk '{print $14 + $15}' /proc/$pid/stat)
	"$BW" run $CF "$W/ed25519.pem" "$P" "$N" "$C" | tee "$W/e"
	cpu1=$(awk '{print $14 + $15}' /proc/$pid/stat)
	us=$(( (cpu1 - cpu0) * 10000 / N ))
	echo "server CPU: $(( (cpu1 - cpu0) * 10 )) ms for $N events = $us us/event (user+sys, all threads)"
	curl -s "http://127.0.0.1:$P/metrics" | grep -E \
		'^callvault_webhook_(events_stored_total|quarantined_total|wal_file_bytes|commit_seconds_(count|sum)|batch_events_total|requests_total\{status="(200|429)"\})' \
		> "$W/metrics"
	awk '/commit_seconds_sum/ {s=$2} /commit_seconds_count/ {c=$2}
	     /batch_events_total/ {e=$2}
	     END {if (c) printf "group commits: %d, mean %.1f events each, mean %.1f ms each\n", c, e/c, s/c*1000}' "$W/metrics"
	grep -E 'status="429"|events_stored|wal_file_bytes' "$W/metrics"
	stored=$(awk '/^callvault_webhook_events_stored_total/ {print $2}' "$W/metrics")
	quar=$(awk '/^callvault_webhook_quarantined_total/ {print $2}' "$W/metrics")
	if [ "$stored" != "$N" ] || [ "${quar:-0}" != 0 ]; then
		echo "round $r stored ${stored:-?} of $N events (${quar:-?} quarantined): no figures"
		tail -n 20 "$W/serve.log" >&2
		exit 1
	fi
	kill -TERM "$pid"; wait "$pid"; pid=
	if "$CV" --db "$W/store.db" check >/dev/null; then echo "check: ok"
	else echo "check FAILED in round $r: no figures"; exit 1; fi
	echo "calls stored: $("$CV" --db "$W/store.db" stats | grep -i '^calls' || true)"
	gen=$(sed -n 's/.*= \([0-9]*\) us\/request.*/\1/p' "$W/e")
	echo "$(field rate < "$W/e") $(field p50_ms < "$W/e") $(field p99_ms < "$W/e") $(field rate < "$W/h") $us $gen" >> "$W/rounds"
done
echo "== medians of $ROUNDS rounds"
printf 'durable events/s %s  p50 %s ms  p99 %s ms  /healthz %s req/s  server %s us/event  generator %s us/POST\n' \
	"$(cut -d' ' -f1 "$W/rounds" | median)" "$(cut -d' ' -f2 "$W/rounds" | median)" \
	"$(cut -d' ' -f3 "$W/rounds" | median)" "$(cut -d' ' -f4 "$W/rounds" | median)" \
	"$(cut -d' ' -f5 "$W/rounds" | median)" "$(cut -d' ' -f6 "$W/rounds" | median)"
echo "== baseline: disk fsync rate in the store's directory"
"$BW" fsync "$W" 3
echo "== Ed25519 verify rate of this CPU, one benchmark body, one core"
"$BW" verify "$W/ed25519.pem" 5000
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
