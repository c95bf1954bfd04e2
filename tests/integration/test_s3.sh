#!/usr/bin/env bash
# Integration test of issue 24: archives in S3 with Object Lock, against a
# real engine (Ceph RGW from Debian, started once by tools/rgw): storage
# add/check with bad key files, wrong credentials and a bucket without
# Object Lock; archive --to; the engine refusing to delete or shorten a
# locked archive (403); legal holds mirrored and blocking deletion until
# released; a version uploaded over a bag caught by verify; a killed
# archive leaving nothing counted as archived, and storage gc.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
GEN="$SRC/tools/bench/gencalls.py"
. "$(dirname "$0")/../s3_lib.sh"
printf 'wrong%s\n' "$RGW_SECRET_KEY" >"$T/sk.bad"
expect_eq "a bucket with Object Lock" \
	"$(s3 PUT locked -H 'x-amz-bucket-object-lock-enabled: true')" 200
expect_eq "a bucket without" "$(s3 PUT plain)" 200

python3 "$GEN" 120 --seed 11 --locations 1 --start 2026-01 --months 2 \
	--with-location >"$T/calls.jsonl"
cv init >/dev/null
cv import "$T/calls.jsonl" >/dev/null
add() {   # NAME BUCKET PREFIX [more]
	local n=$1 b=$2 p=$3; shift 3
	cv storage add "$n" --endpoint "$EP" --bucket "$b" --prefix "$p" \
		--path-style --access-key-file "$T/ak" \
		--secret-key-file "$T/sk" "$@"
}

# ---- bad input ----
chmod 644 "$T/sk"
expect_exit "a group-readable key file is refused" 2 add x locked p
expect "  naming the mode" grep -q "chmod 600" "$T/err"
chmod 600 "$T/sk"
expect_exit "no bucket" 2 cv storage add x --endpoint "$EP" \
	--access-key-file "$T/ak" --secret-key-file "$T/sk"
expect_exit "a bad endpoint" 2 cv storage add x --endpoint ftp://h \
	--bucket abc --access-key-file "$T/ak" --secret-key-file "$T/sk"

expect_exit "add" 0 add main locked inst1 --default
expect_exit "add a plain bucket" 0 add plain plain inst1
expect_exit "add a missing bucket" 0 add gone nosuchbucket inst1
cv storage add badkey --endpoint "$EP" --bucket locked --path-style \
	--access-key-file "$T/ak" --secret-key-file "$T/sk.bad" >/dev/null
expect_exit "names taken once" 1 add main locked x
cv storage list >"$T/list"
expect "list shows the default" grep -q "^main (default) .*s3://locked/inst1/ *COMPLIANCE" "$T/list"
expect "no secret in the store" bash -c "! grep -qa '$RGW_SECRET_KEY' '$CALLVAULT_DB'"

expect_exit "check" 0 cv storage check main
expect "check: locked write, delete refused" grep -q "delete refused" "$T/out"
expect_exit "check: no Object Lock" 1 cv storage check plain
expect "  names the code" grep -q "ObjectLockConfigurationNotFoundError" "$T/err"
expect_exit "check: no bucket" 2 cv storage check gone
expect "  names NoSuchBucket" grep -q "NoSuchBucket" "$T/err"
expect_exit "check: wrong secret" 1 cv storage check badkey
expect "  names SignatureDoesNotMatch" grep -q "HTTP 403 SignatureDoesNotMatch" "$T/err"
expect "  and no secret in the message" bash -c "! grep -q '$RGW_SECRET_KEY' '$T/err'"

# ---- archive --to ----
expect_exit "no policy, no date to lock until" 1 cv archive --through 2026-02 --to main
expect "  says so" grep -q "no retention policy" "$T/err"
cv retention set --keep-months 12 >/dev/null
expect_exit "archive --to" 0 cv archive --through 2026-02 --to main
expect_eq "two archives written" "$(tail -1 "$T/out")" "2 archive(s) written"
expect_eq "nothing in the default directory" "$(ls archives 2>/dev/null | wc -l)" 0
key=$(grep -o 's3://locked/[^ ]*2026-01.tar.zst' "$T/out" | sed 's|s3://locked/||')
row=$(sqlite3 "$CALLVAULT_DB" "SELECT version_id, lock_mode, retain_until, legal_hold FROM archive_remote WHERE key = '$key'")
ver=${row%%|*}
expect_eq "recorded: COMPLIANCE until 2027-02-01, no hold" "${row#*|}" \
	"COMPLIANCE|$(date -d 2027-02-01T00:00:00Z +%s)000|0"
curl -s -I --aws-sigv4 "aws:amz:us-east-1:s3" --user "$RGW_ACCESS_KEY:$RGW_SECRET_KEY" \
	-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$EP/locked/$key?versionId=$ver" >"$T/head"
expect "the engine holds the lock" grep -qi "x-amz-object-lock-mode: COMPLIANCE" "$T/head"
s3 GET "locked/$key?versionId=$ver" >/dev/null
expect_eq "the bytes are the recorded ones" "$(sha256sum <"$T/s3.body" | cut -d' ' -f1)" \
	"$(sqlite3 "$CALLVAULT_DB" "SELECT sha256 FROM archive_remote WHERE key = '$key'")"
expect "a stock tar reads the bag" bash -c "tar --zstd -tf '$T/s3.body' | grep -q bag-info.txt"
expect_exit "storage verify" 0 cv storage verify
expect_eq "two OK lines" "$(grep -c '^OK s3://' "$T/out")" 2
# a TMPDIR of its own: tests running alongside come and go in the shared
# one (a search-archives run's callvault-asearch.* failed the comparison)
mkdir -p "$T/vtmp"
expect_exit "storage verify --deep" 0 env TMPDIR="$T/vtmp" "$CALLVAULT" storage verify --deep main
expect_eq "  unpacks both bags as they stream in" "$(grep -c ': deep: [0-9]* calls as stored, 0 no longer in the store, 0 differ' "$T/out")" 2
expect_eq "  and says OK" "$(grep -c '^OK s3://' "$T/out")" 2
expect_eq "  no temp file left" "$(ls -A "$T/vtmp")" ""
# a call the store says is in the January bag but is not: only a deep
# look finds it (the bytes are the recorded ones)
jid=$(sqlite3 "$CALLVAULT_DB" "SELECT archive_id FROM archive_remote WHERE key = '$key'")
sqlite3 "$CALLVAULT_DB" "INSERT INTO archive_calls(call_id, archive_id, version_id) VALUES ('not-in-the-bag', $jid, 1)"
expect_exit "storage verify still passes it" 0 cv storage verify main
expect_exit "storage verify --deep does not" 3 cv storage verify --deep main
expect "  naming what it lacks" grep -q "s3://locked/$key: BAD data/calls.jsonl: lacks 1 call(s)" "$T/out"
expect "  and the archive" grep -q "^BAD s3://locked/$key .*verify --deep found 1 problem" "$T/out"
sqlite3 "$CALLVAULT_DB" "DELETE FROM archive_calls WHERE call_id = 'not-in-the-bag'"
expect_exit "--deep is for verify only" 2 cv storage gc --deep main
expect_exit "verify of an s3:// URL points to storage verify" 2 cv verify "s3://locked/$key"
expect "  says so" grep -q "callvault storage verify" "$T/err"
# a longer policy: verify extends the locks (never shortens them)
cv retention set --keep-months 13 >/dev/null
expect_exit "verify under a longer policy" 0 cv storage verify
expect "  extends the lock" grep -q "retention of s3://locked/$key extended to 2027-03-01T00:00:00Z" "$T/out"
expect_eq "  recorded" "$(sqlite3 "$CALLVAULT_DB" "SELECT retain_until FROM archive_remote WHERE key = '$key'")" \
	"$(date -d 2027-03-01T00:00:00Z +%s)000"
curl -s -I --aws-sigv4 "aws:amz:us-east-1:s3" --user "$RGW_ACCESS_KEY:$RGW_SECRET_KEY" \
	-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$EP/locked/$key?versionId=$ver" >"$T/head"
expect "  the engine has the new date" grep -qi "x-amz-object-lock-retain-until-date: 2027-03-01T00:00:00" "$T/head"
cv retention set --keep-months 12 >/dev/null
expect_exit "a shorter policy again: nothing to do" 0 cv storage verify
expect "  no extension" bash -c "! grep -q extended '$T/out'"

# the engine itself refuses: delete, shorten, weaken
expect_eq "delete of the locked version: 403" "$(s3 DELETE "locked/$key?versionId=$ver")" 403
ret='<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2026-12-31T00:00:00Z</RetainUntilDate></Retention>'
expect_eq "shortening the date: 403" "$(s3 PUT "locked/$key?retention=&versionId=$ver" -d "$ret")" 403
ret='<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2027-03-01T00:00:00Z</RetainUntilDate></Retention>'
expect_eq "COMPLIANCE to GOVERNANCE: 403" "$(s3 PUT "locked/$key?retention=&versionId=$ver" -d "$ret")" 403

# ---- legal holds: mirrored, and blocking deletion until released ----
# a GOVERNANCE target, whose versions the bypass could otherwise delete
expect_exit "add a GOVERNANCE target" 0 add gov locked inst2 --mode GOVERNANCE
db2="$T/gov.db"
CALLVAULT_DB=$db2 cv init >/dev/null
CALLVAULT_DB=$db2 cv import "$T/calls.jsonl" >/dev/null
CALLVAULT_DB=$db2 cv retention set --keep-months 12 >/dev/null
CALLVAULT_DB=$db2 add gov locked inst2 --mode GOVERNANCE >/dev/null
loc=$(head -1 "$T/calls.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["locationId"])')
expect_exit "hold the location" 0 env CALLVAULT_DB="$db2" "$CALLVAULT" hold add --matter M --location "$loc"
expect_exit "archive under a hold" 0 env CALLVAULT_DB="$db2" "$CALLVAULT" archive --month 2026-01 --to gov
gkey=$(grep -o 's3://locked/[^ ]*2026-01.tar.zst' "$T/out" | sed 's|s3://locked/||')
gver=$(sqlite3 "$db2" "SELECT version_id FROM archive_remote")
expect_eq "recorded ON" "$(sqlite3 "$db2" "SELECT legal_hold FROM archive_remote")" 1
s3 GET "locked/$gkey?legal-hold=&versionId=$gver" >/dev/null
expect "the engine has it ON" grep -q "<Status>ON</Status>" "$T/s3.body"
bypass=(-H "x-amz-bypass-governance-retention: true")
expect_eq "held: even the governance bypass cannot delete (403)" \
	"$(s3 DELETE "locked/$gkey?versionId=$gver" "${bypass[@]}")" 403
expect_exit "holds: nothing to change" 0 env CALLVAULT_DB="$db2" "$CALLVAULT" storage holds gov
expect_eq "  says nothing" "$(cat "$T/out")" ""
expect_exit "release" 0 env CALLVAULT_DB="$db2" "$CALLVAULT" hold release 1 --reason done
expect "  sets the legal hold OFF at once" grep -q "legal hold OFF on s3://locked/$gkey" "$T/out"
s3 GET "locked/$gkey?legal-hold=&versionId=$gver" >/dev/null
expect "the engine has it OFF" grep -q "<Status>OFF</Status>" "$T/s3.body"
expect_eq "  recorded OFF" "$(sqlite3 "$db2" "SELECT legal_hold FROM archive_remote")" 0
expect_exit "holds after the release: nothing to change" 0 env CALLVAULT_DB="$db2" "$CALLVAULT" storage holds gov
expect_eq "  says nothing" "$(cat "$T/out")" ""
expect_exit "a new hold" 0 env CALLVAULT_DB="$db2" "$CALLVAULT" hold add --matter M2 --location "$loc"
expect "  sets it ON at once" grep -q "legal hold ON on s3://locked/$gkey" "$T/out"
s3 GET "locked/$gkey?legal-hold=&versionId=$gver" >/dev/null
expect "the engine has it ON" grep -q "<Status>ON</Status>" "$T/s3.body"
# the bucket out of reach: the release is made, the exit says the rest
ep2=$(sqlite3 "$db2" "SELECT endpoint FROM storage_targets WHERE name = 'gov'")
sqlite3 "$db2" "UPDATE storage_targets SET endpoint = 'http://127.0.0.1:1' WHERE name = 'gov'"
expect_exit "release with the target unreachable" 1 env CALLVAULT_DB="$db2" "$CALLVAULT" hold release 2 --reason done
expect "  names the target and what to run" grep -q "legal holds in gov could not be set.*callvault storage holds gov" "$T/err"
expect_eq "  the release is made" "$(sqlite3 "$db2" "SELECT released_at IS NOT NULL FROM holds WHERE id = 2")" 1
sqlite3 "$db2" "UPDATE storage_targets SET endpoint = '$ep2' WHERE name = 'gov'"
s3 GET "locked/$gkey?legal-hold=&versionId=$gver" >/dev/null
expect "  the engine still has it ON" grep -q "<Status>ON</Status>" "$T/s3.body"
expect_exit "verify after the release" 0 env CALLVAULT_DB="$db2" "$CALLVAULT" storage verify gov
expect "  sets the legal hold OFF" grep -q "legal hold OFF on s3://locked/$gkey" "$T/out"
expect_eq "recorded OFF" "$(sqlite3 "$db2" "SELECT legal_hold FROM archive_remote")" 0
expect_eq "released: the bypass deletes the GOVERNANCE version" \
	"$(s3 DELETE "locked/$gkey?versionId=$gver" "${bypass[@]}")" 204
expect_exit "verify: the archive is gone" 3 env CALLVAULT_DB="$db2" "$CALLVAULT" storage verify gov
expect "  names it" grep -q "BAD s3://locked/$gkey .*deleted" "$T/out"

# ---- a version uploaded over a bag ----
echo tampered >"$T/tamper"
expect_eq "a new version over the bag is accepted by the engine" \
	"$(s3 PUT "locked/$key" --data-binary @"$T/tamper")" 200
expect_exit "verify catches it" 3 cv storage verify main
expect "  naming the newer version" grep -q "BAD s3://locked/$key .*newer version was uploaded over it" "$T/out"

# ---- killed mid-upload: nothing counted as archived ----
db3="$T/kill.db"
CALLVAULT_DB=$db3 cv init >/dev/null
CALLVAULT_DB=$db3 cv import "$T/calls.jsonl" >/dev/null
CALLVAULT_DB=$db3 cv retention set --keep-months 12 >/dev/null
CALLVAULT_DB=$db3 add k locked inst3 >/dev/null
for point in s3-before-complete s3-before-record; do
	CALLVAULT_DB=$db3 CALLVAULT_TEST_CRASH=$point "$CALLVAULT" archive \
		--month 2026-01 --to k >/dev/null 2>&1
	expect_eq "killed at $point: no archive recorded" \
		"$(sqlite3 "$db3" "SELECT count(*) FROM archives")" 0
done
expect_exit "gc keeps young uploads" 0 env CALLVAULT_DB="$db3" "$CALLVAULT" storage gc k
expect_eq "  none aborted" "$(tail -1 "$T/out")" "0 unfinished upload(s) aborted"
expect_exit "gc --older-than-hours 0" 0 env CALLVAULT_DB="$db3" "$CALLVAULT" storage gc k --older-than-hours 0
expect_eq "  the killed upload aborted" "$(tail -1 "$T/out")" "1 unfinished upload(s) aborted"
s3 GET "locked?uploads=&prefix=inst3%2F" >/dev/null
expect "no unfinished upload left" bash -c "! grep -q '<Upload>' '$T/s3.body'"
expect_exit "the month is archived again" 0 env CALLVAULT_DB="$db3" "$CALLVAULT" archive --month 2026-01 --to k
expect_exit "and verifies" 0 env CALLVAULT_DB="$db3" "$CALLVAULT" storage verify k

# ---- purge relies on a verified, locked remote copy ----
CALLVAULT_DB=$db3 cv retention set --keep-months 0 >/dev/null
CALLVAULT_DB=$db3 cv archive --month 2026-02 --to k >/dev/null
jan=$(sqlite3 "$db3" "SELECT n_calls FROM archives WHERE month = '2026-01'")
CALLVAULT_DB=$db3 cv purge --dry-run >"$T/dry"
expect "not yet verified: February stays" grep -q "keep .*2026-02.*not been verified" "$T/dry"
expect_exit "purge" 0 env CALLVAULT_DB="$db3" "$CALLVAULT" purge
expect_eq "  the verified January is purged" "$(sqlite3 "$db3" "SELECT count(*) FROM calls WHERE created_at < $(date -d 2026-02-01T00:00:00Z +%s)000")" 0
expect_eq "  February stays" "$(sqlite3 "$db3" "SELECT count(*) > 0 FROM calls")" 1
expect "  the disposal names the s3:// archive" bash -c "CALLVAULT_DB='$db3' '$CALLVAULT' audit | grep -q 's3://locked/inst3/'"

# ---- several parts: 8 MiB each, two buffers (or CALLVAULT_S3_PARTS_IN_FLIGHT), each sent while the other fills ----
if [ -n "${S3PUT:-}" ]; then
	head -c $((20 * 1048576 + 12345)) /dev/urandom >"$T/big"
	expect "a three-part upload" "$S3PUT" "$EP" locked big/three \
		"$T/big" "$T/ak" "$T/sk"
	s3 GET "locked?uploads=&prefix=big%2F" >/dev/null
	expect "  nothing left unfinished" bash -c "! grep -q '<Upload>' '$T/s3.body'"
	s3 GET "locked/big/three" >/dev/null
	expect "  the same bytes come back" cmp -s "$T/big" "$T/s3.body"
	curl -s -I --aws-sigv4 "aws:amz:us-east-1:s3" --user "$RGW_ACCESS_KEY:$RGW_SECRET_KEY" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$EP/locked/big/three" >"$T/head"
	expect "  in three parts" grep -qi 'etag: "[0-9a-f]*-3"' "$T/head"
	expect "  locked" grep -qi "x-amz-object-lock-mode: COMPLIANCE" "$T/head"
	expect "the same with four parts in flight" env \
		CALLVAULT_S3_PARTS_IN_FLIGHT=4 "$S3PUT" "$EP" locked big/four \
		"$T/big" "$T/ak" "$T/sk"
	s3 GET "locked/big/four" >/dev/null
	expect "  the same bytes come back" cmp -s "$T/big" "$T/s3.body"
	expect_exit "parts in flight out of bounds" 1 env \
		CALLVAULT_S3_PARTS_IN_FLIGHT=5 "$S3PUT" "$EP" locked big/five \
		"$T/big" "$T/ak" "$T/sk"
	expect "  named" grep -q "CALLVAULT_S3_PARTS_IN_FLIGHT=5: must be 1 to 4" "$T/err"
	s3 GET "locked?list-type=2&prefix=big%2Ffive" >/dev/null
	expect "  nothing stored" bash -c "! grep -q '<Key>' '$T/s3.body'"
	rm -f "$T/big" "$T/s3.body"
	# keys as escaped location ids and odd names make: signed right
	echo x >"$T/small"
	expect "a key with %, space, +, ~ and UTF-8" "$S3PUT" "$EP" locked \
		"odd/L%2Fx/a b+c~d/é.tar.zst" "$T/small" "$T/ak" "$T/sk"
	s3 GET "locked?list-type=2&prefix=odd%2F" >/dev/null
	expect "  stored under that very key" grep -q "<Key>odd/L%2Fx/a b+c~d/é.tar.zst</Key>" "$T/s3.body"
else
	echo "note: bench_s3put not built; the multi-part case is skipped"
fi

# ---- recordings: content-addressed objects, locked, fetched back ----
MKREC=${MKREC:?set by meson}
db5="$T/rec.db"
CALLVAULT_DB=$db5 cv init >/dev/null
CALLVAULT_DB=$db5 cv import "$T/calls.jsonl" >/dev/null
CALLVAULT_DB=$db5 cv retention set --keep-months 12 >/dev/null
CALLVAULT_DB=$db5 add rec locked inst5 --default >/dev/null
mapfile -t jan < <(python3 -c '
import json,sys
rs=[json.loads(l) for l in open(sys.argv[1])]
rs=[r for r in rs if r.get("messageId") and r["createdAt"].startswith("2026-01")]
rs.sort(key=lambda r:(r["createdAt"],r["id"]))
print("\n".join(r["id"] for r in rs[:2]))' "$T/calls.jsonl")
r0=${jan[0]} r1=${jan[1]}
s0=$("$MKREC" "$db5" "$r0" 300000)
s1=$("$MKREC" "$db5" "$r1" $((9 * 1048576)))   # over a part: multipart
bk() { echo "inst5/blobs/sha256/$1"; }
rcv() { env CALLVAULT_DB="$db5" "$CALLVAULT" "$@"; }
CALLVAULT_DB=$db5 CALLVAULT_TEST_CRASH=s3-before-record "$CALLVAULT" \
	archive --month 2026-01 --to rec >/dev/null 2>&1
expect_eq "killed before the record: no recording recorded" \
	"$(sqlite3 "$db5" "SELECT count(*) FROM remote_blobs")" 0
# nothing of a bag is staged on local disk (issue 24): with a TMPDIR that
# does not exist, a temp file could not even be made
expect_exit "archive with recordings, no TMPDIR to stage in" 0 \
	env TMPDIR="$T/no-such-dir" CALLVAULT_DB="$db5" "$CALLVAULT" \
	archive --month 2026-01 --to rec
expect_eq "both recordings recorded" \
	"$(sqlite3 "$db5" "SELECT count(*) FROM remote_blobs WHERE target = 'rec'")" 2
s3 GET "locked?prefix=inst5%2Fblobs%2F&versions=" >/dev/null
expect_eq "  sent once each: the killed run's objects were reused" \
	"$(grep -o '<Version>' "$T/s3.body" | wc -l)" 2
bver=$(sqlite3 "$db5" "SELECT version_id FROM remote_blobs WHERE sha256 = '$s0'")
curl -s -I --aws-sigv4 "aws:amz:us-east-1:s3" --user "$RGW_ACCESS_KEY:$RGW_SECRET_KEY" \
	-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$EP/locked/$(bk "$s0")?versionId=$bver" >"$T/head"
expect "  locked COMPLIANCE" grep -qi "x-amz-object-lock-mode: COMPLIANCE" "$T/head"
expect "  until the month's retention ends" grep -qi "x-amz-object-lock-retain-until-date: 2027-02-01T00:00:00" "$T/head"
expect_eq "  deleting it: 403" "$(s3 DELETE "locked/$(bk "$s0")?versionId=$bver")" 403
s3 GET "locked/$(bk "$s1")" >/dev/null
expect_eq "  the multipart one has the named bytes" \
	"$(sha256sum <"$T/s3.body" | cut -d' ' -f1)" "$s1"
expect_exit "storage verify checks them" 0 rcv storage verify
expect_eq "  two OK recordings" "$(grep -c '^OK recording ' "$T/out")" 2
expect_eq "  recorded as verified" \
	"$(sqlite3 "$db5" "SELECT count(*) FROM remote_blobs WHERE checked_at > 0")" 2
expect_exit "a hold on a call with a recording" 0 rcv hold add --matter R --call "$r0"
expect "  sets the recording's legal hold ON" grep -q "legal hold ON on recording $(bk "$s0")" "$T/out"
expect "  and the bag's" grep -q "legal hold ON on s3://locked/inst5/" "$T/out"
s3 GET "locked/$(bk "$s0")?legal-hold=&versionId=$bver" >/dev/null
expect "  the engine has it ON" grep -q "<Status>ON</Status>" "$T/s3.body"
s1ver=$(sqlite3 "$db5" "SELECT version_id FROM remote_blobs WHERE sha256 = '$s1'")
s3 GET "locked/$(bk "$s1")?legal-hold=&versionId=$s1ver" >/dev/null
expect "  not on the recording of another call" bash -c "! grep -q '<Status>ON</Status>' '$T/s3.body'"
expect_exit "its release" 0 rcv hold release 1 --reason done
expect "  sets it OFF" grep -q "legal hold OFF on recording $(bk "$s0")" "$T/out"
s3 GET "locked/$(bk "$s0")?legal-hold=&versionId=$bver" >/dev/null
expect "  the engine has it OFF" grep -q "<Status>OFF</Status>" "$T/s3.body"
expect_exit "a query hold that matches no call" 0 rcv hold add --matter Q --query zzqqxxnomatch
expect "  sets no legal hold" bash -c "! grep -q 'legal hold ON' '$T/out'"
expect_exit "  nor does storage holds" 0 rcv storage holds
expect "  (nothing to change)" bash -c "! grep -q 'legal hold ON' '$T/out'"
rcv hold release 2 --reason done >/dev/null
# the local blob is gone: recording get fetches it back, hash-checked
rm -f "$db5.blobs/${s0:0:2}/$s0"
expect_exit "recording get of a recording only in the bucket" 0 \
	rcv recording get "$r0" --out "$T/r0.wav"
expect_eq "  the bytes are the named ones" "$(sha256sum <"$T/r0.wav" | cut -d' ' -f1)" "$s0"
expect "  kept in the local blob store again" test -f "$db5.blobs/${s0:0:2}/$s0"
expect "  said where from" grep -q "fetched recording $s0 .* from rec" "$T/err"
# the console, too (callvault-full serves it: it has the S3 client)
rm -f "$db5.blobs/${s0:0:2}/$s0"
printf 'correct horse 1\n' >"$T/pw"
rcv user add ann --role viewer --password-file "$T/pw" >/dev/null
rm -f "$T/port"
env CALLVAULT_DB="$db5" "$CALLVAULT" serve --console --listen 127.0.0.1:0 \
	--port-file "$T/port" 2>"$T/serve.log" &
spid=$!
cleanup_hooks+=("kill $spid 2>/dev/null; wait $spid 2>/dev/null")
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
CB="http://127.0.0.1:$(cat "$T/port")"
curl -s -c "$T/jar" -d 'user=ann&password=correct horse 1' "$CB/login" >/dev/null
expect_eq "the console plays a recording only in the bucket" \
	"$(curl -s -b "$T/jar" -o "$T/play.wav" -w '%{http_code}' "$CB/api/recording?call=$r0")" 200
expect_eq "  the named bytes" "$(sha256sum <"$T/play.wav" | cut -d' ' -f1)" "$s0"
expect "  back in the local blob store" test -f "$db5.blobs/${s0:0:2}/$s0"
kill "$spid"; wait "$spid" 2>/dev/null
# a version with other bytes uploaded over a recording
echo tampered >"$T/tamper"
expect_eq "a new version over a recording is accepted by the engine" \
	"$(s3 PUT "locked/$(bk "$s1")" --data-binary @"$T/tamper")" 200
expect_exit "storage verify catches it" 3 rcv storage verify
expect "  naming the recording" grep -q "BAD recording $(bk "$s1") .*newer version" "$T/out"
# the fetch takes only the named bytes
s3 GET "locked?prefix=$(bk "$s1" | sed 's|/|%2F|g')&versions=" >/dev/null
tver=$(python3 -c '
import re,sys
for v in re.findall(r"<Version>(.*?)</Version>", open(sys.argv[1]).read(), re.S):
    if "<IsLatest>true</IsLatest>" in v:
        print(re.search(r"<VersionId>([^<]*)</VersionId>", v).group(1))' "$T/s3.body")
sqlite3 "$db5" "UPDATE remote_blobs SET version_id = '$tver' WHERE sha256 = '$s1'"
rm -f "$db5.blobs/${s1:0:2}/$s1"
expect_exit "recording get: other bytes in the bucket are refused" 3 \
	rcv recording get "$r1" --out "$T/r1.wav"
expect "  nothing written" test ! -e "$T/r1.wav"
expect "  nothing kept" test ! -e "$db5.blobs/${s1:0:2}/$s1"

# ---- restore from S3, and one instance's month into another ----
expect_exit "restore reads the recorded version, not the one over it" 0 \
	cv restore --from main "s3://locked/$key"
expect "  nothing new for this store" grep -q " 0 versions added" "$T/out"
feb=$(sqlite3 "$CALLVAULT_DB" "SELECT url FROM archive_remote WHERE key LIKE '%2026-02.tar.zst'")
nfeb=$(sqlite3 "$CALLVAULT_DB" "SELECT n_calls FROM archives WHERE path = '$feb'")
expect_exit "restore of a later month: its chain link is in the bucket" 0 \
	cv restore --from main "$feb"
db4="$T/other.db"
CALLVAULT_DB=$db4 cv init >/dev/null
CALLVAULT_DB=$db4 add shared locked inst4 --default >/dev/null
expect_exit "another instance restores instance 1's month" 0 \
	env CALLVAULT_DB="$db4" "$CALLVAULT" restore "$feb"
expect_eq "  all its calls" "$(sqlite3 "$db4" "SELECT count(*) FROM calls")" "$nfeb"
expect_exit "a URL of another bucket is refused" 1 \
	env CALLVAULT_DB="$db4" "$CALLVAULT" restore s3://plain/x.tar.zst
expect_exit "the tampered current version fails its own checks" 3 \
	env CALLVAULT_DB="$db4" "$CALLVAULT" restore "s3://locked/$key"
# storage verify of another instance's prefix (no records of it here)
nrem4=$(sqlite3 "$db4" "SELECT count(*) FROM archive_remote")
cv4() { CALLVAULT_DB=$db4 cv "$@"; }
expect_exit "storage verify --prefix: instance 1's bags from instance 4" 3 \
	cv4 storage verify shared --prefix inst1
expect "  its February bag is OK, locked" grep -q "^OK $feb (version .*COMPLIANCE until .*another instance's" "$T/out"
expect "  the version uploaded over January is named: not locked" \
	grep -q "^BAD s3://locked/$key (version .*): it is not locked" "$T/out"
expect "  and its manifests" grep -q "^BAD s3://locked/$key (version .*): its own manifests do not hold" "$T/out"
expect_exit "storage verify --prefix --deep: the no-store deep checks" 3 \
	cv4 storage verify shared --prefix inst1/ --deep
expect "  February OK" grep -q "^OK $feb " "$T/out"
expect_eq "  nothing recorded in instance 4's store" \
	"$(sqlite3 "$db4" "SELECT count(*) FROM archive_remote")" "$nrem4"
expect_exit "storage verify --prefix of a prefix without bags" 2 \
	cv4 storage verify shared --prefix nobody
expect "  says so" grep -q "no bags (\*.tar.zst) under s3://locked/nobody/" "$T/err"
expect_exit "--prefix is for verify only" 2 cv4 storage gc shared --prefix inst1

# ---- storage remove: never while archives are recorded there ----
expect_exit "remove a target without archives" 0 cv storage remove plain
expect "  says nothing was deleted" grep -q "storage plain removed (nothing deleted" "$T/out"
expect_exit "remove a target with archives: refused" 1 cv storage remove main
expect "  says what --force means" grep -q "records 2 archive(s) and 0 recording(s).*--force removes it anyway: the objects stay in the bucket, locked" "$T/err"
expect_eq "  still there" "$(cv storage list | grep -c '^main ')" 1
expect_exit "remove --force" 0 cv storage remove main --force
expect_eq "  gone from the list" "$(cv storage list | grep -c '^main ')" 0
expect_eq "  the records stay" "$(sqlite3 "$CALLVAULT_DB" "SELECT count(*) FROM archive_remote WHERE target = 'main'")" 2
expect "  audited" bash -c "cv() { '$CALLVAULT' \"\$@\"; }; cv audit | grep -q storage-remove"
s3 GET "locked?list-type=2&prefix=inst1%2F" >/dev/null
expect "  the objects stay" grep -q "2026-02.tar.zst" "$T/s3.body"
expect_exit "remove of no such target" 2 cv storage remove main
expect_exit "added again under its name" 0 add main locked inst1
expect_exit "  reaches its archives again" 0 cv restore --from main "$feb"

check_store
