#!/usr/bin/env bash
# Benchmark `callvault serve` admission (issue 18): genuine signed
# webhooks at RATE/s from 127.0.0.1, each on its own connection, while
# hostile clients hold connections open (each declares a 1 MiB body under
# a junk signature and drips a byte every 8 s, reconnecting 1 s after the
# server closes it):
#   (a) no attack (the baseline, measured in the same run),
#   (b) 64 then (c) 1,000 hostile connections from 127.0.0.2,
#   (d) 1,000 hostile connections, each from its own address in 127.1/16.
# Each scenario starts a server with the default limits on a fresh store.
# Target: >= 99 % of genuine webhooks answered 200, p99 <= 100 ms.
#   tools/bench/webhook_attack.sh [BUILD_DIR] [RATE] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
RATE=${2:-500}
SECS=${3:-15}
CV=${CV:-$B/callvault}   # CV=path/to/callvault compares another build
BA=$B/tools/bench/bench_admission
W=$(mktemp -d "${TMPDIR:-/tmp}/cvattack.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
"$B/tools/bench/bench_webhook" keygen "$W"
. tools/bench/lib.sh
# 1,000 hostile sockets plus the genuine ones
ulimit -n 8192 2>/dev/null || true

echo "== machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== genuine: $RATE/s for $SECS s, one connection each; server defaults"
SCENARIOS=${SCENARIOS:-none:0 one:64 one:1000 spread:1000}
for sc in $SCENARIOS; do
	set -- ${sc%:*} ${sc#*:}
	serve_fresh
	"$BA" "$W/ed25519.pem" "$P" "$RATE" "$SECS" "$1" "$2" | tee "$W/out"
	curl -s "http://127.0.0.1:$P/metrics" |
		grep -E '^callvault_webhook_(connections_(cut|full)_total|requests_total\{status="(200|429)"\})' |
		tr '\n' ' '
	echo
	kill -TERM "$pid"; wait "$pid" || true; pid=
	"$CV" --db "$W/store.db" check >/dev/null || { echo "check FAILED"; exit 1; }
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
