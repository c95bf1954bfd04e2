#!/usr/bin/env bash
# `callvault export` read by a real third-party CSV reader (pandas, the
# Debian package python3-pandas that tools/bootstrap installs): phone
# numbers and ids stay text, a formula-like summary is neutralised and
# comes back exactly by the rule docs/operations.md gives, UTF-8 and the
# BOM of --bom, the updatedAt/operation columns of --since-last, the
# cursor commands, and JSONL staying exact.
. "$(dirname "$0")/../lib.sh"

# pandas is installed for Debian's python3, which may not be first on PATH
PY=""
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import pandas' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
	echo "SKIP: pandas is not installed (tools/bootstrap installs" \
		"python3-pandas); the CSV checks below run with Python's csv" \
		"module instead" >&2
	PY=python3
fi

cat >"$T/calls.jsonl" <<'EOF'
{"id":"c1","createdAt":"2026-03-01T10:00:00Z","locationId":"L1","contactId":"0042","fromNumber":"+15125550101","duration":61,"summary":"=HYPERLINK(\"http://evil.example/\",\"click me\")","transcript":"bot: hello"}
{"id":"c2","createdAt":"2026-03-02T10:00:00Z","locationId":"L1","contactId":"K2","fromNumber":"+447700900123","duration":5,"summary":"Llamada de José, señal débil","transcript":"bot: hola"}
{"id":"c3","createdAt":"2026-03-03T10:00:00Z","locationId":"L1","contactId":"K3","fromNumber":"(512) 555-0102","summary":"@SUM(1+1) then -5 and +3","transcript":"bot: x"}
{"id":"c4","createdAt":"2026-03-04T10:00:00Z","locationId":"L1","contactId":"K4","fromNumber":"5125550104","summary":"\tcmd|' /C calc'!A0","transcript":"bot: y"}
{"id":"c5","createdAt":"2026-03-05T10:00:00Z","locationId":"L1","summary":"'quoted' already","transcript":"bot: z"}
EOF
cv import "$T/calls.jsonl" >/dev/null

expect_exit "export --bom" 0 cv export --bom --out "$T/bom.csv"
expect_exit "export" 0 cv export --out "$T/plain.csv"
expect_eq "BOM present with --bom" "$(head -c 3 "$T/bom.csv" | od -An -tx1 | tr -d ' ')" "efbbbf"
expect_eq "no BOM without it" "$(head -c 3 "$T/plain.csv")" "id,"
expect_exit "--bom with jsonl" 2 cv export --bom --format jsonl
expect "--bom with jsonl explained" grep -q "byte-order mark" "$T/err"

expect "pandas (or csv) reads the export" "$PY" - "$T/bom.csv" "$T/plain.csv" "$T/calls.jsonl" <<'PY'
import csv, json, sys
bom, plain, src = sys.argv[1:4]
want = {c["id"]: c for c in map(json.loads, open(src, encoding="utf-8"))}
undo = lambda v: v[1:] if isinstance(v, str) and v.startswith("'") else v
try:
    import pandas as pd
except ImportError:
    pd = None
if pd:
    # the defaults a user would type: no dtype given, types inferred
    df = pd.read_csv(bom, encoding="utf-8-sig", keep_default_na=False)
    assert list(df.columns)[0] == "id", df.columns
    for col in ("id", "locationId", "contactId", "fromNumber"):
        assert df[col].dtype == object, (col, df[col].dtype)
    rows = df.to_dict("records")
    # pandas drops the BOM whichever UTF-8 it is told; the plain file too
    assert list(pd.read_csv(bom, encoding="utf-8").columns)[0] == "id"
    assert list(pd.read_csv(plain, encoding="utf-8").columns)[0] == "id"
    # the BOM is what a plain UTF-8 reader sees first
    assert open(bom, encoding="utf-8").read(3) == "\ufeffid"
    print("read with pandas", pd.__version__)
else:
    rows = list(csv.DictReader(open(bom, newline="", encoding="utf-8-sig")))
by = {r["id"]: r for r in rows}
assert sorted(by) == ["c1", "c2", "c3", "c4", "c5"], sorted(by)
c1, c2, c3, c4, c5 = (by[k] for k in ("c1", "c2", "c3", "c4", "c5"))
# phone numbers: text, marked, every character back with the rule
assert c1["fromNumber"] == "'+15125550101", c1["fromNumber"]
assert undo(c1["fromNumber"]) == "+15125550101"
assert undo(c2["fromNumber"]) == "+447700900123"
assert c3["fromNumber"] == "(512) 555-0102", c3["fromNumber"]
assert c4["fromNumber"] == "'5125550104" and undo(c4["fromNumber"]) == "5125550104"
assert c1["contactId"] == "'0042" and undo(c1["contactId"]) == "0042"
# formulas neutralised, and exactly undone
assert c1["summary"].startswith("'=HYPERLINK("), c1["summary"]
assert c3["summary"].startswith("'@SUM"), c3["summary"]
assert c4["summary"].startswith("'\tcmd|"), repr(c4["summary"])
assert c5["summary"] == "''quoted' already", c5["summary"]
for k, r in by.items():
    assert undo(r["summary"]) == want[k]["summary"], (k, r["summary"])
    assert not str(r["summary"])[:1] in "=+-@\t\r", (k, r["summary"])
assert c2["summary"] == "Llamada de José, señal débil", c2["summary"]
# numbers stay numbers
assert float(c1["duration"]) == 61.0
PY

# the same file as bytes: ids quoted, a formula cell quoted with its '
expect "quoted ids and numbers" grep -q '^"c1","L1",,,"'"'"'0042","'"'"'+15125550101",' "$T/plain.csv"
expect "HYPERLINK neutralised in the bytes" grep -q ',"'"'"'=HYPERLINK(""http' "$T/plain.csv"

# JSONL stays exact: nothing marked
cv export --format jsonl >"$T/all.jsonl"
expect "jsonl exact" python3 - "$T/all.jsonl" "$T/calls.jsonl" <<'PY'
import json, sys
got = {r["id"]: r for r in map(json.loads, open(sys.argv[1], encoding="utf-8"))}
for c in map(json.loads, open(sys.argv[2], encoding="utf-8")):
    g = got[c["id"]]
    assert g["summary"] == c["summary"], (g["summary"], c["summary"])
    assert g["fromNumber"] == c.get("fromNumber"), g
    assert g["contactId"] == c.get("contactId"), g
    assert "operation" not in g and "updatedAt" not in g
PY

# incremental: updatedAt and operation, read by the same reader
cv export --since-last bi --out "$T/inc1.csv" 2>/dev/null
printf '%s\n' '{"id":"c2","createdAt":"2026-03-02T10:00:00Z","locationId":"L1","contactId":"K2","fromNumber":"+447700900123","duration":7,"summary":"José called back","transcript":"bot: hola"}' \
	'{"id":"c6","createdAt":"2026-03-06T10:00:00Z","locationId":"L2","fromNumber":"+15125550106","summary":"new one","transcript":"bot: hi"}' \
	'{"id":"c7","createdAt":"2026-03-07T10:00:00Z","locationId":"L2","summary":"new, then","transcript":"bot: hi"}' \
	'{"id":"c7","createdAt":"2026-03-07T10:00:00Z","locationId":"L2","summary":"new, then changed before the export","transcript":"bot: hi"}' >"$T/more.jsonl"
cv import "$T/more.jsonl" >/dev/null
cv export --since-last bi --bom --out "$T/inc2.csv" 2>/dev/null
expect "incremental columns" "$PY" - "$T/inc1.csv" "$T/inc2.csv" <<'PY'
import csv, sys
from datetime import datetime
def read(path):
    try:
        import pandas as pd
        df = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)
        df["updatedAt"] = pd.to_datetime(df["updatedAt"], utc=True)
        return df.to_dict("records")
    except ImportError:
        rows = list(csv.DictReader(open(path, newline="", encoding="utf-8-sig")))
        for r in rows:
            r["updatedAt"] = datetime.fromisoformat(r["updatedAt"].replace("Z", "+00:00"))
        return rows
first, second = read(sys.argv[1]), read(sys.argv[2])
assert len(first) == 5 and {r["operation"] for r in first} == {"new"}, first
ops = {r["id"]: r["operation"] for r in second}
assert ops == {"c2": "changed", "c6": "new", "c7": "new"}, ops
c2 = [r for r in second if r["id"] == "c2"][0]
assert c2["summary"] == "José called back", c2
assert c2["updatedAt"] >= max(r["updatedAt"] for r in first), c2
PY
cv export --since-last bi --format jsonl >"$T/inc3.jsonl" 2>/dev/null
expect_eq "nothing new" "$(wc -c <"$T/inc3.jsonl")" "0"

# the cursor commands
expect_exit "list cursors" 0 cv export --list-cursors
expect "bi listed" grep -q "^bi " "$T/out"
expect_eq "list as JSON" "$(cv export --list-cursors --format jsonl | python3 -c '
import json, sys
c = [json.loads(l) for l in sys.stdin]
print(len(c), c[0]["name"], c[0]["lastRows"])')" "1 bi 0"
expect_exit "list takes no filters" 2 cv export --list-cursors --location L1
expect_exit "reset and list" 2 cv export --list-cursors --reset-cursor bi
expect_exit "reset" 0 cv --actor ops export --reset-cursor bi
expect_exit "reset unknown" 2 cv export --reset-cursor bi
expect "unknown named" grep -q "no export cursor named 'bi'" "$T/err"
expect_exit "empty name" 2 cv export --reset-cursor ''
expect_eq "reset audited" "$(cv audit --format json | python3 -c '
import json, sys
a = [e for e in json.load(sys.stdin) if e["command"] == "export reset-cursor"]
print(len(a), a[0]["actor"], a[0]["detail"]["name"], a[0]["detail"]["lastRows"])')" "1 ops bi 0"
cv export --since-last bi --out "$T/inc4.csv" 2>/dev/null
expect_eq "after reset: every call, all new" "$(python3 -c '
import csv, sys
r = list(csv.DictReader(open(sys.argv[1], newline="")))
print(len(r), sorted({x["operation"] for x in r}))' "$T/inc4.csv")" "7 ['new']"
check_store
