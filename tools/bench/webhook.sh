#!/usr/bin/env bash
# Benchmark `callvault serve` (issue 4): unique, validly signed
# VoiceAiCallEnd bodies at concurrency 64 — durable events/s and p50/p99 —
# with, in the same run, the same load against /healthz (the HTTP ceiling)
# and the disk's fsync rate.
#   tools/bench/webhook.sh [BUILD_DIR] [N] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
N=${2:-50000}
C=${3:-64}
CV=$B/callvault
BW=$B/tools/bench/bench_webhook
W=$(mktemp -d "${TMPDIR:-/tmp}/cvbench.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
"$CV" --db "$W/store.db" init >/dev/null
"$BW" keygen "$W"
"$CV" --db "$W/store.db" serve --listen 127.0.0.1:0 --port-file "$W/port" \
	--public-key "$W/ed25519.pub.pem" 2>"$W/serve.log" &
pid=$!
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.05; done
P=$(cat "$W/port")
echo "== machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== baseline: GET /healthz, $N requests, concurrency $C"
"$BW" run "$W/ed25519.pem" "$P" "$N" "$C" /healthz
echo "== durable events: POST /webhooks/highlevel, $N unique signed bodies, concurrency $C"
cpu0=$(awk '{print $14 + $15}' /proc/$pid/stat)
"$BW" run "$W/ed25519.pem" "$P" "$N" "$C"
cpu1=$(awk '{print $14 + $15}' /proc/$pid/stat)
echo "server CPU: $(( (cpu1 - cpu0) * 10 )) ms for $N events = $(( (cpu1 - cpu0) * 10000 / N )) us/event (user+sys, all threads)"
curl -s "http://127.0.0.1:$P/metrics" | grep -E \
	'^callvault_webhook_(events_stored_total|commit_seconds_(count|sum)|batch_events_total|requests_total\{status="(200|429)"\})' \
	| tee "$W/metrics"
awk '/commit_seconds_sum/ {s=$2} /commit_seconds_count/ {c=$2}
     /batch_events_total/ {e=$2}
     END {if (c) printf "group commits: %d, mean %.1f events each, mean %.1f ms each\n", c, e/c, s/c*1000}' "$W/metrics"
kill -TERM "$pid"; wait "$pid"; pid=
"$CV" --db "$W/store.db" check >/dev/null && echo "check: ok"
echo "calls stored: $("$CV" --db "$W/store.db" stats | grep -i '^calls' || true)"
echo "== baseline: disk fsync rate in the store's directory"
"$BW" fsync "$W" 3
echo "== Ed25519 verify rate of this CPU (openssl speed, one core)"
openssl speed -seconds 2 ed25519 2>/dev/null | tail -1 || true
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
