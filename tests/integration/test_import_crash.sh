#!/usr/bin/env bash
# kill -9 in the middle of a large import, then import again: the store
# passes its integrity checks, counts are right, and no call is partial.
. "$(dirname "$0")/../lib.sh"
N=${CRASH_N:-30000}
python3 "$TOOLS_DIR/bench/gencalls.py" "$N" --seed 11 --with-location > "$T/big.jsonl"
for round in 1 2 3; do
	rm -f "$CALLVAULT_DB" "$CALLVAULT_DB"-wal "$CALLVAULT_DB"-shm
	cv init >/dev/null
	"$CALLVAULT" import --batch 500 "$T/big.jsonl" >/dev/null &
	pid=$!
	# let it get part of the way (a different point each round)
	sleep "0.$((round * 3))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	got=$(cv stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"])')
	expect "round $round: killed mid-way ($got of $N)" test "$got" -lt "$N"
	check_store
	# every stored call is whole: its row, version and index entry agree
	partial=$(sqlite3 "$CALLVAULT_DB" "SELECT (SELECT count(*) FROM calls) - (SELECT count(*) FROM versions) + (SELECT count(*) FROM calls) - (SELECT count(*) FROM calls_fts)")
	expect_eq "round $round: no partial call" "$partial" "0"
	out=$(cv import "$T/big.jsonl")
	expect_eq "round $round: re-import" "$out" "read $N, new $((N - got)), updated 0, unchanged $got, quarantined 0"
	check_store
done
