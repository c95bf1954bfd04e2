#!/usr/bin/env bash
# test_recordings_faults.sh PART — recordings under local faults (issue 20):
#   diskfull  the blob store's file system fills up mid-download: the fetch
#             fails naming the cause, nothing else is lost, no partial
#             blob, and the next run (with room again) fetches the rest
#   kill      sync killed (-9) mid-download: no partial blob visible, no
#             row without its blob; the next sync removes the leftover
#             and completes
#   cap       sync --max-store-mb counts the blobs with the database
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../hlsim.sh"
PART=${1:?usage: test_recordings_faults.sh diskfull|kill|cap}

fault() { curl -s -X POST "$S_URL/__sim/fault" --data-urlencode "spec=$1" >/dev/null; }
# named blobs, and files left under tmp/
blobs() { find "$CALLVAULT_DB.blobs" -path '*/tmp' -prune -o -type f -print | wc -l; }
tmps() { find "$CALLVAULT_DB.blobs/tmp" -type f 2>/dev/null | wc -l; }
# every named blob hashes to its name (none is partial)
blobs_whole() {
	find "$CALLVAULT_DB.blobs" -path '*/tmp' -prune -o -type f -print |
		while read -r f; do
			[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] ||
				{ echo "partial or damaged blob: $f" >&2; exit 1; }
		done
}
# every recording row names a blob that is there, and check --deep agrees
rows_have_blobs() {
	local sha
	for sha in $(sql "SELECT sha256 FROM recordings"); do
		[ -f "$CALLVAULT_DB.blobs/${sha:0:2}/$sha" ] ||
			{ echo "row without its blob: $sha" >&2; return 1; }
	done
	cv check --deep >"$T/check.out" 2>&1
}

# start hlsim with N messages whose recordings last S seconds (8 kHz:
# 16,000 bytes a second and a 44-byte header), then store the call logs
setup() {
	start_sim S --seed 3 --locations 1 --calls-per-location "$1" \
		--quirk "rec-s=$2,rec-rate=8000"
	LOC=$(jq -r '.locations[0].id' "$T/S.info")
	jq -r '.locations[0].pit' "$T/S.info" >"$T/pit"
	cv init >/dev/null
	cv location add "$LOC" --no-check --token-file "$T/pit" \
		--api-base "$S_URL" >/dev/null
	expect_exit "call logs first" 0 cv sync --no-media
	NMSG=$(sql "SELECT count(*) FROM calls WHERE message_id IS NOT NULL")
	NCALLS=$(sql "SELECT count(*) FROM calls")
	expect "hlsim has calls with a messageId" [ "$NMSG" -gt 3 ]
}

part_diskfull() {
	[ "$(id -u)" = 0 ] || { echo "diskfull: needs root to mount a small tmpfs: skipped"; exit 77; }
	setup 10 8  # 128,044 bytes each: three fit in 400 KiB, not all
	mkdir -p "$CALLVAULT_DB.blobs"
	mount -t tmpfs -o size=400k,mode=0700 cvtest "$CALLVAULT_DB.blobs" 2>"$T/mount.err" ||
		{ echo "diskfull: cannot mount a tmpfs ($(cat "$T/mount.err")): skipped"; exit 77; }
	cleanup_hooks+=("umount '$CALLVAULT_DB.blobs'")
	cv sync >"$T/full.out" 2>"$T/full.err"
	expect_eq "a full disk fails the fetch, not the sync" "$?" 0
	expect "the cause is named" grep -q "recordings not fetched: .*No space left on device" "$T/full.err"
	kept=$(sql "SELECT count(*) FROM recordings")
	expect "some recordings kept before the disk filled ($kept of $NMSG)" \
		test "$kept" -ge 1 -a "$kept" -lt "$NMSG"
	expect_eq "one named blob per row" "$(blobs)" "$kept"
	expect "no partial blob" blobs_whole
	expect_eq "nothing left under tmp/" "$(tmps)" 0
	expect "no row without its blob" rows_have_blobs
	expect_eq "no call log lost" "$(sql "SELECT count(*) FROM calls")" "$NCALLS"
	expect_eq "the rest wait, due at the next run" "$(sql "SELECT count(*) \
		FROM media_fetch WHERE kind = 'recording' AND state = 'pending' \
		AND next_at <= CAST(strftime('%s','now') AS INTEGER) * 1000")" \
		"$((NMSG - kept))"
	expect_eq "none is reported missing" "$(sql "SELECT count(*) FROM \
		media_fetch WHERE state = 'missing' AND kind = 'recording'")" 0
	mount -o remount,size=16m "$CALLVAULT_DB.blobs"
	expect_exit "with room again, the next sync" 0 cv sync
	expect_eq "every recording kept" "$(sql "SELECT count(*) FROM recordings")" "$NMSG"
	expect "no partial blob after the retry" blobs_whole
	expect "every row has its blob" rows_have_blobs
	check_store
}

part_kill() {
	# 640,044 bytes each: the half sent before the stall passes the
	# 256 KiB a blob writer gathers before it writes, so it is on disk
	setup 6 40
	fault rec-stall-ms=30000   # half of each recording, then a pause
	"$CALLVAULT" sync >"$T/k.out" 2>"$T/k.err" &  # not cv: its own pid
	local pid=$! size=0
	cleanup_hooks+=("kill -9 $pid 2>/dev/null")
	for _ in $(seq 400); do
		size=$(find "$CALLVAULT_DB.blobs/tmp" -type f -size +0 2>/dev/null | wc -l)
		[ "$size" -gt 0 ] && break
		sleep 0.05
	done
	expect "a download is under way" [ "$size" -gt 0 ]
	sleep 0.3
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	expect "the killed download left its temporary file" [ "$(tmps)" -ge 1 ]
	expect_eq "no blob under a name" "$(blobs)" 0
	expect_eq "no recording row" "$(sql "SELECT count(*) FROM recordings")" 0
	expect "no row without its blob" rows_have_blobs
	fault ""
	expect_exit "the next sync completes" 0 cv sync
	expect_eq "every recording kept" "$(sql "SELECT count(*) FROM recordings")" "$NMSG"
	expect_eq "the leftover was removed" "$(tmps)" 0
	expect "no partial blob" blobs_whole
	expect "every row has its blob" rows_have_blobs
	check_store
}

part_cap() {
	setup 10 64  # 1,024,044 bytes each
	local db_mb cap
	db_mb=$(( ($(stat -c %s "$CALLVAULT_DB") + 1048575) / 1048576 ))
	cap=$(( db_mb + 4 ))
	expect_exit "a sync under --max-store-mb $cap" 0 cv sync --max-store-mb "$cap"
	kept=$(sql "SELECT count(*) FROM recordings")
	expect "the bound stopped the recordings ($kept of $NMSG)" \
		test "$kept" -ge 1 -a "$kept" -lt "$NMSG"
	expect "the reason is named" grep -q "recordings not fetched: no room" "$T/err"
	local total
	total=$(( $(stat -c %s "$CALLVAULT_DB") + $(du -sb --exclude=tmp "$CALLVAULT_DB.blobs" | cut -f1) ))
	expect "database and blobs stay within the bound ($total bytes)" \
		[ "$total" -le $((cap * 1048576)) ]
	expect_eq "nothing left under tmp/" "$(tmps)" 0
	expect "every row has its blob" rows_have_blobs
	expect_exit "without the bound, the next sync" 0 cv sync
	expect_eq "every recording kept" "$(sql "SELECT count(*) FROM recordings")" "$NMSG"
	check_store
}

"part_$PART"
