#!/usr/bin/env bash
# Integration test of issue 22: a kill in the publish window is finished
# or rolled back by the next archive run, stale temp files of dead runs
# go, a lost archive is rebuilt from the live store (and one whose calls
# were purged is said to be beyond rebuilding).
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
GEN="$SRC/tools/bench/gencalls.py"
A="$T/archives"

python3 "$GEN" 60 --seed 3 --locations 1 --start 2026-01 --months 3 \
	--with-location >"$T/calls.jsonl"

# ---- item 3: a kill at each point of the publish window ----
for point in before-rename after-rename after-sidecar; do
	rm -rf "$A"
	export CALLVAULT_DB="$T/$point.db"
	cv init >/dev/null
	cv import "$T/calls.jsonl" >/dev/null
	CALLVAULT_TEST_CRASH=$point cv archive --month 2026-01 --out "$A" \
		>/dev/null 2>&1
	expect_eq "$point: killed" "$?" 137
	loc=$(ls "$A")
	expect_exit "$point: the next archive finishes by itself" 0 \
		cv archive --month 2026-01 --out "$A"
	expect "$point: it wrote the month" \
		grep -q "wrote .*2026-01.tar.zst" "$T/out"
	expect "$point: no temp file left" \
		test -z "$(find "$A" -name '*.tmp.*')"
	expect_exit "$point: the archive verifies" 0 \
		cv verify "$A/$loc/2026-01.tar.zst"
	expect "$point: recorded in the store" \
		grep -q "OK (checked against itself and the store.s record of it; recorded in the store)" "$T/out"
	expect_exit "$point: nothing left to write" 0 \
		cv archive --month 2026-01 --out "$A"
	expect "$point: unchanged" grep -q "0 archive(s) written" "$T/out"
done
if command -v sqlite3 >/dev/null; then
	expect_eq "no intent left" "$(sqlite3 "$CALLVAULT_DB" \
		'SELECT count(*) FROM archive_intents')" 0
fi

# random kill -9 of archive (bounded: 12 trials, each on a fresh store):
# the next run always finishes, nothing is left over
rm -rf "$T/k" && mkdir -p "$T/k"
for i in $(seq 1 12); do
	CALLVAULT_DB="$T/k/$i.db" "$CALLVAULT" init >/dev/null
	CALLVAULT_DB="$T/k/$i.db" "$CALLVAULT" import "$T/calls.jsonl" >/dev/null
	CALLVAULT_DB="$T/k/$i.db" "$CALLVAULT" archive --through 2026-03 \
		--out "$T/k/a$i" >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	CALLVAULT_DB="$T/k/$i.db" "$CALLVAULT" archive --through 2026-03 \
		--out "$T/k/a$i" >"$T/out" 2>"$T/err" ||
		bad "kill trial $i: next archive failed: $(head -c 300 "$T/err")"
	CALLVAULT_DB="$T/k/$i.db" "$CALLVAULT" verify "$T/k/a$i"/*/*.tar.zst \
		>"$T/out" 2>&1 || bad "kill trial $i: verify failed: $(grep BAD "$T/out" | head -3)"
	[ -z "$(find "$T/k/a$i" -name '*.tmp.*')" ] ||
		bad "kill trial $i: temp files left"
	ok
done

# a temp file of a dead process goes, one of a live process stays
sleep 60 & live=$!
cleanup_hooks+=("kill $live 2>/dev/null")
bash -c 'exit 0' & dead=$!
wait $dead
echo x >"$A/$loc/2026-02.tar.zst.tmp.$dead"
echo x >"$A/$loc/2026-02.tar.zst.sha256.tmp.$dead"
echo x >"$A/$loc/2026-02.tar.zst.tmp.$live"
echo x >"$A/$loc/notes.tmp.$dead"
mkdir -p "$A/other"
echo x >"$A/other/2025-12.tar.zst.tmp.$dead"
expect_exit "archive February" 0 cv archive --month 2026-02 --out "$A"
expect "a dead run's temp in another location's directory removed" \
	test ! -e "$A/other/2025-12.tar.zst.tmp.$dead"
rmdir "$A/other"
expect "dead run's archive temp removed" \
	test ! -e "$A/$loc/2026-02.tar.zst.tmp.$dead"
expect "dead run's .sha256 temp removed" \
	test ! -e "$A/$loc/2026-02.tar.zst.sha256.tmp.$dead"
expect "live run's temp kept" test -e "$A/$loc/2026-02.tar.zst.tmp.$live"
expect "other files kept" test -e "$A/$loc/notes.tmp.$dead"
kill $live 2>/dev/null
rm -f "$A/$loc/2026-02.tar.zst.tmp.$live" "$A/$loc/notes.tmp.$dead"

# ---- item 5: a lost archive is rebuilt from the live store ----
cv archive --month 2026-03 --out "$A" >/dev/null
feb="$A/$loc/2026-02.tar.zst"
sum_before=$(tar --zstd -xOf "$feb" --wildcards '*/tagmanifest-sha256.txt' | sha256sum)
rm "$feb" "$feb.sha256"
expect_exit "verify misses it" 3 cv verify "$A/$loc"/*.tar.zst
expect_exit "archive --rebuild" 0 cv archive --rebuild 2026-02 --out "$A"
expect "rebuilt it" grep -q "rebuilt .*2026-02.tar.zst" "$T/out"
expect "rebuilt: its .sha256" test -f "$feb.sha256"
expect_eq "the same tag manifest (chain intact)" \
	"$(tar --zstd -xOf "$feb" --wildcards '*/tagmanifest-sha256.txt' | sha256sum)" \
	"$sum_before"
expect_exit "verify passes again" 0 cv verify "$A/$loc"/*.tar.zst
expect_exit "rebuild of an intact month: nothing" 0 \
	cv archive --rebuild 2026-02 --out "$A"
expect "intact: nothing rebuilt" grep -q "intact, nothing rebuilt" "$T/out"
# a damaged one too
printf 'garbage' | dd of="$feb" bs=1 seek=200 conv=notrunc 2>/dev/null
expect_exit "damaged: verify fails" 3 cv verify "$feb"
expect_exit "damaged: rebuilt" 0 cv archive --rebuild 2026-02 --out "$A"
expect_exit "damaged: verify passes" 0 cv verify "$A/$loc"/*.tar.zst

# a rebuild killed after its rename is finished by the next run
rm "$feb" "$feb.sha256"
CALLVAULT_TEST_CRASH=after-rename cv archive --rebuild 2026-02 --out "$A" \
	>/dev/null 2>&1
expect_eq "rebuild killed after the rename" "$?" 137
expect_exit "the next archive run" 0 cv archive --month 2026-03 --out "$A"
expect "finished it: its .sha256 is there" test -f "$feb.sha256"
expect_exit "the finished rebuild verifies" 0 cv verify "$A/$loc"/*.tar.zst

# purge works again, then the purged month cannot be rebuilt
cv retention set --keep-months 0 >/dev/null
expect_exit "purge works again" 0 cv purge
expect "purge removed calls" grep -q "purged [1-9]" "$T/out"
jan="$A/$loc/2026-01.tar.zst"
expect_exit "verify after the purge" 0 cv verify "$jan"
expect "says January can no longer be rebuilt" \
	grep -q "2026-01.tar.zst: note: the only copy of [1-9][0-9]* purged calls" "$T/out"
rm "$jan"
expect_exit "purged month: rebuild refused" 3 \
	cv archive --rebuild 2026-01 --out "$A"
expect "says its calls were purged" grep -q "were purged" "$T/err"
expect_exit "verify: the lost month" 3 cv verify "$A/$loc"/*.tar.zst
expect "verify says it cannot be rebuilt" \
	grep -q "2026-01.tar.zst.*cannot be rebuilt.*purged" "$T/out"
