#!/usr/bin/env bash
# The CLI's contract: help, version, exit codes, --db and $CALLVAULT_DB.
. "$(dirname "$0")/lib.sh"

expect_exit "--version" 0 cv --version
expect "version text" grep -q '^callvault [0-9]' "$T/out"
expect_exit "--help" 0 cv --help
cp "$T/out" "$T/help"
for c in init import show stats quarantine check; do
	expect "help lists $c" grep -q "^  $c " "$T/help"
	expect_exit "$c --help" 0 cv "$c" --help
	expect "$c --help has usage" grep -q "^usage: callvault" "$T/out"
done
expect_exit "no command" 2 cv
expect_exit "unknown command" 2 cv frobnicate
expect "unknown command named" grep -q "frobnicate" "$T/err"
expect_exit "unknown option" 2 cv stats --bogus
expect_exit "init" 0 cv init
expect "default db from env" test -f "$CALLVAULT_DB"
expect_exit "--db wins over env" 0 cv --db "$T/other.db" init
expect "--db created" test -f "$T/other.db"
expect_exit "init again" 0 cv init
expect_exit "stats" 0 cv stats
expect_eq "stats json keys" "$(cv stats --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(all(isinstance(d[k],int) for k in ("calls","versions","quarantined")))')" "True"

# a damaged store is an integrity failure (exit 3)
cv import "$TESTS_DIR/data/sample-calls.jsonl" >/dev/null
cp "$CALLVAULT_DB" "$T/broken.db"
python3 - "$T/broken.db" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
# corrupt a page in the middle of the file (not the header)
mid = (len(b) // 4096 // 2) * 4096
for i in range(mid, mid + 12):  # the b-tree page header
    b[i] ^= 0x5A
open(p, 'wb').write(bytes(b))
PY
expect_exit "damaged store" 3 cv --db "$T/broken.db" check
check_store
