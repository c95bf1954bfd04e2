#!/usr/bin/env bash
# Issue 20, review finding: the blob of a forgotten recording is removed
# after the commit that forgot it; when the last use is counted outside
# the store's write lock, another process can publish the same bytes (a
# sync fetching the same content, a restore naming it again) between the
# count and the unlink, and its row is left without a blob. The eraser is
# paused there (CALLVAULT_TEST_PAUSE) while mkrec publishes the same
# bytes under another call, the way the fetcher does (blob and row in
# one write transaction).
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../rec_lib.sh"
MKREC=${MKREC:?set by meson}
q() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$CALLVAULT_DB" "$1"; }

rec_store 12 7 1 "$T/calls.jsonl"
mapfile -t ids < <(rec_ids "$T/calls.jsonl" 2026-01)
expect "two calls with a messageId" test "${#ids[@]}" -ge 2
a=${ids[0]} b=${ids[1]}
sa=$("$MKREC" "$CALLVAULT_DB" "$a" 20000)

# race: $1 is the eraser (a command), run with the pause; while it waits
# between its count and its unlink, b gets the same bytes
race() {
	local p="$T/pause.$1"
	shift
	mkdir -p "$p"
	CALLVAULT_TEST_PAUSE="media-before-unlink:$p" "$@" >"$T/erase.out" 2>&1 &
	local er=$!
	publish_during_pause "$p" "$a" "$b" 20000 "$T/sb"
	local st=$?
	expect_eq "the publisher ends well: $(cat "$T/sb.err")" "$st" 0
	wait "$er"
	expect_eq "the eraser ends well" "$?" 0
	expect_eq "the same bytes" "$(cat "$T/sb")" "$sa"
}

# ---- subject erase ----
race erase cv subject erase --call "$a" --request-id RACE-1 --reason "review finding"
expect_eq "b's row names the blob" \
	"$(q "SELECT count(*) FROM recordings WHERE sha256 = '$sa'")" 1
expect "b's blob is there" test -f "$CALLVAULT_DB.blobs/${sa:0:2}/$sa"
expect_exit "check --deep finds no row without its blob" 0 cv check --deep
expect_exit "recording get of b" 0 cv recording get "$b" --out "$T/b.wav"

finish
