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
