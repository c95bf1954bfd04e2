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
