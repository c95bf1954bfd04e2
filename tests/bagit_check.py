#!/usr/bin/env python3
"""An independent BagIt 1.0 (RFC 8493) check of callvault archives.

Written from the RFC, not from callvault's code: decompress with the zstd
CLI, unpack with Python's tarfile, then check bagit.txt (2.1.1), every
payload manifest (2.1.3: every payload file listed, every listed file
present with that checksum), the tag manifest (2.2.1), and Payload-Oxum
(2.2.2). Also checks the .sha256 file beside the archive.

usage: bagit_check.py ARCHIVE.tar.zst...   exit 0 when all are valid bags
"""
import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile


def fail(archive, msg):
    print("%s: %s" % (archive, msg), file=sys.stderr)
    return 1


def unescape(path):
    return path.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def parse_manifest(text):
    """RFC 8493 2.1.3: checksum, whitespace, filepath; one per line."""
    out = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        m = re.match(r"^([0-9a-fA-F]+)[ \t]+(.+)$", line)
        if not m:
            raise ValueError("bad manifest line %r" % line)
        out[unescape(m.group(2))] = m.group(1).lower()
    return out


def check(archive):
    side = archive + ".sha256"
    with open(archive, "rb") as f:
        raw = f.read()
    want = open(side).read().split()[0]
    if hashlib.sha256(raw).hexdigest() != want:
        return fail(archive, "outer sha256 mismatch")
    tar_bytes = subprocess.run(["zstd", "-dc", "-q"], input=raw,
                               stdout=subprocess.PIPE, check=True).stdout
    files = {}
    tops = set()
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as t:
        for m in t.getmembers():
            parts = m.name.split("/")
            if m.name.startswith("/") or ".." in parts:
                return fail(archive, "unsafe path %s" % m.name)
            tops.add(parts[0])
            if m.isfile():
                files["/".join(parts[1:])] = t.extractfile(m).read()
    if len(tops) != 1:
        return fail(archive, "not exactly one top directory: %s" % tops)
    # 2.1.1 bag declaration
    decl = files.get("bagit.txt", b"").decode("utf-8").splitlines()
    if decl != ["BagIt-Version: 1.0", "Tag-File-Character-Encoding: UTF-8"]:
        return fail(archive, "bad bagit.txt %r" % decl)
    payload = {p: d for p, d in files.items() if p.startswith("data/")}
    manifests = [p for p in files if re.match(r"^manifest-\w+\.txt$", p)]
    if not manifests:
        return fail(archive, "no payload manifest")
    for mf in manifests:
        alg = mf[len("manifest-"):-len(".txt")]
        entries = parse_manifest(files[mf].decode("utf-8"))
        if set(entries) != set(payload):
            return fail(archive, "%s does not list exactly the payload" % mf)
        for p, h in entries.items():
            if hashlib.new(alg, payload[p]).hexdigest() != h:
                return fail(archive, "%s: %s mismatch" % (mf, p))
    # 2.2.1 tag manifest
    tms = [p for p in files if re.match(r"^tagmanifest-\w+\.txt$", p)]
    if not tms:
        return fail(archive, "no tag manifest")
    for tm in tms:
        alg = tm[len("tagmanifest-"):-len(".txt")]
        for p, h in parse_manifest(files[tm].decode("utf-8")).items():
            if p.startswith("data/") or p not in files:
                return fail(archive, "%s lists %s" % (tm, p))
            if hashlib.new(alg, files[p]).hexdigest() != h:
                return fail(archive, "%s: %s mismatch" % (tm, p))
    # 2.2.2 bag-info.txt: label ":" value, Payload-Oxum octets.streamcount
    info = {}
    for line in files.get("bag-info.txt", b"").decode("utf-8").splitlines():
        k, _, v = line.partition(":")
        info.setdefault(k.strip(), v.strip())
    oxum = "%d.%d" % (sum(len(d) for d in payload.values()), len(payload))
    if info.get("Payload-Oxum") != oxum:
        return fail(archive, "Payload-Oxum %s, payload is %s" %
                    (info.get("Payload-Oxum"), oxum))
    for label in ("Bagging-Date", "Previous-Bag-Tagmanifest-SHA256"):
        if label not in info:
            return fail(archive, "bag-info.txt lacks %s" % label)
    return 0


def main():
    bad = 0
    for a in sys.argv[1:]:
        try:
            bad += check(a)
        except Exception as e:  # any failure to read is a failure
            bad += fail(a, "unreadable: %s" % e)
    print("bagit_check: %d archive(s), %d bad" % (len(sys.argv) - 1, bad))
    return 1 if bad or len(sys.argv) < 2 else 0


if __name__ == "__main__":
    sys.exit(main())
