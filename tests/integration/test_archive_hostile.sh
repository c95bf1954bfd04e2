#!/usr/bin/env bash
# Integration test of issue 22: verify and restore on hostile bags stay
# within fixed bounds (BAD, exit 3, peak RSS at most 64 MiB) and go on
# with the next archive; links, devices and FIFOs make a bag bad;
# verify --deep checks line counts against bag-info.txt and rejects an
# unended last line, NUL bytes and an emptied calls.jsonl; an archive
# overwritten with a copy of another is caught by its store record.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
GEN="$SRC/tools/bench/gencalls.py"
CRAFT="$SRC/tests/hostile_bag.py"
A="$T/archives"
H="$T/hostile"
mkdir -p "$H"

python3 "$GEN" 40 --seed 5 --locations 1 --start 2026-01 --months 2 \
	--with-location >"$T/calls.jsonl"
cv init >/dev/null
cv import "$T/calls.jsonl" >/dev/null
cv archive --through 2026-02 --out "$A" >/dev/null
loc=$(ls "$A")
good="$A/$loc/2026-01.tar.zst"
mkdir -p "$T/x"
tar --zstd -xf "$good" -C "$T/x"
root=$(ls -d "$T"/x/*)

# peak RSS in KiB of a command (its exit status kept in $T/rc)
RSS_MAX=65536
rss() {
	/usr/bin/time -f "%M" -o "$T/rss" "$@" >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
	tail -1 "$T/rss"
}
# hostile NAME DESC MESSAGE VERIFY-ARGS... : exit 3, the message, bounded
hostile() {
	local name=$1 desc=$2 msg=$3 kb
	shift 3
	kb=$(rss "$CALLVAULT" verify "$@" "$H/$name.tar.zst")
	expect_eq "$desc: exit" "$(cat "$T/rc")" 3
	expect "$desc: says $msg" grep -q "BAD .*$msg" "$T/out"
	echo "rss $name: $kb KiB" >&2; $asan || expect "$desc: peak RSS $kb KiB <= 64 MiB" \
		test "$kb" -le $RSS_MAX
}

# the crafting tool makes good bags when asked to
python3 "$CRAFT" "$root" "$H/plain.tar.zst"
expect_exit "a re-made bag verifies" 0 cv verify --no-store --deep \
	"$H/plain.tar.zst"

# ---- bounds ----
python3 "$CRAFT" "$root" "$H/bigtop.tar.zst" --zeros junk.txt:314572800
hostile bigtop "300 MiB top-level file" "not a file a callvault bag" \
	--no-store
python3 "$CRAFT" "$root" "$H/longline.tar.zst" --long-manifest-line 1000000
hostile longline "1 MB manifest line" "longer than 4096 bytes" --no-store
rm "$root/data/calls.jsonl"
python3 "$CRAFT" "$root" "$H/zeros.tar.zst" \
	--zeros data/calls.jsonl:314572800
tar --zstd -xf "$good" -C "$T/x"
hostile zeros "300 MiB calls.jsonl of NULs, --deep" "longer than 16 MiB" \
	--no-store --deep
python3 "$CRAFT" "$root" "$H/window.tar.zst" --long-window \
	--zeros data/z.bin:209715200
hostile window "128 MiB zstd window" "zstd" --no-store
for kind in symlink hardlink fifo chardev; do
	python3 "$CRAFT" "$root" "$H/$kind.tar.zst" \
		--special "data/x-$kind:$kind"
	hostile $kind "a $kind in the bag" "not a regular file or directory" \
		--no-store
done

# one bad archive does not stop the others
kb=$(rss "$CALLVAULT" verify --no-store "$H/bigtop.tar.zst" \
	"$H/zeros.tar.zst" "$H/plain.tar.zst")
expect_eq "bad and good together: exit" "$(cat "$T/rc")" 3
expect "the good one after the bad ones is OK" \
	grep -q "plain.tar.zst: OK" "$T/out"

# restore: a versions.jsonl of NULs is refused within the bound
rm "$root/data/versions.jsonl"
python3 "$CRAFT" "$root" "$H/rzeros.tar.zst" \
	--zeros data/versions.jsonl:314572800
tar --zstd -xf "$good" -C "$T/x"
kb=$(rss "$CALLVAULT" --db "$T/r.db" restore "$H/rzeros.tar.zst")
expect "restore of NUL versions fails" test "$(cat "$T/rc")" -ne 0
$asan || expect "restore: peak RSS $kb KiB <= 64 MiB" test "$kb" -le $RSS_MAX

# ---- verify --deep: what JSON Lines does not allow ----
deep_case() {
	local name=$1 desc=$2 msg=$3 script=$4
	rm -rf "$T/x" && mkdir -p "$T/x" && tar --zstd -xf "$good" -C "$T/x"
	python3 -c "$script" "$root/data/calls.jsonl"
	python3 "$CRAFT" "$root" "$H/$name.tar.zst"
	expect_exit "$desc: plain verify passes" 0 cv verify --no-store \
		"$H/$name.tar.zst"
	hostile $name "$desc" "$msg" --no-store --deep
}
deep_case nonl "last line without a newline" "no newline" '
import sys; p=sys.argv[1]; d=open(p,"rb").read(); open(p,"wb").write(d[:-1])'
deep_case nul "a NUL byte in a line" "not UTF-8 text" '
import sys; p=sys.argv[1]; d=open(p,"rb").read(); open(p,"wb").write(d[:5]+b"\0"+d[6:])'
deep_case empty "an emptied calls.jsonl" "lines where bag-info.txt" '
import sys; open(sys.argv[1],"wb").close()'
deep_case dropped "a dropped call" "lines where bag-info.txt" '
import sys; p=sys.argv[1]; d=open(p,"rb").read().split(b"\n"); open(p,"wb").write(b"\n".join(d[1:]))'

# ---- verify against the store's record, by path ----
python3 "$GEN" 4 --seed 5 --locations 1 --start 2026-01 --months 1 \
	--with-location --id-prefix late >"$T/late.jsonl"
cv import "$T/late.jsonl" >/dev/null
cv archive --month 2026-01 --out "$A" >/dev/null
sup="$A/$loc/2026-01.1.tar.zst"
expect "supplement written" test -f "$sup"
expect_exit "all verify" 0 cv verify "$A/$loc"/*.tar.zst
expect "the OK line says what it was checked against" \
	grep -q "1.tar.zst: OK (checked against itself and the store's record" "$T/out"
cp "$good" "$sup"
sed "s/2026-01.tar.zst/2026-01.1.tar.zst/" "$good.sha256" >"$sup.sha256"
expect_exit "a supplement overwritten with the month: exit 3" 3 \
	cv verify "$A/$loc"/*.tar.zst
expect "caught by the store's record at its path" \
	grep -q "1.tar.zst: BAD .*the store recorded" "$T/out"
expect "the month itself is still OK" \
	grep -q "01.tar.zst: OK (checked against itself and the store" "$T/out"
expect_exit "without the store: only itself" 0 cv verify --no-store "$sup"
expect "says so" grep -q "OK (checked against itself only)" "$T/out"

# ---- the stock-tool procedure of docs/archives.md ----
sed -n '/<!-- verify-begin -->/,/<!-- verify-end -->/p' "$SRC/docs/archives.md" |
	sed '/^<!--/d; /^```/d' >"$T/stock.sh"
mkdir -p "$T/stocktmp"
expect "stock tools: a good archive" \
	env TMPDIR="$T/stocktmp" ARCHIVE="$good" bash "$T/stock.sh" >/dev/null
expect "stock tools: the temp directory removed" \
	test -z "$(ls -A "$T/stocktmp")"
for kind in chardev fifo symlink hardlink; do
	expect "stock tools refuse a $kind" bash -c "! env TMPDIR='$T/stocktmp' \
		ARCHIVE='$H/$kind.tar.zst' bash '$T/stock.sh' >/dev/null 2>&1"
done
expect "stock tools: no device node made" \
	test -z "$(find "$T/stocktmp" ! -type d ! -type f)"
expect "stock tools: nothing left behind" test -z "$(ls -A "$T/stocktmp")"

# ---- a consistently rewritten archive: caught by the store's record ----
rm -rf "$T/x" && mkdir -p "$T/x" && tar --zstd -xf "$good" -C "$T/x"
root=$(ls -d "$T"/x/*)
python3 - "$root/data/calls.jsonl" <<'PY'
import json, sys
p = sys.argv[1]
lines = open(p).read().splitlines()
r = json.loads(lines[0])
r["summary"] = "forged"
lines[0] = json.dumps(r, sort_keys=True, separators=(",", ":"))
open(p, "w").write("\n".join(lines) + "\n")
PY
forged_id=$(head -1 "$root/data/calls.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
cp "$good" "$T/good.keep" && cp "$good.sha256" "$T/good.sha256.keep"
python3 "$CRAFT" "$root" "$good"
expect_exit "forged month: passes on its own" 0 cv verify --no-store "$good"
expect_exit "forged month: caught against the store" 3 cv verify "$good"
expect "forged month: the recorded SHA-256 differs" \
	grep -q "BAD .*its SHA-256 is .*the store recorded" "$T/out"
expect "forged month: the recorded tag manifest differs" \
	grep -q "BAD .*its tag manifest's SHA-256 is .*the store recorded" "$T/out"
expect_exit "forged month: restore refuses it" 3 cv restore "$good"
expect_exit "forged month: nothing loaded" 0 cv show "$forged_id"
expect "forged month: the summary is not the forged one" \
	bash -c "! grep -q forged '$T/out'"
mv "$T/good.keep" "$good" && mv "$T/good.sha256.keep" "$good.sha256"
