#!/usr/bin/env bash
# Issue 25: --group. Under umask 022 and under 077, `callvault --group`
# creates the data (store, WAL, SHM, backup, blobs, archives) readable by
# the owner's group (files 0640, directories 0750), never by others, and
# secrets owner-only (0600/0700); without --group everything stays the
# owner's alone.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../hlsim.sh"
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

start_sim SIM --seed 4 --locations 1 --calls-per-location 12 \
	--start 2026-01 --months 1
L0=$(jget "$T/SIM.info" "d['locations'][0]['id']")
jget "$T/SIM.info" "d['locations'][0]['pit']" >"$T/pit0"

# run MASK DIR [--group]: a store synced with its recordings, archived
# and backed up, all under DIR, created under umask MASK
run() {
	local mask=$1 dir=$2; shift 2
	mkdir "$dir"
	(
		umask "$mask"
		export CALLVAULT_DB="$dir/store.db"
		cv "$@" init >/dev/null &&
		cv "$@" location add "$L0" --token-file "$T/pit0" \
			--api-base "$SIM_URL" >/dev/null &&
		cv "$@" sync >/dev/null 2>&1 &&
		cv "$@" archive --through 2026-01 --out "$dir/arch" \
			>/dev/null 2>&1 &&
		cv "$@" backup --out "$dir/backup.db" >/dev/null 2>&1
	)
}
# modes DIR: "mode path" for every file under DIR, sorted
open_to_others() { find "$1" -mindepth 1 -perm /o=rwx -print; }

for mask in 022 077; do
	G="$T/g$mask"
	expect "umask $mask, --group: the run" run "$mask" "$G" --group
	expect_eq "umask $mask: nothing open to others" "$(open_to_others "$G")" ""
	for f in store.db store.db-wal store.db-shm backup.db; do
		expect_eq "umask $mask: $f 0640" "$(stat -c %a "$G/$f")" 640
	done
	blobs=$(find "$G" -path '*blob*' -type f | head -1)
	expect "umask $mask: a recording was fetched" test -n "$blobs"
	[ -n "$blobs" ] && expect_eq "umask $mask: a blob 0640" \
		"$(stat -c %a "$blobs")" 640
	bdirs=$(find "$G" -path '*blob*' -type d ! -perm 750 -print)
	expect_eq "umask $mask: blob directories 0750" "$bdirs" ""
	bag=$(ls "$G"/arch/"$L0"/*.tar.zst | head -1)
	expect_eq "umask $mask: archive 0640" "$(stat -c %a "$bag")" 640
	expect_eq "umask $mask: its .sha256 0640" \
		"$(stat -c %a "$bag.sha256")" 640
	expect_eq "umask $mask: archive directory 0750" \
		"$(stat -c %a "$G/arch/$L0")" 750
	sec=$(find "$G" -path '*secrets*' \( -type f ! -perm 600 -o -type d ! -perm 700 \) -print)
	expect_eq "umask $mask: secrets stay the owner's" "$sec" ""
	expect "umask $mask: secrets exist" test -n \
		"$(find "$G" -path '*secrets*' -type f | head -1)"
done

# without --group, under 022: owner only, as before
P="$T/p022"
expect "umask 022, no --group: the run" run 022 "$P"
expect_eq "owner only: nothing open to group or others" \
	"$(find "$P" -mindepth 1 -perm /g=rwx,o=rwx -print)" ""
# CALLVAULT_GROUP=1 does what --group does
E="$T/e077"
expect "CALLVAULT_GROUP=1" env CALLVAULT_GROUP=1 bash -c \
	"umask 077; CALLVAULT_DB='$E.db' '$CALLVAULT' init >/dev/null"
expect_eq "CALLVAULT_GROUP=1: store 0640" "$(stat -c %a "$E.db")" 640
