#!/usr/bin/env bash
# Benchmark `callvault import` against the SQLite ceiling.
#
#   tools/bench/bench_import.sh [N] [ROUNDS]   (default 200000 and 3)
#
# Generates N synthetic call logs (gencalls.py: 12-16 turn transcripts,
# about 1.5 KB), then ROUNDS times, in the same run:
#   1. callvault import (fresh store): calls/s and peak RSS;
#   2. the sqlite3 shell loading the same JSONL into the same schema
#      (created by `callvault init`: calls, versions, raw payloads and the
#      FTS5 index) in one transaction — the baseline.
# The two alternate, and which goes first alternates too, so that both
# see the same minutes of this VM, whose speed drifts by up to a half
# within minutes; each round gives a ratio, and the median of the rounds
# is the figure. Prints Markdown table rows for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/bench/lib.sh
N=${1:-200000}
ROUNDS=${2:-3}
OUT=tools/bench/out/import
mkdir -p "$OUT"
CV=build/callvault
ninja -C build >/dev/null

data="$OUT/calls-$N.jsonl"
[ -f "$data" ] || python3 tools/bench/gencalls.py "$N" --seed 42 \
	--with-location --locations 10 --months 12 > "$data"
bytes=$(stat -c %s "$data")

now() { date +%s.%N; }
rss_of() { awk '/Maximum resident set size/ {print $6}' "$1"; }

# Run "$@" (a load into $OUT/NAME.db, created empty by `callvault init`)
# under /usr/bin/time; sets secs and rss.
timed_load() {
	local name=$1 t0 t1
	shift
	rm -rf "$OUT/$name".db*  # and its .db.secrets directory
	$CV --db "$OUT/$name.db" init >/dev/null
	sync
	t0=$(now)
	/usr/bin/time -v -o "$OUT/$name.time" "$@"
	t1=$(now)
	secs=$(echo "$t1 - $t0" | bc -l)
	rss=$(rss_of "$OUT/$name.time")
}

# 1. callvault import, fresh store
run_cv() {
	timed_load cv $CV --db "$OUT/cv.db" import "$data" > "$OUT/cv.out"
	cv_secs=$secs cv_rss=$rss
}

# 2. sqlite3 shell, one transaction, same schema
cat > "$OUT/load.sql" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
-- the page cache callvault import uses (store_set_bulk), so that both
-- sides have the same memory to work with
PRAGMA cache_size = -30000;
CREATE TEMP TABLE raw(line TEXT);
.mode ascii
.separator "\037" "\n"
.import $data raw
BEGIN;
INSERT INTO raw_payloads(sha256, source, received_at, size, bytes)
  SELECT lower(hex(sha3(line, 256))), 'import', 0, length(line), line FROM temp.raw;
INSERT INTO versions(call_id, seq, source, received_at, canonical,
  canonical_sha256, raw_sha256)
  SELECT json_extract(line, '$.id'), 1, 'import', 0, json(line),
         lower(hex(sha3(json(line), 256))), lower(hex(sha3(line, 256)))
  FROM temp.raw;
INSERT INTO calls(id, location_id, agent_id, contact_id, from_number,
  created_at, duration, trial_call, summary, transcript, version_id,
  canonical_sha256, n_versions, first_seen, last_seen, updated_at)
  SELECT v.call_id, json_extract(r.line, '$.locationId'),
    json_extract(r.line, '$.agentId'), json_extract(r.line, '$.contactId'),
    json_extract(r.line, '$.fromNumber'),
    CAST((julianday(json_extract(r.line, '$.createdAt')) - 2440587.5)
         * 86400000 AS INTEGER),
    json_extract(r.line, '$.duration'), json_extract(r.line, '$.trialCall'),
    json_extract(r.line, '$.summary'), json_extract(r.line, '$.transcript'),
    v.id, v.canonical_sha256, 1, 0, 0, 0
  FROM temp.raw r JOIN versions v ON v.rowid = r.rowid;
INSERT INTO calls_fts(rowid, summary, other)
  SELECT rid, summary, transcript FROM calls;
COMMIT;
SQL
run_shell() {
	timed_load sh sqlite3 "$OUT/sh.db" < "$OUT/load.sql" >/dev/null
	sh_secs=$secs sh_rss=$rss
	sh_calls=$(sqlite3 "$OUT/sh.db" "SELECT count(*) FROM calls")
}

mib() { printf '%.1f' "$(echo "$1 / 1024" | bc -l)"; }
printf '\nN=%d  input %.1f MB, %d rounds\n' "$N" \
	"$(echo "$bytes / 1000000" | bc -l)" "$ROUNDS"
echo '| round | callvault import | sqlite3 shell (baseline; its peak RSS) | ratio | callvault peak RSS |'
echo '|---|---|---|---|---|'
ratios=()
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then run_cv; run_shell; else run_shell; run_cv; fi
	cv_rate=$(echo "$N / $cv_secs" | bc -l)
	sh_rate=$(echo "$sh_calls / $sh_secs" | bc -l)
	ratio=$(echo "$cv_rate / $sh_rate" | bc -l)
	ratios+=("$ratio")
	printf '| %d (%s) | %.2f s, %.0f calls/s | %.2f s, %.0f calls/s, %s MiB | %.2fx | %s MiB |\n' \
		"$r" "$(date +%H:%M)" "$cv_secs" "$cv_rate" "$sh_secs" \
		"$sh_rate" "$(mib "$sh_rss")" "$ratio" "$(mib "$cv_rss")"
done
printf 'last callvault run: %s\n' "$(cat "$OUT/cv.out")"
printf 'median ratio callvault/sqlite3 = %.2fx\n' \
	"$(printf '%s\n' "${ratios[@]}" | median)"
