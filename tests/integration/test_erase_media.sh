#!/usr/bin/env bash
# Issue 23's acceptance with issue 20's recordings: erase a contact with
# three calls, one under a hold. The two others are gone from every table
# and from the blob store (their recordings and timed transcriptions); the
# held one stays and its hold is named; importing them again and
# restoring the month's archive (which holds all three, recordings
# included) leave the two absent, their audio too; check passes and the
# audit chain verifies.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
MKREC=${MKREC:?set by meson}
A="$T/archives"
BLOBS="$CALLVAULT_DB.blobs"
q() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$CALLVAULT_DB" "$1"; }
blobfile() { echo "$BLOBS/${1:0:2}/$1"; }

rec() { # ID CONTACT DAY
	printf '{"id":"%s","locationId":"L1","contactId":"%s","fromNumber":"+15125550%s","createdAt":"2026-01-%02dT15:04:05Z","messageId":"m-%s","summary":"call %s","transcript":"bot: hello\\nhuman: my account number is %s","duration":61}\n' \
		"$1" "$2" "${3}00" "$3" "$1" "$1" "$1"
}
cv init >/dev/null
{
	rec e1 K1 10; rec e2 K1 11; rec e3 K1 12; rec o1 K2 13
} >"$T/calls.jsonl"
cv import "$T/calls.jsonl" >/dev/null
s1=$("$MKREC" "$CALLVAULT_DB" e1 40000)
s2=$("$MKREC" "$CALLVAULT_DB" e2 40100)
s3=$("$MKREC" "$CALLVAULT_DB" e3 40200)
so=$("$MKREC" "$CALLVAULT_DB" o1 40300)
expect "four blobs" test -f "$(blobfile "$s1")" -a -f "$(blobfile "$s3")" -a -f "$(blobfile "$so")"
expect_exit "archive the month (recordings in it)" 0 cv archive --month 2026-01 --out "$A"
bag=$(ls "$A"/L1/2026-01*.tar.zst | head -1)
expect "the bag holds e1's recording" bash -c "tar --zstd -tf '$bag' | grep -q 'data/recordings/e1.wav'"
cv hold add --matter "Keep e3" --call e3 --reason "litigation" >/dev/null

# held calls are refused: the request is not complete (exit 1)
expect_exit "erase the contact" 1 cv subject erase --contact K1 --request-id DSR-7 --reason "art. 17"
expect "the held call is named with its hold" grep -q "Keep e3" "$T/out" "$T/err"
for c in e1 e2; do
	expect_eq "$c: no call row" "$(q "SELECT count(*) FROM calls WHERE id = '$c'")" 0
	expect_eq "$c: no versions" "$(q "SELECT count(*) FROM versions WHERE call_id = '$c'")" 0
	expect_eq "$c: no recording rows" "$(q "SELECT count(*) FROM recordings WHERE message_id = 'm-$c'")" 0
	expect_eq "$c: no timed transcription" "$(q "SELECT count(*) FROM transcriptions WHERE message_id = 'm-$c'")" 0
	expect_eq "$c: a tombstone" "$(q "SELECT count(*) FROM tombstones WHERE call_id = '$c'")" 1
done
expect "e1's audio is gone from the blob store" test ! -e "$(blobfile "$s1")"
expect "e2's audio is gone" test ! -e "$(blobfile "$s2")"
expect "the held call's audio stays" test -f "$(blobfile "$s3")"
expect "another person's audio stays" test -f "$(blobfile "$so")"
expect_eq "the text index forgets them" "$(cv search 'account' --format csv | grep -c '^"*e[12]')" 0

# they come back from nowhere
expect_exit "import them again" 0 cv import "$T/calls.jsonl"
expect_eq "import drops them" "$(q "SELECT count(*) FROM calls WHERE id IN ('e1','e2')")" 0
expect_exit "restore the month's archive" 0 cv restore "$bag"
expect_eq "restore drops them" "$(q "SELECT count(*) FROM calls WHERE id IN ('e1','e2')")" 0
expect_eq "and their recordings" "$(q "SELECT count(*) FROM recordings WHERE message_id IN ('m-e1','m-e2')")" 0
expect "no blob of theirs comes back" test ! -e "$(blobfile "$s1")" -a ! -e "$(blobfile "$s2")"
expect_eq "the held call and the other are whole" "$(q "SELECT count(*) FROM recordings WHERE message_id IN ('m-e3','m-o1')")" 2
check_store
expect_exit "the audit chain verifies" 0 cv audit --verify
expect "the erasure is audited by request, not content" bash -c \
	"'$CALLVAULT' audit --command 'subject erase' --format json | grep -q DSR-7"
