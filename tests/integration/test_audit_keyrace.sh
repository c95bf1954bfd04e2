#!/usr/bin/env bash
# The audit key made by many processes at once (found in review): on the
# first run after an upgrade every command that appends an audit entry
# may create the key; they must all end up keying with the one key on
# disk, so the chain verifies.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
cv init >/dev/null
printf '{"id":"c1","locationId":"L1","createdAt":"2026-01-05T10:00:00Z","summary":"hello","transcript":"bot: hello"}\n' >"$T/c.jsonl"
cv import "$T/c.jsonl" >/dev/null
rm -rf "$CALLVAULT_DB.secrets"
pids=()
for _ in $(seq 30); do
	cv search hello --count >/dev/null 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
expect "one key on disk" test -f "$CALLVAULT_DB.secrets/audit.key"
expect_eq "no temp key left" "$(find "$CALLVAULT_DB.secrets" -type f ! -name audit.key | wc -l)" 0
expect_exit "the chain verifies: every entry keyed with that key" 0 cv audit --verify
expect "and says they are keyed" grep -q "keyed" "$T/out"
