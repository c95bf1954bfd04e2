#!/usr/bin/env bash
# run.sh BUILD_DIR FIXTURE — the console's browser test (tests/browser):
# a store with the fixture and a hostile call, an admin user, `callvault
# serve --console` on port 0, then console.test.mjs in headless Chromium.
# Exits 77 (skipped) when chromium or node_modules is missing; needs
#   apt-get install chromium   and   npm ci   (in tests/browser).
set -u
here=$(cd "$(dirname "$0")" && pwd)
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	echo "SKIP: $CHROMIUM is missing (apt-get install chromium)"; exit 77
fi
if ! command -v node >/dev/null || [ ! -d "$here/node_modules/playwright-core" ]; then
	echo "SKIP: node or tests/browser/node_modules is missing (npm ci in tests/browser)"; exit 77
fi
: "${CALLVAULT:?CALLVAULT must name the binary}"
out=$1/browser-screenshots
T=$(mktemp -d /tmp/cvbrowser.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export CALLVAULT_DB=$T/db
"$CALLVAULT" import "$2" >/dev/null || exit 1
printf '%s\n' '{"id": "x1", "createdAt": "2026-03-02T10:00:00.000Z", "locationId": "L1", "agentId": "A1", "summary": "<img src=x onerror=alert(1)>", "transcript": "bot: <script>alert(1)</script>\nhuman: \" onmouseover=\"alert(2) refund"}' > "$T/xss.jsonl"
"$CALLVAULT" import "$T/xss.jsonl" >/dev/null || exit 1
# a call with a 6 s recording and a timed transcript (issue 20)
printf '%s\n' '{"id": "r1", "createdAt": "2026-03-03T10:00:00.000Z", "locationId": "L1", "agentId": "A1", "messageId": "m-r1", "summary": "Booking.", "transcript": "bot: Hello, this call may be recorded.\nhuman: I would like to book a visit.\nbot: Thursday at ten works."}' > "$T/rec.jsonl"
"$CALLVAULT" import "$T/rec.jsonl" >/dev/null || exit 1
"${MKREC:?MKREC must name tests/mkrec}" "$CALLVAULT_DB" r1 96044 >/dev/null || exit 1
pw="browser test $$"
printf '%s\n' "$pw" > "$T/pw"
"$CALLVAULT" user add officer --role admin --password-file "$T/pw" >/dev/null || exit 1
"$CALLVAULT" serve --listen 127.0.0.1:0 --port-file "$T/port" --console 2>"$T/serve.log" &
pid=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
[ -s "$T/port" ] || { echo "serve did not start"; cat "$T/serve.log"; exit 1; }
node "$here/console.test.mjs" "http://127.0.0.1:$(cat "$T/port")" "$out" officer "$pw"
rc=$?
kill "$pid"; wait "$pid"; pid=
"$CALLVAULT" check >/dev/null || { echo "FAIL: callvault check"; rc=1; }
echo "screenshots: $out"
exit $rc
