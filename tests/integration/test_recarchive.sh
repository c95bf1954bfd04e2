#!/usr/bin/env bash
# Integration test of issue 20's keeping half: recordings and timed
# transcriptions in the monthly bags (both manifests, verify, stock
# tools), supplements for late recordings, --rebuild, restore into the
# blob store, purge and subject erase removing the media with their calls.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../rec_lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BAGCHECK="$SRC/tests/bagit_check.py"
MKREC=${MKREC:?set by meson}
A="$T/archives"
BLOBS="$CALLVAULT_DB.blobs"
q() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "${2:-$CALLVAULT_DB}" "$1"; }
blobfile() { echo "$1/${2:0:2}/$2"; }

rec_store 30 11 2 "$T/calls.jsonl"
# the January calls that have a messageId, oldest first
mapfile -t jan < <(rec_ids "$T/calls.jsonl" 2026-01)
expect "at least four January calls with a messageId" test "${#jan[@]}" -ge 4
r0=${jan[0]} r1=${jan[1]} late=${jan[2]} held=${jan[3]}
loc=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["locationId"])' "$T/calls.jsonl")
s0=$("$MKREC" "$CALLVAULT_DB" "$r0" 300000)
s1=$("$MKREC" "$CALLVAULT_DB" "$r1" 120044 16000)
sh=$("$MKREC" "$CALLVAULT_DB" "$held" 50000)
expect "mkrec wrote the blob" test -f "$(blobfile "$BLOBS" "$s0")"

# ---- archive ----
expect_exit "archive" 0 cv archive --through 2026-02 --out "$A"
jan_a="$A/$loc/2026-01.tar.zst"
mkdir -p "$T/x"
tar --zstd -xf "$jan_a" -C "$T/x"
bag=$(echo "$T"/x/*/)
expect "the recording is in the bag, the bytes as received" \
	cmp "$bag/data/recordings/$r0.wav" "$(blobfile "$BLOBS" "$s0")"
expect "a 16 kHz recording too" \
	cmp "$bag/data/recordings/$r1.wav" "$(blobfile "$BLOBS" "$s1")"
expect "the timed transcription beside it" \
	grep -q '"startTime"' "$bag/data/transcriptions/$r0.json"
expect "media.jsonl names the recording's hash" \
	grep -q "\"sha256\":\"$s0\"" "$bag/data/media.jsonl"
expect "manifest-sha256 covers the recording" \
	grep -q "^$s0  data/recordings/$r0.wav\$" "$bag/manifest-sha256.txt"
expect "manifest-sha512 covers the recording" \
	grep -q "  data/recordings/$r0.wav\$" "$bag/manifest-sha512.txt"
expect "manifest covers media.jsonl" grep -q "  data/media.jsonl\$" "$bag/manifest-sha256.txt"
expect "the February bag has no media" \
	bash -c "! tar --zstd -tf '$A/$loc/2026-02.tar.zst' | grep -q media"
expect_eq "the store records what the archive holds" \
	"$(q "SELECT count(*) FROM archive_media am JOIN archives a ON a.id = am.archive_id WHERE a.month = '2026-01'")" 6
expect "bagit_check.py accepts the bags" python3 "$BAGCHECK" "$A"/*/*.tar.zst
sed -n '/<!-- verify-begin -->/,/<!-- verify-end -->/p' "$SRC/docs/archives.md" |
	sed '/^<!--/d; /^```/d' >"$T/stock.sh"
expect "stock tools verify the bag with recordings" env ARCHIVE="$jan_a" bash "$T/stock.sh"
expect_exit "verify" 0 cv verify "$A"/*/*.tar.zst
expect_exit "verify --deep" 0 cv verify --deep "$jan_a"

# a flipped byte in a recording: exit 3, naming it
mkdir -p "$T/flip"
cp -r "$bag" "$T/flip/"
fb="$T/flip/$(basename "$bag")"
python3 -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); d[5000]^=1; open(p,'wb').write(d)" "$fb/data/recordings/$r0.wav"
tar --zstd -cf "$T/flip/x.tar.zst" -C "$T/flip" "$(basename "$bag")"
(cd "$T/flip" && sha256sum x.tar.zst >x.tar.zst.sha256)
expect_exit "a flipped byte in a recording" 3 cv verify --no-store "$T/flip/x.tar.zst"
expect "names the recording" grep -q "recordings/$r0.wav" "$T/out"

# a recording whose blob changed since it was fetched is not archived
late_sha=$("$MKREC" "$CALLVAULT_DB" "$late" 40000)
lb=$(blobfile "$BLOBS" "$late_sha")
cp "$lb" "$T/late.wav"
chmod u+w "$lb"
python3 -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); d[100]^=1; open(p,'wb').write(d)" "$lb"
expect_exit "a damaged blob stops the archive" 3 cv archive --through 2026-02 --out "$A"
expect "naming the blob" grep -q "$late_sha" "$T/err"
expect_eq "and leaves no supplement" "$(ls "$A/$loc" | grep -c '\.1\.tar')" 0
cp "$T/late.wav" "$lb"

# a recording fetched after its call was archived: a supplement
expect_exit "archive again" 0 cv archive --through 2026-02 --out "$A"
sup="$A/$loc/2026-01.1.tar.zst"
expect "a supplement for the late recording" test -f "$sup"
expect "it holds the late recording" \
	bash -c "tar --zstd -tf '$sup' | grep -q 'recordings/$late.wav'"
cv archive --through 2026-02 --out "$A" >"$T/out"
expect_eq "then nothing more" "$(tail -1 "$T/out")" "0 archive(s) written"

# --rebuild writes the same bag again, recordings included
sum=$(cut -d' ' -f1 "$jan_a.sha256")
rm "$jan_a"
expect_exit "rebuild" 0 cv archive --rebuild 2026-01 --out "$A"
expect_exit "the rebuilt archive verifies" 0 cv verify "$jan_a"
mkdir -p "$T/rb"
tar --zstd -xf "$jan_a" -C "$T/rb"
expect "same tag manifest" cmp "$T"/rb/*/tagmanifest-sha256.txt "$bag/tagmanifest-sha256.txt"
expect "same recording" cmp "$T"/rb/*/data/recordings/$r0.wav "$bag/data/recordings/$r0.wav"

# ---- restore into a fresh store: the recordings come back ----
R="$T/restored.db"
RB="$R.blobs"
expect_exit "restore" 0 cv --db "$R" restore "$jan_a" "$sup"
expect "restore reports recordings" grep -q "recordings added" "$T/out"
expect "the blob is back, same bytes" cmp "$(blobfile "$RB" "$s0")" "$(blobfile "$BLOBS" "$s0")"
expect "the late recording too" cmp "$(blobfile "$RB" "$late_sha")" "$(blobfile "$BLOBS" "$late_sha")"
expect_eq "rows with source restore" \
	"$(q "SELECT count(*) FROM recordings WHERE source = 'restore'" "$R")" 4
expect_eq "the rows keep size, rate and duration" \
	"$(q "SELECT size || ' ' || sample_rate || ' ' || duration_ms FROM recordings WHERE sha256 = '$s1'" "$R")" \
	"$(q "SELECT size || ' ' || sample_rate || ' ' || duration_ms FROM recordings WHERE sha256 = '$s1'")"
expect_eq "timed transcriptions restored" \
	"$(q "SELECT count(*) FROM transcriptions WHERE source = 'restore'" "$R")" 4
expect_exit "restore again" 0 cv --db "$R" restore "$jan_a"
expect "adds nothing" grep -q "0 recordings added (3 already there)" "$T/out"
expect_eq "still four rows" "$(q "SELECT count(*) FROM recordings" "$R")" 4
expect_eq "the restored store's blob dir has just the four" \
	"$(find "$RB" -type f -not -path '*/tmp/*' | wc -l)" 4
# re-archiving the restored calls gives the same recording files
mkdir -p "$T/ra"
expect_exit "archive the restored store" 0 cv --db "$R" archive --through 2026-01 --out "$T/ra"
mkdir -p "$T/rax"
tar --zstd -xf "$T/ra/$loc/2026-01.tar.zst" -C "$T/rax"
for id in "$r0" "$r1" "$held"; do
	expect "same recording $id after a round trip" \
		cmp "$bag/data/recordings/$id.wav" "$T"/rax/*/data/recordings/$id.wav
done
expect "and the late one, in the month's bag now" test -f "$T"/rax/*/data/recordings/$late.wav

# a bag whose recording does not hash to what media.jsonl says: nothing
# kept (the manifests regenerated, so verify alone passes)
rm -rf "$T/evil" && mkdir -p "$T/evil" && cp -r "$bag" "$T/evil/"
eb="$T/evil/$(basename "$bag")"
python3 -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); d[7000]^=1; open(p,'wb').write(d)" "$eb/data/recordings/$r1.wav"
(cd "$eb" && find data -type f | sort | xargs sha256sum >manifest-sha256.txt &&
	find data -type f | sort | xargs sha512sum >manifest-sha512.txt &&
	sha256sum bagit.txt bag-info.txt manifest-sha256.txt manifest-sha512.txt >tagmanifest-sha256.txt)
tar --zstd -cf "$T/evil/e.tar.zst" -C "$T/evil" "$(basename "$bag")"
(cd "$T/evil" && sha256sum e.tar.zst >e.tar.zst.sha256)
expect_exit "verify passes it on the manifests alone" 0 cv verify --no-store "$T/evil/e.tar.zst"
expect_exit "verify --deep does not: media.jsonl says otherwise" 3 \
	cv verify --no-store --deep "$T/evil/e.tar.zst"
expect "naming the recording" grep -q "recordings/$r1.wav.*media.jsonl" "$T/out"
E="$T/evil.db"
expect_exit "restore refuses a recording that is not what media.jsonl says" 3 \
	cv --db "$E" restore "$T/evil/e.tar.zst"
expect "naming it" grep -q "recordings/$r1.wav" "$T/err"
expect_eq "no rows" "$(q "SELECT count(*) FROM recordings" "$E")" 0
expect_eq "no blob left behind" "$(find "$E.blobs" -type f -not -path '*/tmp/*' 2>/dev/null | wc -l)" 0

# ---- purge: media go with their calls, under the same rules ----
cv retention set --keep-months 0 >/dev/null
contact=$(python3 -c '
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["id"]==sys.argv[2]: print(r.get("contactId") or "")' "$T/calls.jsonl" "$held")
expect "the held call has a contact" test -n "$contact"
cv hold add --matter "Recorded" --contact "$contact" >/dev/null
# a recording fetched after the last verify: the call must stay
cv verify "$A"/*/*.tar.zst >/dev/null
r2=${jan[4]:-}
expect "a fifth January call with a messageId" test -n "$r2"
s2=$("$MKREC" "$CALLVAULT_DB" "$r2" 30000)
cv purge --dry-run >"$T/dry"
expect "dry run: a call whose recording is not archived stays" \
	grep -q "keep $r2.*recording or transcription is not archived" "$T/dry"
expect_exit "purge" 0 cv purge
expect "purge says media went" grep -q "recordings and timed transcriptions of" "$T/out"
expect "the purged call's blob is gone" test ! -e "$(blobfile "$BLOBS" "$s0")"
expect_eq "its rows too" "$(q "SELECT count(*) FROM recordings WHERE sha256 = '$s0'")" 0
expect_eq "and its transcription" \
	"$(q "SELECT count(*) FROM transcriptions t WHERE NOT EXISTS (SELECT 1 FROM calls c WHERE c.message_id = t.message_id)")" 0
expect "the held call's recording stays" test -f "$(blobfile "$BLOBS" "$sh")"
expect "so does the unarchived one's" test -f "$(blobfile "$BLOBS" "$s2")"
expect "the call with the unarchived recording stays" cv show "$r2"
expect_eq "every row still has its blob" "$(for s in $(python3 -c '
import sqlite3,sys
for (h,) in sqlite3.connect(sys.argv[1]).execute("SELECT sha256 FROM recordings"): print(h)' "$CALLVAULT_DB"); do
	test -f "$(blobfile "$BLOBS" "$s")" || echo "missing $s"; done)" ""

# archived and verified now: it goes; a crash between the commit and the
# unlink leaves the blob without a row, never a row without its blob
cv archive --through 2026-02 --out "$A" >/dev/null
cv verify "$A"/*/*.tar.zst >/dev/null
CALLVAULT_TEST_CRASH=media-before-unlink cv purge >/dev/null 2>&1
expect_eq "after the crash: the row is gone" "$(q "SELECT count(*) FROM recordings WHERE sha256 = '$s2'")" 0
expect "the blob is left over (an orphan)" test -f "$(blobfile "$BLOBS" "$s2")"
expect_exit "the next purge is fine" 0 cv purge

cv hold release 1 --reason done >/dev/null
cv purge >/dev/null
expect "released: the held call's recording goes too" test ! -e "$(blobfile "$BLOBS" "$sh")"

# ---- subject erase takes the person's recordings ----
S="$T/subject.db"
cv --db "$S" init >/dev/null
cv --db "$S" import "$T/calls.jsonl" >/dev/null
se=$("$MKREC" "$S" "$held" 20000)
so=$("$MKREC" "$S" "$r0" 20000)
# held and r0 belong to different contacts only if they differ
c0=$(python3 -c '
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["id"]==sys.argv[2]: print(r.get("contactId") or "")' "$T/calls.jsonl" "$r0")
expect_exit "subject erase" 0 cv --db "$S" subject erase --contact "$contact" --request-id DSR-1 --reason "art. 17"
expect "the erased call's recording is gone" test ! -e "$(blobfile "$S.blobs" "$se")"
expect_eq "with its rows" "$(q "SELECT count(*) FROM recordings WHERE sha256 = '$se'" "$S")" 0
expect_eq "and its transcription" \
	"$(q "SELECT count(*) FROM transcriptions t WHERE NOT EXISTS (SELECT 1 FROM calls c WHERE c.message_id = t.message_id)" "$S")" 0
if [ "$c0" != "$contact" ]; then
	expect "someone else's recording stays" test -f "$(blobfile "$S.blobs" "$so")"
fi

# ---- a 100 MB recording is streamed, never held whole in memory ----
if [ -x /usr/bin/time ]; then
	BIG="$T/big.db"
	cv --db "$BIG" init >/dev/null
	cv --db "$BIG" import "$T/calls.jsonl" >/dev/null
	sbig=$("$MKREC" "$BIG" "$r0" 100000044)
	/usr/bin/time -f '%M' -o "$T/rss" "$CALLVAULT" --db "$BIG" archive \
		--month 2026-01 --out "$T/big" --threads 0 >/dev/null
	$asan || expect "archive of a 100 MB recording in under 64 MiB ($(tail -1 "$T/rss") KiB)" \
		test "$(tail -1 "$T/rss")" -lt 65536
	/usr/bin/time -f '%M' -o "$T/rss" "$CALLVAULT" --db "$T/big-r.db" \
		restore "$T/big/$loc/2026-01.tar.zst" >/dev/null
	$asan || expect "restore of it in under 64 MiB ($(tail -1 "$T/rss") KiB)" \
		test "$(tail -1 "$T/rss")" -lt 65536
	expect "the restored blob is the same 100 MB" \
		cmp "$(blobfile "$T/big-r.db.blobs" "$sbig")" "$(blobfile "$BIG.blobs" "$sbig")"
	rm -rf "$T/big" "$BIG"* "$T"/big-r.db*
fi
