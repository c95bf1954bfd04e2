#!/usr/bin/env bash
# Acceptance test of evidence packages (issue 21): a package for a query
# hold, checked with stock tools only (tar, zstd, sha256sum) by running
# the custody report's own commands in a directory without callvault; a
# flipped byte in a transcript, in the load file and in the package is
# each caught by sha256sum -c; nobody else's call is inside; a call that
# arrives after the hold and matches it is held (and exported), one that
# does not is purged on schedule; bad input and empty selections.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
for t in sqlite3 zstd sha256sum tar; do
	command -v $t >/dev/null || { echo "$t missing: skipped"; exit 77; }
done
q() { sqlite3 "$CALLVAULT_DB" "$1"; }
A="$T/archives"

rec() { # ID LOCATION NUMBER DAY TEXT
	printf '{"id":"%s","locationId":"%s","contactId":"K-%s","fromNumber":"%s","createdAt":"2026-01-%02dT15:04:05Z","messageId":"m-%s","summary":"call %s","transcript":"bot: hello\\nhuman: %s","duration":61}\n' \
		"$1" "$2" "$1" "$3" "$4" "$1" "$1" "$5"
}
cv init >/dev/null
{
	rec q1 L1 "+13105550177" 5 "my lawyer wants a cancellation"
	rec q2 L1 "+13105550100" 6 "my lawyer wants a cancellation"
	rec n1 L1 "+13105550177" 7 "please book a table"
	rec q3 L2 "+13105550177" 8 "my attorney asked to cancel"
} >"$T/calls.jsonl"
cv import "$T/calls.jsonl" >/dev/null
# a second version of q1, from another source
rec q1 L1 "+13105550177" 5 "my lawyer wants a cancellation, today" >"$T/q1b.jsonl"
cv import "$T/q1b.jsonl" >/dev/null
# q1's recording and timed transcription, as sync would have fetched them
MKREC=${MKREC:?set by meson}
rsha=$("$MKREC" "$CALLVAULT_DB" q1 48000)
cv --actor counsel show q1 >/dev/null
cv show q2 >/dev/null
cv --actor analyst search lawyer --location L1 >/dev/null
cv --actor nobody search booking >/dev/null
cv hold add --matter "Doe v. Acme" --query '(lawyer OR attorney) AND cancel*' \
	--number "(310) 555-0177" --location L1 --reason subpoena >/dev/null

# ---- bad input ----
expect_exit "no selection" 2 cv evidence export --reason r --out "$T/x.tar.zst"
expect_exit "no reason" 2 cv evidence export --hold 1 --out "$T/x.tar.zst"
expect_exit "no --out" 2 cv evidence export --hold 1 --reason r
expect_exit "hold and query" 2 cv evidence export --hold 1 lawyer --reason r --out "$T/x.tar.zst"
expect_exit "a query that does not parse" 2 cv evidence export '(lawyer' --reason r --out "$T/x.tar.zst"
expect "the parser's message" grep -q "never closed" "$T/err"
expect_exit "a bad filter" 2 cv evidence export lawyer --min-duration x --reason r --out "$T/x.tar.zst"
expect_exit "no such hold" 2 cv evidence export --hold 9 --reason r --out "$T/x.tar.zst"
expect "says which" grep -q "no hold 9" "$T/err"
expect_exit "nothing selected" 0 cv evidence export zebracorn --reason r --out "$T/x.tar.zst"
expect_eq "says so" "$(cat "$T/out")" "0 calls: nothing selected, nothing written"
expect "writes nothing" test ! -e "$T/x.tar.zst" -a ! -e "$T/x.tar.zst.sha256"
expect_eq "nothing audited yet" "$(q "SELECT count(*) FROM audit WHERE command = 'evidence export'")" 0

# ---- the package of the query hold ----
mkdir "$T/out1"
P="$T/out1/doe.tar.zst"
expect_exit "export the hold" 0 cv --actor counsel evidence export --hold 1 \
	--reason "subpoena 17" --tz America/Los_Angeles --out "$P"
expect "summary" grep -q "1 call, 2 versions" "$T/out"
cp "$T/out" "$T/out1.txt"
expect_exit "an existing file is not overwritten" 2 cv evidence export --hold 1 --reason r --out "$P"
expect "0600" test "$(stat -c %a "$P")" = 600
expect_eq "audited" "$(q "SELECT count(*) FROM audit WHERE command = 'evidence export' AND actor = 'counsel' AND detail LIKE '%\"hold\":1%' AND detail LIKE '%\"q1\"%'")" 1

# in a directory of its own, with no callvault on the PATH, follow the
# report's own commands
C="$T/clean"
mkdir "$C"
cp "$P" "$P.sha256" "$C/"
mkdir "$T/r" && tar --zstd -xf "$P" -C "$T/r"
R="$T/r/evidence/data/custody-report.html"
sed -n '/<!-- verify-begin -->/,/<!-- verify-end -->/p' "$R" | sed '1,2d;$d' |
	sed '$d' | sed -e 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&#39;/'"'"'/g; s/&amp;/\&/g' >"$T/verify.sh"
expect "the report holds the commands" grep -q "sha256sum --quiet -c manifest-sha256.txt" "$T/verify.sh"
expect "they name the package" grep -qx "A='doe.tar.zst'" "$T/verify.sh"
(cd "$C" && env -i PATH=/usr/bin:/bin bash "$T/verify.sh") >"$T/vout" 2>&1
expect_eq "stock tools verify it" "$?" 0
expect "and say so" grep -q "package OK: doe.tar.zst" "$T/vout"

# ---- a flipped byte is caught ----
flip() { # FILE OFFSET
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $(( b ^ 1 )))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
bag="$T/r/evidence"
for f in data/calls/q1/transcript.txt data/loadfile.csv; do
	cp "$bag/$f" "$T/keep"
	flip "$bag/$f" 10
	expect "flipped byte in $f caught" bash -c "cd '$bag' && ! sha256sum --quiet -c manifest-sha256.txt >/dev/null 2>&1"
	cp "$T/keep" "$bag/$f"
	expect "restored $f passes" bash -c "cd '$bag' && sha256sum --quiet -c manifest-sha256.txt"
done
cp "$P" "$T/flip.tar.zst"
flip "$T/flip.tar.zst" 100
(cd "$T" && sed "s/doe.tar.zst/flip.tar.zst/" "$P.sha256" >flip.tar.zst.sha256)
expect "flipped byte in the package caught" bash -c "cd '$T' && ! sha256sum -c flip.tar.zst.sha256 >/dev/null 2>&1"
cp "$bag/data/custody-report.html" "$T/keep"
echo tampered >>"$bag/data/custody-report.html"
expect "a changed report caught" bash -c "cd '$bag' && ! sha256sum --quiet -c manifest-sha256.txt >/dev/null 2>&1"
cp "$T/keep" "$bag/data/custody-report.html"

# ---- only the selected calls ----
expect_eq "one call directory" "$(ls "$bag/data/calls")" "q1"
expect "no other call anywhere" bash -c "! grep -rqE 'q2|q3|n1|obsidian|book a table|5550100' '$bag'"
expect_eq "both versions" "$(wc -l <"$bag/data/calls/q1/versions.jsonl")" 2
expect "with source, time received and raw SHA-256" grep -q '"rawSha256":"[0-9a-f]\{64\}","receivedAt":"20[0-9-]*T.*"source":"import"' "$bag/data/calls/q1/versions.jsonl"
expect "transcript text" grep -q "human: my lawyer wants a cancellation, today" "$bag/data/calls/q1/transcript.txt"
# the load file: zone and UTC, each file's path and SHA-256
row=$(sed -n 2p "$bag/data/loadfile.csv")
expect_eq "load file row" "$(echo "$row" | cut -d, -f1-7)" \
	"q1,2026-01-05T07:04:05.000-08:00,2026-01-05T15:04:05.000Z,L1,,+13105550177,61"
expect_eq "transcript's hash in the load file" "$(echo "$row" | cut -d, -f10-11)" \
	"data/calls/q1/transcript.txt,$(cd "$bag" && sha256sum data/calls/q1/transcript.txt | cut -c1-64)"
# the recording: the bytes as received, in the manifest and the load file
expect_eq "the recording is the blob's bytes" \
	"$(sha256sum "$bag/data/calls/q1/recording.wav" | cut -c1-64)" "$rsha"
expect "the manifest lists it" grep -q "^$rsha  data/calls/q1/recording.wav$" "$bag/manifest-sha256.txt"
expect "the load file names it" grep -q "data/calls/q1/recording.wav,$rsha" "$bag/data/loadfile.csv"
expect "the timed transcript is there" test -s "$bag/data/calls/q1/timed-transcript.json"
expect "the summary counts it" grep -q "1 recording, exactly as received" "$T/out1.txt"
cp -r "$bag" "$T/flipr"
printf '\x01' | dd of="$T/flipr/data/calls/q1/recording.wav" bs=1 seek=100 conv=notrunc 2>/dev/null
expect_exit "a flipped byte of the recording is caught" 1 bash -c \
	"cd '$T/flipr' && sha256sum --quiet -c manifest-sha256.txt"
expect "the report: who, why, what" grep -q "subpoena 17" "$R"
expect "the report: the hold" grep -q "legal hold #1 (matter: Doe v. Acme)" "$R"
expect "the report: who opened it" grep -q "<td>counsel</td><td>show</td>" "$R"
expect "the report: who searched and saw it" grep -q "<td>analyst</td><td>search</td>" "$R"
expect "the report: not a search that did not show it" bash -c "! grep -q '<td>nobody</td>' '$R'"
expect "the report: not who opened another call" bash -c "! grep -q 'q2' '$R'"

# ---- later calls: the match is held and exported, the rest purged ----
{
	rec q4 L1 "+13105550177" 20 "the lawyer said cancel it"
	rec n2 L1 "+13105550177" 21 "what are your opening hours"
} >"$T/late.jsonl"
cv import "$T/late.jsonl" >/dev/null
cv archive --through 2026-01 --out "$A" >/dev/null
cv verify "$A"/*/*.tar.zst >/dev/null
cv retention set --keep-months 0 >/dev/null
expect_exit "purge on schedule" 0 cv purge
expect "late match held" cv show q4
expect_exit "late non-match purged" 1 cv show n2
expect_exit "first non-match purged" 1 cv show n1
expect_exit "export again" 0 cv evidence export --hold 1 --reason "supplement" --out "$T/out1/doe2.tar.zst"
expect "now two calls" grep -q "2 calls" "$T/out"
expect_eq "q1 and q4" "$(tar --zstd -tf "$T/out1/doe2.tar.zst" | grep -o 'calls/[a-z0-9]*/$' | sort | tr '\n' ' ')" "calls/q1/ calls/q4/ "

# ---- a search instead of a hold ----
expect_exit "export a search" 0 cv evidence export 'cancel*' --location L1 --reason "regulator" --out "$T/out1/s.tar.zst"
expect "the search's calls" grep -q "2 calls" "$T/out"
expect_eq "search audited" "$(q "SELECT count(*) FROM audit WHERE command = 'evidence export' AND detail LIKE '%\"search\":true%'")" 1
# ---- a package name with a quote: the report's commands still run
# (found in review) ----
mkdir "$T/out3"
Q="$T/out3/it's.tar.zst"
expect_exit "export to a name with a quote" 0 cv evidence export --hold 1 --reason q --out "$Q"
mkdir "$T/r3" && tar --zstd -xf "$Q" -C "$T/r3"
sed -n '/<!-- verify-begin -->/,/<!-- verify-end -->/p' \
	"$T/r3/evidence/data/custody-report.html" | sed '1,2d;$d' |
	sed '$d' | sed -e 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&#39;/'"'"'/g; s/&amp;/\&/g' >"$T/verify3.sh"
(cd "$T/out3" && env -i PATH=/usr/bin:/bin bash "$T/verify3.sh") >"$T/vout3" 2>&1
expect_eq "the report's commands verify it" "$?" 0

# ---- signed: the site key's signature over the tag manifest ----
if command -v openssl >/dev/null; then
	expect_exit "key init" 0 cv key init
	cp "$T/out" "$T/site.pub"
	mkdir "$T/out2"
	S="$T/out2/signed.tar.zst"
	expect_exit "a signed export" 0 cv evidence export --hold 1 \
		--reason "signed" --out "$S"
	expect "says it is signed" grep -q "signed by the site key" "$T/out"
	expect "the signature is in the package" bash -c \
		"tar --zstd -tf '$S' | grep -qx 'evidence/tagmanifest-sha256.txt.sig'"
	C2="$T/clean2"
	mkdir "$C2"
	cp "$S" "$S.sha256" "$T/site.pub" "$C2/"
	mkdir "$T/r2" && tar --zstd -xf "$S" -C "$T/r2"
	sed -n '/<!-- verify-begin -->/,/<!-- verify-end -->/p' \
		"$T/r2/evidence/data/custody-report.html" | sed '1,2d;$d' |
		sed '$d' | sed -e 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&#39;/'"'"'/g; s/&amp;/\&/g' >"$T/verify2.sh"
	expect "the report names openssl" grep -q "openssl pkeyutl -verify" "$T/verify2.sh"
	(cd "$C2" && env -i PATH=/usr/bin:/bin bash "$T/verify2.sh") >"$T/vout2" 2>&1
	expect_eq "stock tools and openssl verify it" "$?" 0
	expect "openssl said so" grep -q "Signature Verified Successfully" "$T/vout2"
	# a tag manifest rewritten (and the .sha256 recomputed): the
	# signature no longer matches, whoever recomputed the hashes
	B2="$T/r2/evidence"
	printf 'x' >>"$B2/tagmanifest-sha256.txt"
	expect_exit "a changed tag manifest fails the signature" 1 openssl \
		pkeyutl -verify -pubin -inkey "$T/site.pub" -rawin \
		-in "$B2/tagmanifest-sha256.txt" \
		-sigfile "$B2/tagmanifest-sha256.txt.sig"
	# a timestamp authority that does not answer
	expect_exit "an unreachable TSA: exit 1" 1 cv evidence export --hold 1 \
		--reason "tsa" --tsa http://127.0.0.1:9/ --out "$T/out2/t.tar.zst"
	expect "but the package is written" test -s "$T/out2/t.tar.zst"
	expect "and it says why" grep -q "no timestamp" "$T/err"
	expect_exit "--tsa-optional accepts that" 0 cv evidence export --hold 1 \
		--reason "tsa" --tsa http://127.0.0.1:9/ --tsa-optional \
		--out "$T/out2/t2.tar.zst"
fi
check_store
