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
