#!/usr/bin/env bash
# Issue 25: the next short command costs what it costs on a quiet store,
# whatever ran before it. After an import of WAL_N (default 50,000)
# generated calls, and again after `kill -9` of a serve taking webhooks,
# the median of 5 `search zebra --count` runs is within 1.5x (plus 5 ms
# for this shared VM's timer noise on a ~5 ms command) of the median
# after an explicit TRUNCATE checkpoint. Before the fix it was 42x after
# the import. Also: the WAL stays bounded under a webhook burst.
. "$(dirname "$0")/../lib.sh"
BW=${BENCH_WEBHOOK:?set by meson}
N=${WAL_N:-50000}

# median_ms: 5 runs of `search zebra --count`, the median in ms
median_ms() {
	local i t0 t1
	for i in 1 2 3 4 5; do
		t0=$(date +%s%N)
		cv search zebra --count >/dev/null || bad "search failed"
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
	done | sort -n | sed -n 3p | awk '{printf "%.1f", $1 / 1000}'
}
truncate_wal() {
	sqlite3 "$CALLVAULT_DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
}
# within DESC GOT QUIET : GOT <= 1.5 * QUIET + 5 (ms)
within() {
	echo "$1: ${2} ms, on a checkpointed store ${3} ms"
	expect "$1: ${2} ms vs ${3} ms checkpointed" \
		awk -v a="$2" -v b="$3" 'BEGIN { exit !(a <= 1.5 * b + 5) }'
}
wal_bytes() { stat -c %s "$CALLVAULT_DB-wal" 2>/dev/null || echo 0; }

python3 "$TOOLS_DIR/bench/gencalls.py" "$N" --seed 25 --with-location \
	--locations 10 --months 12 >"$T/calls.jsonl"
cv init >/dev/null
cv import "$T/calls.jsonl" >/dev/null
# the import's close folded its WAL in: nothing left for the next command
expect "WAL emptied when the import closed ($(wal_bytes) bytes)" \
	test "$(wal_bytes)" -le 1048576
after_import=$(median_ms)
truncate_wal
quiet=$(median_ms)
within "after importing $N calls" "$after_import" "$quiet"

# A command that reads once and exits (search, export, status) keeps a
# small page cache (STORE_ONESHOT): its peak RSS does not grow with what
# it reads. With the 16 MB cache every page read was a fresh page of
# memory, a fault each: here export peaked 16 MiB, a deep search 5.7 MiB
# and status 2.7 MiB above a search that reads little.
expect "/usr/bin/time measures peak RSS" test -x /usr/bin/time
# peak_kib ARGS...: run callvault ARGS, its peak RSS in KiB into $kb
peak_kib() {
	kb=
	if /usr/bin/time -f %M -o "$T/rss" "$CALLVAULT" "$@" >/dev/null; then
		kb=$(tail -1 "$T/rss")
	else
		bad "callvault $* failed"
	fi
}
peak_kib search zebra --count
little=$kb
for args in "export --format csv" "search manager --limit 50 --offset 3000" \
	"status" "search manager --count"; do
	# shellcheck disable=SC2086 # the words are the arguments
	peak_kib $args
	echo "$args: peak RSS ${kb:-?} KiB; search zebra --count ${little:-?} KiB"
	[ -n "$kb" ] && [ -n "$little" ] && ! $asan || continue
	expect "$args: peak RSS $kb KiB within 2 MiB of $little KiB" \
		test $((kb - little)) -le 2048
done

# a serve under a webhook burst, killed with -9
"$BW" keygen "$T" >/dev/null
"$CALLVAULT" serve --listen 127.0.0.1:0 --port-file "$T/port" \
	--public-key "$T/ed25519.pub.pem" 2>"$T/serve.log" &
spid=$!
cleanup_hooks+=("kill -9 $spid 2>/dev/null; wait $spid 2>/dev/null")
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
"$BW" run "$T/ed25519.pem" "$(cat "$T/port")" 60000 64 >"$T/bw.out" 2>&1 </dev/null &
bpid=$!
cleanup_hooks+=("kill -9 $bpid 2>/dev/null; wait $bpid 2>/dev/null")
# watch the WAL's high-water mark for 8 s of load, then kill the server
max=0
for _ in $(seq 160); do
	w=$(wal_bytes)
	[ "$w" -gt "$max" ] && max=$w
	sleep 0.05
done
stored=$(curl -s "http://127.0.0.1:$(cat "$T/port")/metrics" |
	awk '/^callvault_webhook_events_stored_total/ {print $2}')
kill -9 "$spid"
wait "$spid" 2>/dev/null
kill -9 "$bpid" 2>/dev/null
wait "$bpid" 2>/dev/null
echo "webhooks stored before the kill: $stored; WAL high-water mark: $max bytes"
expect "the burst stored events (${stored:-none})" test "${stored:-0}" -gt 100
# the bound is 8,192 frames of 4 KiB (34 MB with their headers); the
# restart happens after the commit that passes it, which can be a group
# of 512 events (~4,400 frames), and is refused while serve's background
# checkpoint copies: high-water marks of 35-67 MB were measured. Without
# the bound the WAL grew by ~33 KB an event (1,070 MB here on 1d04ea3)
expect "WAL bounded under a webhook burst ($max bytes)" \
	test "$max" -le $((100 * 1024 * 1024))
after_kill=$(median_ms)
truncate_wal
quiet=$(median_ms)
within "after kill -9 of serve under load" "$after_kill" "$quiet"
expect "integrity after the kill" cv check >/dev/null
