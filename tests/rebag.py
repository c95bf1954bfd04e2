#!/usr/bin/env python3
"""rebag.py DIR: regenerate a bag's manifests, Payload-Oxum and tag
manifest after its payload was changed — a consistent rewrite, as an
attacker who can write the archive directory would do. Tag files not in
the tag manifest (the signature, the timestamp) are left as they are."""
import hashlib, os, re, sys

d = sys.argv[1]
files = []
for root, _, names in os.walk(os.path.join(d, "data")):
    for n in names:
        files.append(os.path.relpath(os.path.join(root, n), d))
files.sort()
def h(p, alg):
    return hashlib.new(alg, open(os.path.join(d, p), "rb").read()).hexdigest()
for alg in ("sha256", "sha512"):
    with open(os.path.join(d, "manifest-%s.txt" % alg), "w") as f:
        for p in files:
            f.write("%s  %s\n" % (h(p, alg), p))
size = sum(os.path.getsize(os.path.join(d, p)) for p in files)
info = open(os.path.join(d, "bag-info.txt")).read()
info = re.sub(r"Payload-Oxum: .*", "Payload-Oxum: %d.%d" % (size, len(files)), info)
open(os.path.join(d, "bag-info.txt"), "w").write(info)
with open(os.path.join(d, "tagmanifest-sha256.txt"), "w") as f:
    for p in ("manifest-sha256.txt", "manifest-sha512.txt", "bagit.txt",
              "bag-info.txt"):
        f.write("%s  %s\n" % (h(p, "sha256"), p))
