#!/usr/bin/env python3
"""flip_bag.py — damage one thing in a tar.zst bag, leaving the rest
as it was (issue 22: verify --deep hashes off its reading thread).

usage: flip_bag.py IN.tar.zst OUT.tar.zst [--byte REL:OFFSET]...
           [--manifest ALG:REL]... [--tags-first]

--byte flips the low bit of the byte at OFFSET (negative: from the end)
of the file REL (relative to the bag's top directory); the manifests
are left alone, so both of its digests no longer match. --manifest
changes the first hex digit of REL's line in manifest-ALG.txt (sha256
or sha512) and makes tagmanifest-sha256.txt match the changed manifest,
so that one digest of one file is all that is wrong. --tags-first puts
the files outside data/ (the manifests) before the payload. Otherwise
the members keep their order; names and modes are kept; OUT.sha256 is
written beside OUT.
"""
import hashlib
import io
import os
import subprocess
import sys
import tarfile


def main(argv):
    src, out = argv[0], argv[1]
    flips, digits, tags_first = {}, [], "--tags-first" in argv
    argv = [a for a in argv if a != "--tags-first"]
    for opt, val in zip(argv[2::2], argv[3::2]):
        if opt == "--byte":
            rel, off = val.rsplit(":", 1)
            flips[rel] = int(off)
        elif opt == "--manifest":
            digits.append(tuple(val.split(":", 1)))
        else:
            sys.exit("unknown option " + opt)
    raw = subprocess.run(["zstd", "-dc", src], check=True,
                         stdout=subprocess.PIPE).stdout
    members = []
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as t:
        for ti in t:
            b = t.extractfile(ti).read() if ti.isfile() else None
            members.append((ti, b))
    if tags_first:
        def tag(ti):
            return ti.isfile() and "/" not in ti.name.split("/", 1)[1]
        members.sort(key=lambda m: not tag(m[0]))  # stable
    content = {}
    for ti, b in members:
        if b is not None:
            content[ti.name.split("/", 1)[1]] = bytearray(b)
    for rel, off in flips.items():
        content[rel][off] ^= 1
    for alg, rel in digits:
        m = "manifest-%s.txt" % alg
        lines = content[m].split(b"\n")
        for i, ln in enumerate(lines):
            if ln.endswith(b" " + rel.encode()):
                c = b"0" if ln[:1] != b"0" else b"1"
                lines[i] = c + ln[1:]
                break
        else:
            sys.exit("%s does not name %s" % (m, rel))
        content[m] = bytearray(b"\n".join(lines))
        tm = content["tagmanifest-sha256.txt"].split(b"\n")
        for i, ln in enumerate(tm):
            if ln.endswith(b" " + m.encode()):
                tm[i] = (hashlib.sha256(content[m]).hexdigest().encode() +
                         b"  " + m.encode())
        content["tagmanifest-sha256.txt"] = bytearray(b"\n".join(tm))
    with open(out, "wb") as fo:
        z = subprocess.Popen(["zstd", "-q", "-3", "-c"],
                             stdin=subprocess.PIPE, stdout=fo)
        with tarfile.open(fileobj=z.stdin, mode="w|",
                          format=tarfile.PAX_FORMAT) as t:
            for ti, b in members:
                if b is None:
                    t.addfile(ti)
                    continue
                b = bytes(content[ti.name.split("/", 1)[1]])
                ti.size = len(b)
                t.addfile(ti, io.BytesIO(b))
        z.stdin.close()
        if z.wait() != 0:
            sys.exit("zstd failed")
    h = hashlib.sha256(open(out, "rb").read()).hexdigest()
    with open(out + ".sha256", "w") as f:
        f.write("%s  %s\n" % (h, os.path.basename(out)))


if __name__ == "__main__":
    main(sys.argv[1:])
