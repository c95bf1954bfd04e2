# hlsim.sh — helpers for tests that run the HighLevel simulator
# (sourced after lib.sh): HLSIM, start_sim.
HLSIM=${HLSIM:?set by meson}
for tool in curl jq openssl; do
	command -v "$tool" >/dev/null ||
		{ echo "$tool is required (Debian package $tool)" >&2; exit 1; }
done

# start_sim NAME ARGS… : run hlsim on 127.0.0.1 port 0 with ARGS; sets
# ${NAME}_URL and ${NAME}_PID; $T/NAME.info holds /__sim/info.
start_sim() {
	local name=$1; shift
	"$HLSIM" --quiet --port 0 --port-file "$T/$name.port" \
		--info-file "$T/$name.info" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	local pid=$!
	cleanup_hooks+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null")
	# the port file is written before the stdout line: wait for both
	for _ in $(seq 200); do
		[ -s "$T/$name.port" ] && grep -q '^port ' "$T/$name.out" &&
			break
		sleep 0.05
	done
	local port
	port=$(cat "$T/$name.port")
	printf -v "${name}_URL" 'http://127.0.0.1:%s' "$port"
	printf -v "${name}_PID" '%s' "$pid"
	expect_eq "$name prints its port" "$(head -1 "$T/$name.out")" "port $port"
}
