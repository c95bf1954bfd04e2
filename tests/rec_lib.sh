# rec_lib.sh — helpers for the tests (and the benchmark) that archive
# recordings (sourced; needs cv, or CALLVAULT_DB for reset_archives).

# rec_store N SEED MONTHS FILE: N generated calls of one location from
# 2026-01 over MONTHS months into FILE, imported into a new store
rec_store() {
	python3 "$(dirname "${BASH_SOURCE[0]}")/../tools/bench/gencalls.py" \
		"$1" --seed "$2" --locations 1 --start 2026-01 --months "$3" \
		--with-location >"$4"
	cv init >/dev/null
	cv import "$4" >/dev/null
}

# rec_ids FILE [MONTH]: the ids of the calls with a messageId (of MONTH,
# YYYY-MM, when given), in archive order (createdAt, id)
rec_ids() {
	python3 -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
rs = [r for r in rs if r.get("messageId") and r["createdAt"].startswith(sys.argv[2])]
rs.sort(key=lambda r: (r["createdAt"], r["id"]))
print("\n".join(r["id"] for r in rs))' "$1" "${2:-}"
}

# forget every archive (not the files): the month can be archived again
reset_archives() {
	python3 - "$CALLVAULT_DB" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for t in ("archive_media", "archive_calls", "archive_baginfo", "archives"):
    db.execute("DELETE FROM " + t)
db.commit()
PY
}

# publish_during_pause DIR SEED_CALL CALL BYTES OUT: once a callvault run
# with CALLVAULT_TEST_PAUSE=POINT:DIR is paused (DIR/paused), mkrec gives
# CALL the bytes of SEED_CALL (stdout in OUT, stderr in OUT.err); it
# either finishes (no lock kept it out) or waits for the paused run's
# write lock: after 2 s (under the store's 5 s busy bound) the run goes
# on (DIR/go). Returns mkrec's status.
publish_during_pause() {
	local dir=$1 seed=$2 call=$3 bytes=$4 out=$5 mk
	for _ in $(seq 400); do [ -e "$dir/paused" ] && break; sleep 0.05; done
	expect "the run reached its pause" test -e "$dir/paused"
	MKREC_SEED="$seed" "$MKREC" "$CALLVAULT_DB" "$call" "$bytes" \
		>"$out" 2>"$out.err" &
	mk=$!
	for _ in $(seq 40); do kill -0 "$mk" 2>/dev/null || break; sleep 0.05; done
	touch "$dir/go"
	wait "$mk"
}
