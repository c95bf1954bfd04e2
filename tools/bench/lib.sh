# tools/bench/lib.sh — shell helpers the benchmark scripts share (sourced).

# The median of the numbers on stdin, one per line; with an even count,
# the mean of the two middle ones.
median() {
	sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'
}

# Start `$CV serve` on a fresh store in $W (with the benchmark key from
# `bench_webhook keygen $W`) on a free port: sets pid and P.
serve_fresh() {
	rm -f "$W"/store.db* "$W/port"
	"$CV" --db "$W/store.db" init >/dev/null
	"$CV" --db "$W/store.db" serve --listen 127.0.0.1:0 \
		--port-file "$W/port" --public-key "$W/ed25519.pub.pem" \
		2>"$W/serve.log" &
	pid=$!
	for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.05; done
	P=$(cat "$W/port")
}

# The stock pipeline the archive benchmarks compare with: in DIR,
# tar -cf - SUB | zstd -3 -T0 into OUT, plus sha256sum of every file of SUB.
stock_pipeline() { # DIR SUB OUT
	(cd "$1" && tar -cf - "$2" | zstd -3 -T0 -q >"$3" &&
		find "$2" -type f -print0 | xargs -0 sha256sum >/dev/null)
}

# Three timed rounds of a callvault command against a baseline:
#   time_rounds LABEL PREPARE AFTER BASELINE -- CMD...
# Each round runs the function PREPARE, syncs, runs CMD under
# /usr/bin/time -v (stdout discarded; its report in $OUT/time.txt), runs
# the function AFTER (e.g. to measure and remove CMD's output), syncs and
# runs the function BASELINE; both are timed on the wall clock and each
# round is printed on stderr as "run I: LABEL Xs, baseline Ys". Sets
# best_cv and best_base (seconds, the best of three) and rss (KiB, the
# largest peak RSS of CMD).
time_rounds() {
	local label=$1 prepare=$2 after=$3 base=$4 i t0 t1 cvs bs r
	shift 5
	best_cv=999999 best_base=999999 rss=0
	for i in 1 2 3; do
		"$prepare"
		sync
		t0=$(date +%s.%N)
		/usr/bin/time -v -o "$OUT/time.txt" "$@" >/dev/null
		t1=$(date +%s.%N)
		r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/time.txt")
		[ "$r" -gt "$rss" ] && rss=$r
		cvs=$(echo "$t1 - $t0" | bc -l)
		"$after"
		sync
		t0=$(date +%s.%N)
		"$base"
		t1=$(date +%s.%N)
		bs=$(echo "$t1 - $t0" | bc -l)
		echo "run $i: $label ${cvs}s, baseline ${bs}s" >&2
		best_cv=$(echo "if ($cvs < $best_cv) $cvs else $best_cv" | bc -l)
		best_base=$(echo "if ($bs < $best_base) $bs else $best_base" | bc -l)
	done
}

# sql STATEMENTS: run them on $CALLVAULT_DB (python3's sqlite3, no
# sqlite3 tool needed); a SELECT's rows are printed, columns joined by |.
sql() { python3 -c 'import sqlite3, sys
con = sqlite3.connect(sys.argv[1]); q = sys.argv[2]
if q.lstrip().upper().startswith("SELECT"):
    print("\n".join("|".join(map(str, r)) for r in con.execute(q)))
else:
    con.executescript(q)' "$CALLVAULT_DB" "$1"; }

# ---- timing ----

# Seconds from $1 to $2 (date +%s.%N).
secs() { echo "$2 - $1" | bc -l; }
# The smaller of two numbers.
best() { echo "if ($1 < $2) $1 else $2" | bc -l; }
# From a /usr/bin/time -v file: the peak RSS (KiB); user + system seconds.
rss_of() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }
cpu_of() {
	sed -n 's/.*\(User\|System\) time (seconds): //p' "$1" | paste -sd+ | bc -l
}

# exit_also CMD: run CMD when the script exits, as well as (before) the
# EXIT trap it had set, not instead of it
exit_also() {
	local prev
	prev=$(trap -p EXIT)
	prev=${prev#trap -- }
	prev=${prev% EXIT}
	eval "prev=${prev:-''}"
	trap -- "$1${prev:+; $prev}" EXIT
}

# ---- a local S3 ----

# rgw_start MEM_MB [DISK_GB]: start a Ceph RGW (tools/rgw, memstore of
# MEM_MB, or bluestore in a sparse file of DISK_GB when given) in
# $OUT/rgw, stopped when the script exits, and read its RGW_* (endpoint,
# keys); the keys also go to $OUT/ak and $OUT/sk (umask 077 from here
# on), curl's signing options to the array S3, and the bucket `bench` is
# created with object lock.
rgw_start() {
	if [ "${2:-0}" -gt 0 ]; then
		tools/rgw start "$OUT/rgw" --disk-gb "$2" >"$OUT/rgw.env"
	else
		tools/rgw start "$OUT/rgw" --mem-mb "$1" >"$OUT/rgw.env"
	fi
	exit_also "tools/rgw stop $(printf %q "$OUT/rgw")"
	. "$OUT/rgw.env"
	umask 077
	printf '%s\n' "$RGW_ACCESS_KEY" >"$OUT/ak"
	printf '%s\n' "$RGW_SECRET_KEY" >"$OUT/sk"
	S3=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$RGW_ACCESS_KEY:$RGW_SECRET_KEY")
	curl -sf "${S3[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		-H "x-amz-bucket-object-lock-enabled: true" -X PUT "$RGW_ENDPOINT/bench"
}

# CPU seconds used so far by rgw_start's daemons (mon, osd, radosgw).
srv_cpu() {
	local p t=0
	for p in $(cat "$OUT"/rgw/run/*.pid); do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo "$t / $(getconf CLK_TCK)" | bc -l
}

# ---- recordings ----

# store_with_recordings N MB: a new store at $CALLVAULT_DB ($CV) holding
# one month (2026-03, one location) of gencalls' calls, enough of them
# ($calls, set here) for the first N with a messageId to be given a
# tests/mkrec recording ($MKREC) of about MB megabytes, sizes +-20 %
# around MB, deterministic. The files are in $OUT (calls.jsonl, ids).
store_with_recordings() {
	local n=$1 mb=$2 i=0 id bytes
	# about 60 % of generated calls have a messageId: enough calls for N
	calls=$((n * 2 + 20))
	echo "generating $calls calls, $n recordings of ~$mb MB" >&2
	python3 tools/bench/gencalls.py "$calls" --locations 1 --months 1 \
		--start 2026-03 --with-location --seed 5 >"$OUT/calls.jsonl"
	"$CV" init >/dev/null
	"$CV" import "$OUT/calls.jsonl" >/dev/null
	python3 - "$OUT/calls.jsonl" "$n" >"$OUT/ids" <<'PY'
import json, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1])
       if json.loads(l).get("messageId")]
print("\n".join(ids[:int(sys.argv[2])]))
PY
	while read -r id; do
		bytes=$((mb * 1000000 * (80 + (i * 37) % 41) / 100 + 44))
		"$MKREC" "$CALLVAULT_DB" "$id" "$bytes" >/dev/null
		i=$((i + 1))
	done <"$OUT/ids"
	[ "$i" -eq "$n" ] || { echo "only $i calls with a messageId" >&2; exit 1; }
}
