#!/usr/bin/env bash
# Integration test of issue 21's "monthly bags stop leaking": a
# location's bag holds only that location's audit entries, and names
# holds by id, never by their matter.
[ -w /dev/shm ] && export TMPDIR=/dev/shm
. "$(dirname "$0")/../lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
A="$T/archives"

python3 "$SRC/tools/bench/gencalls.py" 30 --seed 11 --locations 2 \
	--start 2026-01 --months 1 --with-location >"$T/calls.jsonl"
cv init >/dev/null
cv import "$T/calls.jsonl" >/dev/null
read -r LA LB < <(python3 -c "
import json, sys
locs = sorted({json.loads(l)['locationId'] for l in open(sys.argv[1])})
print(*locs)" "$T/calls.jsonl")
CB=$(python3 -c "
import json, sys
print([json.loads(l)['id'] for l in open(sys.argv[1])
       if json.loads(l)['locationId'] == sys.argv[2]][0])" "$T/calls.jsonl" "$LB")
expect "two locations" test -n "$LB"

# the audit entries are stamped now: archive "this" month
MONTH=$(date -u +%Y-%m)
expect "a search of A" cv --actor alice search "" --location "$LA" >/dev/null
expect "a view of a call of B" cv --actor bob show "$CB" >/dev/null
cv --actor carol search "anything store wide" >/dev/null
cv --actor dora hold add --matter "Acme v. Secret Matter" --location "$LA" \
	--reason "court order" >/dev/null
cv --actor erin hold add --matter "Everywhere Matter" --contact nobody \
	>/dev/null

# re-date the calls into this month so the bags carry this month's
# audit entries
python3 - "$T/calls.jsonl" "$MONTH" >"$T/now.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    c = json.loads(l)
    c["createdAt"] = sys.argv[2] + c["createdAt"][7:]
    print(json.dumps(c))
PY
cv import "$T/now.jsonl" >/dev/null
expect_exit "archive this month" 0 cv archive --month "$MONTH" --out "$A"
bag_file() { tar --zstd -xOf "$A/$1/$MONTH.tar.zst" --wildcards "*/$2"; }
bag_file "$LA" data/audit.jsonl >"$T/a.audit"
bag_file "$LB" data/audit.jsonl >"$T/b.audit"
bag_file "$LA" bag-info.txt >"$T/a.info"
bag_file "$LB" bag-info.txt >"$T/b.info"

expect "A's bag: the search of A" grep -q '"actor":"alice"' "$T/a.audit"
expect "A's bag: the hold on A" grep -q '"actor":"dora"' "$T/a.audit"
expect "A's bag: not B's view" bash -c "! grep -q '\"actor\":\"bob\"' '$T/a.audit'"
expect "A's bag: not the store-wide search" bash -c "! grep -q '\"actor\":\"carol\"' '$T/a.audit'"
expect "A's bag: not the store-wide hold" bash -c "! grep -q '\"actor\":\"erin\"' '$T/a.audit'"
expect "B's bag: B's view" grep -q '"actor":"bob"' "$T/b.audit"
expect "B's bag: not A's search" bash -c "! grep -q '\"actor\":\"alice\"' '$T/b.audit'"
expect "B's bag: not A's hold" bash -c "! grep -q '\"actor\":\"dora\"' '$T/b.audit'"
expect "B's bag: not the store-wide search" bash -c "! grep -q '\"actor\":\"carol\"' '$T/b.audit'"

expect "holds by id" grep -qx "Callvault-Legal-Hold: #1" "$T/a.info"
expect "store-wide hold by id in A" grep -qx "Callvault-Legal-Hold: #2" "$T/a.info"
expect "store-wide hold by id in B" grep -qx "Callvault-Legal-Hold: #2" "$T/b.info"
expect "A's hold not in B" bash -c "! grep -q 'Legal-Hold: #1' '$T/b.info'"
expect "no matter name in any bag-info" bash -c \
	"! grep -q 'Matter' '$T/a.info' '$T/b.info'"
expect_exit "the bags verify" 0 cv verify "$A"/*/*.tar.zst
