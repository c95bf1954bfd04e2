# lib.sh — helpers for the shell integration tests (sourced).
# Each test script gets: CALLVAULT (the binary), a fresh $T work dir,
# ok/fail counters, and a summary line "N passed, N failed" at exit.
set -u
CALLVAULT=${CALLVAULT:?set by meson}
T=$(mktemp -d "${TMPDIR:-/tmp}/cvtest.XXXXXX")
export CALLVAULT_DB="$T/store.db"
PASS=0
FAILN=0
cleanup_hooks=()
finish() {
	for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
	rm -rf "$T"
	echo "$PASS passed, $FAILN failed"
	[ "$FAILN" -eq 0 ]
}
# a script that stops early (set -u, a failed `exit 1`) fails, whatever
# its counters say; 77 (skipped) stays 77
trap 'rc=$?; finish; st=$?; if [ "$rc" -eq 77 ]; then exit 77; elif [ "$rc" -ne 0 ]; then echo "FAIL: the script stopped early (status $rc)" >&2; exit 1; fi; exit $st' EXIT
ok() { PASS=$((PASS + 1)); }
bad() { FAILN=$((FAILN + 1)); echo "FAIL: $*" >&2; }
# expect DESC COMMAND… : passes when the command succeeds
expect() { local d=$1; shift; if "$@"; then ok; else bad "$d"; fi; }
# expect_eq DESC GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}
# expect_exit DESC CODE COMMAND…
expect_exit() {
	local d=$1 want=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"
	local got=$?
	if [ "$got" -eq "$want" ]; then ok; else
		bad "$d: exit $got, want $want; stderr: $(head -c 400 "$T/err")"
	fi
}
cv() { "$CALLVAULT" "$@"; }
# asan: the binaries under test are built with AddressSanitizer, whose
# shadow memory and quarantine make a peak-RSS bound meaningless there
# (the normal build checks those bounds)
asan=false
ldd "$CALLVAULT" 2>/dev/null | grep -q libasan && asan=true
# calls_only: from now on `cv sync` fetches call logs only (--no-media)
calls_only() {
	cv() {
		if [ "${1:-}" = sync ]; then
			shift
			"$CALLVAULT" sync --no-media "$@"
		else
			"$CALLVAULT" "$@"
		fi
	}
}
# the store passes SQLite's and FTS5's integrity checks
check_store() { expect "integrity of $CALLVAULT_DB" cv check >/dev/null; }
# sql QUERY : run a query on the store (python3: no sqlite3 CLI needed);
# a SELECT prints its rows, columns joined by |
sql() {
	python3 - "$CALLVAULT_DB" "$1" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
q = sys.argv[2]
if q.lstrip().upper().startswith("SELECT"):
    for row in con.execute(q):
        print("|".join("" if v is None else str(v) for v in row))
else:
    con.executescript(q)
con.commit()
PY
}
