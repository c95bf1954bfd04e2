#!/usr/bin/env bash
# The CLI's contract: help, version, exit codes, --db and $CALLVAULT_DB.
. "$(dirname "$0")/../lib.sh"

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
cv import "$TESTS_DIR/fixtures/sample-calls.jsonl" >/dev/null
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

# One filter parser (issues 18, 19): the CLI refuses each malformed filter
# of tests/fixtures/bad_filters.tsv with the message the API gives
# (test_console checks the API and holds against the same table).
expect "malformed filters refused alike" python3 - "$CALLVAULT" \
	"$TESTS_DIR/fixtures/bad_filters.tsv" <<'PY'
import subprocess, sys, urllib.parse
binary, table = sys.argv[1], sys.argv[2]
bad = 0
for line in open(table, encoding='utf-8'):
    if line.startswith('#') or not line.strip():
        continue
    cols = line.rstrip('\n').split('\t')
    if len(cols) > 2 and cols[2] == 'api':
        continue
    args = []
    for k, v in urllib.parse.parse_qsl(cols[0], keep_blank_values=True,
                                       encoding='latin-1'):
        args += ['--' + k.replace('_', '-'), v.encode('latin-1')]
    for cmd in (['search', 'x'], ['export', '--format', 'csv']):
        p = subprocess.run([binary, cmd[0]] + args + cmd[1:],
                           capture_output=True)
        want = 'callvault %s: %s\n' % (cmd[0], cols[1])
        got = p.stderr.decode('utf-8', 'replace')
        if p.returncode != 2 or got != want:
            print('FAIL %s %s: exit %d, %r != %r' % (cmd[0], cols[0],
                  p.returncode, got, want), file=sys.stderr)
            bad += 1
sys.exit(1 if bad else 0)
PY

# Terminal-safe output (issue 18 item 7): stored and client-supplied text
# is shown with its controls as escapes, in show, search, audit, hold and
# user list; JSON keeps it exact.
python3 - "$T/evil.jsonl" <<'PY'
import json, sys
summary = ('Refund \x1b]0;OWNED\x07\x1b[2J done \u009b31m and '
           '\u202eevil\u2066 \x7f')
rec = {"id": "evil1", "locationId": "L9", "agentId": "ag1",
       "contactId": "ct1", "fromNumber": "+1512555\u009b0143",
       "createdAt": "2026-03-05T10:00:00.000Z", "duration": 42,
       "summary": summary,
       "transcript": "bot: hello \x1b[31mred\nhuman: refund \u202eplease",
       "executedCallActions": [{"actionId": "a1", "actionType": "SMS",
           "actionName": "text \x1b]8;;http://x\x07me",
           "executedAt": "2026-03-05T10:01:00.000Z"}]}
open(sys.argv[1], 'w').write(json.dumps(rec) + '\n')
PY
cv import "$T/evil.jsonl" >/dev/null 2>&1
# no ESC, BEL, DEL, CSI (U+009B) or bidi override reaches the terminal
raw_controls() {
	python3 -c 'import sys; b = sys.stdin.buffer.read().decode("utf-8", "replace"); sys.exit(any(c in b for c in "\x1b\x07\x7f\u009b\u202e\u2066"))'
}
expect_exit "show evil" 0 cv show evil1
expect "show: no raw controls" raw_controls <"$T/out"
expect "show: ESC as \\x1b" grep -qF '\x1b]0;OWNED\x07\x1b[2J' "$T/out"
expect "show: U+009B and U+202E as escapes" grep -qF '\u009B31m and \u202Eevil\u2066' "$T/out"
expect "show: action name" grep -qF 'text \x1b]8;;http://x\x07me' "$T/out"
expect_exit "show --highlight evil" 0 cv show evil1 --highlight refund
expect "show --highlight: no raw controls" raw_controls <"$T/out"
expect_exit "show --json evil" 0 cv show evil1 --json
expect_eq "show --json stays exact" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["call"]["summary"].encode("unicode_escape").decode())' <"$T/out")" \
	'Refund \x1b]0;OWNED\x07\x1b[2J done \x9b31m and \u202eevil\u2066 \x7f'
expect_exit "search evil" 0 cv search OWNED
expect "search: no raw controls" raw_controls <"$T/out"
expect "search: number escaped" grep -qF '+1512555\u009B0143' "$T/out"
expect "search: snippet's C1 and bidi as U+FFFD" grep -qF $'31m and \uFFFDevil\uFFFD' "$T/out"
expect_exit "search csv" 0 cv search OWNED --format csv
expect "search csv to a file stays exact" grep -qF $'+1512555\u009b0143' "$T/out"
cv --actor $'\e]0;OWNED\a\e[2Jmallory' search OWNED >/dev/null
expect_exit "audit" 0 cv audit
expect "audit: no raw controls" raw_controls <"$T/out"
expect "audit: actor escaped" grep -qF '\x1b]0;OWNED\x07\x1b[2Jmallory' "$T/out"
expect_exit "hold with a hostile matter" 0 cv hold add --matter $'M\e[2J\u202e' --reason r --call evil1
expect_exit "hold list" 0 cv hold list
expect "hold list: no raw controls" raw_controls <"$T/out"
expect "hold list: matter escaped" grep -qF 'M\x1b[2J\u202E' "$T/out"

# hold add's criteria go through the same parser: refused, never dropped
# (a dropped criterion widens the hold)
expect_exit "hold add: empty location" 2 cv hold add --matter M --reason r --location ''
expect_eq "hold add: its message" "$(cat "$T/err")" "callvault hold add: location is empty"
expect_exit "hold add: location not UTF-8" 2 cv hold add --matter M --reason r --agent A1 --location $'\xc0\x80'
expect_eq "hold add: UTF-8 message" "$(cat "$T/err")" "callvault hold add: location is not valid UTF-8"
expect_exit "hold add: from after to" 2 cv hold add --matter M --reason r --from 2026-03-02 --to 2026-03-01
expect_exit "hold add: inclusive --to" 0 cv hold add --matter Range --reason r --from 2026-03-01 --to 2026-03-01T10:00
expect "hold show: before the end of the --to minute" sh -c "'$CALLVAULT' hold list | grep -q 'before    2026-03-01T10:01:00.000Z'"

# The lean binary's start-up (issue 25): it loads only the store's
# libraries and takes only SHA-2 from the static libcrypto. RAND_bytes
# once pulled OpenSSL's providers in: 16,932 relocations to apply and
# ~100 more page faults at every start, ~2 ms of a 10 ms search.
needed=$(readelf -d "$CALLVAULT" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
	grep -v -e '^libasan' -e '^libubsan' | sort | tr '\n' ' ')
expect_eq "lean binary: libraries" "$needed" \
	"libc.so.6 libjansson.so.4 libm.so.6 libsqlite3.so.0 "
nm "$CALLVAULT" >"$T/syms" 2>/dev/null
expect "lean binary: its symbols are listed (SHA-2 among them)" \
	grep -q ' SHA256_Init$' "$T/syms"
expect "lean binary: no OpenSSL providers or RNG" sh -c \
	"! grep -q -e ' RAND_bytes\$' -e ' OSSL_PROVIDER_' -e ' EVP_' '$T/syms'"
if ! $asan && ! grep -q ' __asan_init$' "$T/syms"; then
	rel=$(LC_ALL=C readelf -rW "$CALLVAULT" | grep -c RELATIVE)
	expect "lean binary: few relocations ($rel)" test "$rel" -lt 2000
fi
