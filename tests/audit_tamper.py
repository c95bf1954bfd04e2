#!/usr/bin/env python3
"""audit_tamper.py DB MODE [ARG]: tamper with a store's audit log the way
someone who can write the database would, recomputing the hash chain
(store_audit.h's formula) so that `audit --verify` alone still passes.
MODE: truncate N (delete entries with id >= N), clear (delete all),
rewrite ID (change entry ID's actor, recompute every hash from it),
unkey ID (the same, recomputing from ID only and clearing the keyed mark
of every entry from ID on: what someone without the audit key can do),
plain (clear every keyed mark and recompute the whole chain unkeyed),
head (print the newest entry's id and hash), copy DEST (a consistent
copy of the whole store, its WAL included)."""
import hashlib, sqlite3, sys

GENESIS = "0" * 64
db = sqlite3.connect(sys.argv[1])
mode = sys.argv[2]

def entry_hash(prev, ts, actor, command, detail, count, os_user):
    s = ""
    if os_user is not None:
        s += "callvault-audit-v2\n"
    s += "%s\n%d\n%s\n%s\n%s\n%d" % (prev, ts, actor, command,
                                     detail if detail else "{}", count)
    if os_user is not None:
        s += "\n" + os_user
    return hashlib.sha256(s.encode()).hexdigest()

def recompute(first=1):
    prev = GENESIS
    if first > 1:
        prev = db.execute("SELECT hash FROM audit WHERE id = ?",
                          (first - 1,)).fetchone()[0]
    rows = db.execute("SELECT id, ts, actor, command, detail, result_count,"
                      " os_user FROM audit WHERE id >= ? ORDER BY id",
                      (first,)).fetchall()
    for (i, ts, actor, command, detail, count, os_user) in rows:
        h = entry_hash(prev, ts, actor, command, detail, count, os_user)
        db.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?",
                   (prev, h, i))
        prev = h

if mode == "truncate":
    db.execute("DELETE FROM audit WHERE id >= ?", (int(sys.argv[3]),))
elif mode == "clear":
    db.execute("DELETE FROM audit")
elif mode == "rewrite":
    db.execute("UPDATE audit SET actor = 'nobody' WHERE id = ?",
               (int(sys.argv[3]),))
    recompute()
elif mode == "unkey":
    first = int(sys.argv[3])
    db.execute("UPDATE audit SET actor = 'nobody' WHERE id = ?", (first,))
    db.execute("UPDATE audit SET keyed = NULL WHERE id >= ?", (first,))
    recompute(first)
elif mode == "plain":
    db.execute("UPDATE audit SET keyed = NULL")
    recompute()
elif mode == "copy":
    dest = sqlite3.connect(sys.argv[3])
    db.backup(dest)
    dest.close()
elif mode == "head":
    print(*db.execute("SELECT id, hash FROM audit ORDER BY id DESC"
                      " LIMIT 1").fetchone())
db.commit()
