#!/usr/bin/env bash
# bench_search.sh — issue 5: `callvault search` latency end to end (process
# start included) over N generated calls, against two baselines measured
# in the same run: the same SQL/FTS5 MATCH in the sqlite3 shell (the
# ceiling) and `grep -c` over the JSONL file; plus export throughput.
# Issue 25: in two states of the store, each against the sqlite3 shell in
# the same state: right after the import this script makes ("post-import":
# whatever the import left in the WAL), then after an explicit
# `PRAGMA wal_checkpoint(TRUNCATE)` ("checkpointed"), then while `serve`
# takes a steady webhook load on the same store (LOAD_RATE a second,
# default 1000, sent by bench_webhook in batches every 100 ms).
#
# usage: tools/bench/bench_search.sh [N]   (default 1000000)
# env:   BENCH_DIR (default tools/bench/out/search), CALLVAULT (binary),
#        REPS (runs per query, default 20), REUSE=1 (keep an existing
#        bench.db instead of importing again: then the first state is
#        whatever that store is in), PLAIN=0 (skip the plain-SQL and
#        grep columns, which take minutes at 1M calls), LOAD=0 (skip the
#        state under webhook load), LOAD_RATE, BENCH_WEBHOOK (default
#        tools/bench/bench_webhook next to the binary), EXPORT=0 (skip
#        the export throughput at the end), IDLE=0 (only the state
#        under webhook load)
# Generation and import of 1M calls take minutes and ~10 GB of disk;
# an existing $BENCH_DIR/calls.jsonl is reused.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
DIR=${BENCH_DIR:-tools/bench/out/search}
CV=${CALLVAULT:-build/callvault}
REPS=${REPS:-20}
mkdir -p "$DIR"
if [ ! -s "$DIR/calls.jsonl" ]; then
	echo "generating $N calls" >&2
	nice python3 tools/bench/gencalls.py "$N" --with-location \
		--locations 10 --months 12 >"$DIR/calls.jsonl"
fi
if [ "${REUSE:-0}" != 1 ]; then
	rm -f "$DIR/bench.db" "$DIR/bench.db-wal" "$DIR/bench.db-shm"
fi
if [ ! -s "$DIR/bench.db" ]; then
	echo "importing" >&2
	/usr/bin/time -f "import: %e s, max RSS %M KiB" \
		nice "$CV" --db "$DIR/bench.db" import "$DIR/calls.jsonl" >&2
fi
exec python3 - "$CV" "$DIR" "$REPS" "${PLAIN:-1}" <<'PY'
import os, statistics, subprocess, sys, threading, time, sqlite3, urllib.request

cv, d, reps, plain = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
db = os.path.join(d, "bench.db")
jsonl = os.path.join(d, "calls.jsonl")
env = dict(os.environ, NO_COLOR="1")
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
ncalls = con.execute("SELECT count(*) FROM calls").fetchone()[0]
loc, agent = con.execute(
    "SELECT location_id, agent_id FROM calls WHERE rid = 1000").fetchone()
number = con.execute(
    "SELECT from_e164 FROM calls WHERE from_e164 IS NOT NULL AND rid > 5000"
    " LIMIT 1").fetchone()[0]
phone = None
with open(jsonl) as f:
    for line in f:
        i = line.find("reach me at +1 (555) ")
        if i >= 0:
            phone = line[i + 12:i + 29]
            break
con.close()

# (name, callvault args, grep pattern or None, selective?)
Q = [
    ("common word", ["refund"], "refund", False),
    ("common word 2", ["manager"], "manager", False),
    ("phrase", ['"cancellation fee"'], "cancellation fee", False),
    ("AND", ["refund AND manager"], None, False),
    ("OR", ["refund OR invoice"], None, False),
    ("NOT", ["refund NOT manager"], None, False),
    ("NEAR", ["NEAR(refund manager, 5)"], None, False),
    ("prefix", ["cancel*"], None, False),
    ("speaker bot", ["bot:refund"], None, False),
    ("speaker human phrase", ['human:"charged twice"'], "charged twice", False),
    ("summary field", ["summary:estimate"], None, False),
    ("two speakers", ["human:refund AND bot:manager"], None, False),
    ("e-mail", ["priya@example.com"], "priya@example.com", False),
    ("apostrophe name", ["O'Neil"], "O'Neil", False),
    ("co-pay", ["co-pay"], "co-pay", False),
    ("card last four", ["4242"], "4242", True),
    ("phone in transcript", [phone], phone, True),
    ("rare word (none)", ["zebra"], "zebra", True),
    ("word + location + month", ["refund", "--location", loc, "--from",
        "2026-03-01", "--to", "2026-03-31"], None, False),
    ("number filter only", ["--number", number], number, True),
    ("phrase + agent", ['"roof leak"', "--agent", agent], None, False),
    ("word + action + duration", ["transferred", "--action",
        "CALL_TRANSFER", "--min-duration", "600"], None, False),
    ("newest sort", ["Thursday", "--sort", "newest"], None, False),
    ("prefix + trial", ["refun*", "--trial"], None, False),
]

def run(argv, timeout=None, ok=(0,)):
    t = time.perf_counter()
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, b""
    dt = (time.perf_counter() - t) * 1000
    if p.returncode not in ok:
        sys.exit(f"failed: {argv}: {p.stderr.decode()[:300]}")
    return dt, p.stdout

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]

def fmt_ms(v, limit):
    return f">{limit * 1000:.0f}" if v is None else f"{v:.1f}"

def wal_bytes():
    try:
        return os.path.getsize(db + "-wal")
    except FileNotFoundError:
        return 0

base = [cv, "--db", db, "--actor", "bench", "search", "--limit", "50"]

def measure(full):
    rows, all_cv, all_sq = [], [], []
    for name, args, pat, sel in Q:
        ex = run(base + args + ["--explain"])[1].decode().splitlines()
        sql = [l for l in ex if l.startswith("sql: ")][0][5:]
        # the MATCH callvault runs: prefix terms expanded when they were
        fts = [l[10:] for l in ex if l.startswith("expanded: ")] or \
              [l[5:] for l in ex if l.startswith("fts: ")]
        # the ceiling: the least the sqlite3 shell can do to find 50 matches
        ceil = ("SELECT rowid FROM calls_fts WHERE calls_fts MATCH '%s' LIMIT 50;"
                % fts[0].replace("'", "''")) if fts else sql
        run(base + args)  # warm the page cache
        t_cv = [run(base + args)[0] for _ in range(reps)]
        t_sq = [run(["sqlite3", "-readonly", db, ceil])[0] for _ in range(5)]
        # the same query written plainly: match, join, sort by time
        t_plain = run(["sqlite3", "-readonly", db, sql], timeout=20)[0] \
            if full else None
        n = int(run(base + args + ["--count"])[1])
        g = None
        if full and pat is not None and sel:
            g = min(run(["grep", "-c", "-F", "--", pat, jsonl], ok=(0, 1))[0] for _ in range(2))
        all_cv += t_cv
        all_sq += t_sq
        rows.append((name, " ".join(args), n, statistics.median(t_cv),
                     pct(t_cv, 99), statistics.median(t_sq), t_plain, g))
    return rows, all_cv, all_sq

def report(state, rows, all_cv, all_sq, full):
    print(f"\n### {state}\n")
    print("| query | callvault args | matches | p50 ms | p99 ms | sqlite3 ceiling p50 ms | ratio |"
          + (" plain SQL ms | grep -c ms | speed-up vs grep |" if full else ""))
    print("|---|---|---:|---:|---:|---:|---:|" + ("---:|---:|---:|" if full else ""))
    for name, a, n, p50, p99, sq, plain_ms, g in rows:
        a = a.replace("|", "\\|")
        line = (f"| {name} | `{a}` | {n} | {p50:.1f} | {p99:.1f} | {sq:.1f} | "
                f"{p50 / sq:.2f} |")
        if full:
            gs = f"{g:.0f}" if g else ""
            su = f"{g / p50:.0f}×" if g else ""
            line += f" {fmt_ms(plain_ms, 20)} | {gs} | {su} |"
        print(line)
    print()
    summary = (f"{state}: callvault p50 {statistics.median(all_cv):.1f} ms, "
               f"p99 {pct(all_cv, 99):.1f} ms; sqlite3 ceiling p50 "
               f"{statistics.median(all_sq):.1f} ms, p99 {pct(all_sq, 99):.1f} ms; "
               f"ratio of p50s {statistics.median(all_cv) / statistics.median(all_sq):.2f}")
    print("all queries, " + summary)
    return summary

print("load average at the start:", open("/proc/loadavg").read().split()[:3])
print(f"calls in store: {ncalls}; runs per query: {reps} (callvault), "
      "5 (sqlite3 ceiling)" + (", 1 (plain SQL, 20 s timeout)" if plain else ""))
summaries = []
for state in ("post-import", "checkpointed") \
        if os.environ.get("IDLE", "1") == "1" else ():
    if state == "checkpointed":
        subprocess.run(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE)"],
                       stdout=subprocess.DEVNULL, check=True)
    w = wal_bytes()
    rows, all_cv, all_sq = measure(plain and state == "post-import")
    summaries.append(report(f"{state} (WAL {w / 1e6:.1f} MB at the start)",
                            rows, all_cv, all_sq, plain and state == "post-import"))

def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return 0.0

def under_load():
    """The queries while serve stores a steady webhook load."""
    bw = os.environ.get("BENCH_WEBHOOK") or os.path.join(
        os.path.dirname(cv), "tools", "bench", "bench_webhook")
    rate = int(os.environ.get("LOAD_RATE", "1000"))
    if not os.access(bw, os.X_OK):
        print(f"\n(no {bw}: the state under webhook load is skipped)")
        return
    subprocess.run([bw, "keygen", d], stdout=subprocess.DEVNULL, check=True)
    pf = os.path.join(d, "port")
    if os.path.exists(pf):
        os.unlink(pf)
    srv = subprocess.Popen([cv, "--db", db, "serve", "--listen",
                            "127.0.0.1:0", "--port-file", pf, "--public-key",
                            os.path.join(d, "ed25519.pub.pem")],
                           stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(pf) and os.path.getsize(pf) > 0:
            break
        time.sleep(0.05)
    port = open(pf).read().strip()
    stop = threading.Event()
    def loader():
        t0, sent, n = time.monotonic(), 0, max(1, rate // 10)
        while not stop.is_set():
            subprocess.run([bw, "run", os.path.join(d, "ed25519.pem"), port,
                            str(n), "8"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            sent += n
            wait = t0 + sent / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
    th = threading.Thread(target=loader)
    th.start()
    time.sleep(3)  # into the steady state
    s0, t0 = metric(port, "callvault_webhook_events_stored_total"), time.monotonic()
    wal_max = [0]
    def watch():
        while not stop.is_set():
            wal_max[0] = max(wal_max[0], wal_bytes())
            time.sleep(0.1)
    wt = threading.Thread(target=watch)
    wt.start()
    rows, all_cv, all_sq = measure(False)
    s1, t1 = metric(port, "callvault_webhook_events_stored_total"), time.monotonic()
    stop.set()
    th.join()
    wt.join()
    srv.terminate()
    srv.wait()
    got = (s1 - s0) / (t1 - t0)
    summaries.append(report(f"under webhook load ({got:.0f} events/s stored "
                            f"while measuring, asked {rate}/s; WAL at most "
                            f"{wal_max[0] / 1e6:.1f} MB)", rows, all_cv,
                            all_sq, False))

if os.environ.get("LOAD", "1") == "1":
    under_load()
print()
for s_ in summaries:
    print(s_)
print()

for fmt in ("csv", "jsonl") if os.environ.get("EXPORT", "1") == "1" else ():
    out = os.path.join(d, "export." + fmt)
    p = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", cv, "--db", db,
                        "--actor", "bench", "export", "--format", fmt, "--out",
                        out], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall, user, sys_, rss = p.stderr.decode().strip().splitlines()[-1].split()
    wall, cpu = float(wall), float(user) + float(sys_)
    lines = sum(1 for _ in open(out, "rb")) if fmt == "jsonl" else None
    print(f"export {fmt}: {ncalls} rows in {wall:.2f} s wall = "
          f"{ncalls / wall:,.0f} rows/s (CPU {cpu:.2f} s = "
          f"{ncalls / cpu:,.0f} rows/s per CPU second), max RSS {rss} KiB, "
          f"{os.path.getsize(out) / 1e6:.0f} MB"
          + (f", {lines} lines" if lines is not None else ""))
    os.unlink(out)
print("load average at the end:", open("/proc/loadavg").read().split()[:3])
PY
