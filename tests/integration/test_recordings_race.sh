#!/usr/bin/env bash
# A call erased while sync is fetching its recording (found in review):
# the answer that arrives after the erase is dropped — no recording row,
# no transcription, no blob of the erased person comes back — and the
# store checks clean. hlsim answers slowly so the erase lands while the
# requests are out.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../hlsim.sh"
command -v jq >/dev/null || { echo "jq missing: skipped"; exit 77; }
q() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$CALLVAULT_DB" "$1"; }

start_sim R --seed 5 --locations 1 --calls-per-location 4 --quirk rec-max-s=2
LOC=$(jq -r '.locations[0].id' "$T/R.info")
jq -r '.locations[0].pit' "$T/R.info" >"$T/pit"
cv init >/dev/null
cv location add "$LOC" --no-check --token-file "$T/pit" --api-base "$R_URL" >/dev/null
expect_exit "call logs first" 0 cv sync --no-media
ids=$(python3 -c 'import sqlite3,sys; print(" ".join("--call " + r[0] for r in sqlite3.connect(sys.argv[1]).execute("SELECT id FROM calls WHERE message_id IS NOT NULL")))' "$CALLVAULT_DB")
expect "calls with a messageId" test -n "$ids"
curl -s -X POST "$R_URL/__sim/fault" --data-urlencode "spec=latency-ms=1500" >/dev/null
cv sync >"$T/sync.out" 2>"$T/sync.err" &
SYNC=$!
# wait until a download has begun (its blob writer exists)
for _ in $(seq 100); do
	[ "$(find "$CALLVAULT_DB.blobs/tmp" -type f 2>/dev/null | wc -l)" -gt 0 ] && break
	sleep 0.05
done
# shellcheck disable=SC2086
expect_exit "erase every call while their media are being fetched" 0 \
	cv subject erase $ids --request-id RACE-1 --reason "review finding"
wait $SYNC
expect_eq "sync still ends well" "$?" 0
expect_eq "no recording row came back" "$(q 'SELECT count(*) FROM recordings')" 0
expect_eq "no timed transcription came back" "$(q 'SELECT count(*) FROM transcriptions')" 0
expect_eq "no blob came back" \
	"$(find "$CALLVAULT_DB.blobs" -path '*/tmp' -prune -o -type f -print | wc -l)" 0
check_store
