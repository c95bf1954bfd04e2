#!/usr/bin/env bash
# bench_recfetch_ab.sh — bench_recfetch.sh's B (no binding limit) in
# alternating rounds: several callvault builds and curl fetch the same
# recordings from one hlsim, in rotated order each round, each from the
# same store with no blobs. On a loaded machine, compare within a round.
#
# usage: tools/bench/bench_recfetch_ab.sh N ROUNDS CALLVAULT|curl...
#   e.g. tools/bench/bench_recfetch_ab.sh 300 3 /tmp/base/callvault \
#          build/callvault curl
# (HLSIM defaults to build/tools/hlsim/hlsim)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/bench/lib.sh
N=${1:?usage: bench_recfetch_ab.sh N ROUNDS CALLVAULT|curl...}; R=${2:?}; shift 2
VARS=("$@")
HLSIM=${HLSIM:-build/tools/hlsim/hlsim}
W=$(mktemp -d "${TMPDIR:-/tmp}/cvbench-recab.XXXXXX")
SIM_PID=
trap '[ -n "$SIM_PID" ] && kill $SIM_PID 2>/dev/null; rm -rf "$W"' EXIT
export CALLVAULT_DB="$W/store.db"
CALLS=$(( (N * 10 + 5) / 6 ))
"$HLSIM" --quiet --seed 5 --locations 1 --calls-per-location "$CALLS" \
	--months 3 --burst 100000000 --window-ms 1000 \
	--daily 100000000 --quirk rec-s=64,rec-rate=8000 \
	--port-file "$W/port" --info-file "$W/info" >/dev/null 2>&1 &
SIM_PID=$!
for _ in $(seq 600); do [ -s "$W/port" ] && break; sleep 0.05; done
URL="http://127.0.0.1:$(cat "$W/port")"
LOC=$(jq -r '.locations[0].id' "$W/info")
jq -r '.locations[0].pit' "$W/info" >"$W/pit"
CV0=${VARS[0]}
[ "$CV0" = curl ] && CV0=${VARS[1]}
"$CV0" init >/dev/null
"$CV0" location add "$LOC" --no-check --token-file "$W/pit" --api-base "$URL" >/dev/null
"$CV0" sync --no-media >/dev/null 2>&1
"$CV0" sync >/dev/null 2>&1
sql "DELETE FROM recordings; UPDATE media_fetch SET state = 'pending', next_at = 0, attempts = 0 WHERE kind = 'recording'; UPDATE media_fetch SET state = 'done' WHERE kind = 'transcription';"
M=$(sql "SELECT count(*) FROM media_fetch WHERE kind='recording'")
cp "$CALLVAULT_DB" "$W/tmpl.db"
mkdir -p "$W/curl"
{
	echo "header = \"Authorization: Bearer $(cat "$W/pit")\""
	echo 'header = "Version: 2021-04-15"'
	sql "SELECT message_id FROM media_fetch WHERE kind='recording'" | while read -r m; do
		echo "url = \"$URL/conversations/messages/$m/locations/$LOC/recording\""
		echo "output = \"$W/curl/$m.wav\""
	done
} >"$W/curl.cfg"
echo "# $M recordings; load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$R"); do
	n=${#VARS[@]}
	for k in $(seq 0 $((n - 1))); do
		v=${VARS[$(( (k + r) % n ))]}
		rm -rf "$CALLVAULT_DB.blobs" "$W"/curl/*
		cp "$W/tmpl.db" "$CALLVAULT_DB"; rm -f "$CALLVAULT_DB-wal" "$CALLVAULT_DB-shm"
		sync
		l=$(cut -d' ' -f1 /proc/loadavg)
		if [ "$v" = curl ]; then
			/usr/bin/time -f '%e %U %S' -o "$W/t" curl -s -K "$W/curl.cfg"
			kept=$(ls "$W/curl" | wc -l)
		else
			/usr/bin/time -f '%e %U %S' -o "$W/t" "$v" sync >/dev/null 2>"$W/err"
			kept=$(sql "SELECT count(*) FROM recordings")
		fi
		read -r e u s <"$W/t"
		echo "round $r $v wall $e cpu $(python3 -c "print(round($u+$s,2))") kept $kept load $l"
	done
done
