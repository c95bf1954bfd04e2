#!/usr/bin/env python3
"""hostile_bag.py — craft a tar.zst bag from an unpacked one (issue 22).

usage: hostile_bag.py ROOTDIR OUT.tar.zst [--zeros REL:BYTES]...
           [--special REL:symlink|hardlink|fifo|chardev]...
           [--long-manifest-line BYTES] [--long-window]

ROOTDIR is the bag's top directory (bagit.txt, bag-info.txt, data/...).
The manifests, Payload-Oxum and the tag manifest are made to match, so
only the hostile part is wrong; --zeros adds a file of zero bytes streamed
into the tar (never on disk; under data/ it is listed in the manifests);
--special adds a link, FIFO or device node; --long-manifest-line appends
a manifest line of that length; --long-window compresses with a 128 MiB
zstd window. OUT.sha256 is written beside OUT.
"""
import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile

CHUNK = 1 << 20


class Zeros(io.RawIOBase):
    def __init__(self, n):
        self.left = n

    def readable(self):
        return True

    def readinto(self, b):
        k = min(len(b), self.left)
        b[:k] = bytes(k)
        self.left -= k
        return k


def zero_hashes(n):
    h2, h5 = hashlib.sha256(), hashlib.sha512()
    z = bytes(CHUNK)
    while n > 0:
        k = min(n, CHUNK)
        h2.update(z[:k])
        h5.update(z[:k])
        n -= k
    return h2.hexdigest(), h5.hexdigest()


def main(argv):
    root, out = argv[0], argv[1]
    zeros, special, long_line, long_window = [], [], 0, False
    i = 2
    while i < len(argv):
        a = argv[i]
        if a == "--zeros":
            rel, size = argv[i + 1].rsplit(":", 1)
            zeros.append((rel, int(size)))
            i += 2
        elif a == "--special":
            special.append(tuple(argv[i + 1].rsplit(":", 1)))
            i += 2
        elif a == "--long-manifest-line":
            long_line = int(argv[i + 1])
            i += 2
        elif a == "--long-window":
            long_window = True
            i += 1
        else:
            sys.exit("unknown option " + a)
    top = os.path.basename(os.path.normpath(root))
    data = []
    for d, _, files in os.walk(os.path.join(root, "data")):
        for f in files:
            p = os.path.join(d, f)
            data.append(os.path.relpath(p, root))
    m256, m512, size = [], [], 0
    for rel in sorted(data):
        b = open(os.path.join(root, rel), "rb").read()
        m256.append("%s  %s\n" % (hashlib.sha256(b).hexdigest(), rel))
        m512.append("%s  %s\n" % (hashlib.sha512(b).hexdigest(), rel))
        size += len(b)
    nfiles = len(data)
    for rel, n in zeros:
        if rel.startswith("data/"):
            h2, h5 = zero_hashes(n)
            m256.append("%s  %s\n" % (h2, rel))
            m512.append("%s  %s\n" % (h5, rel))
            size += n
            nfiles += 1
    m256 = "".join(m256)
    if long_line:
        m256 += "a" * long_line + "\n"
    files = {"manifest-sha256.txt": m256.encode(),
             "manifest-sha512.txt": "".join(m512).encode()}
    info = open(os.path.join(root, "bag-info.txt")).read()
    info = re.sub(r"Payload-Oxum: .*", "Payload-Oxum: %d.%d" % (size, nfiles),
                  info)
    files["bag-info.txt"] = info.encode()
    files["bagit.txt"] = open(os.path.join(root, "bagit.txt"), "rb").read()
    tm = "".join("%s  %s\n" % (hashlib.sha256(files[n]).hexdigest(), n)
                 for n in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt",
                           "manifest-sha512.txt"))
    files["tagmanifest-sha256.txt"] = tm.encode()
    zcmd = ["zstd", "-q", "-3", "-c"]
    if long_window:
        zcmd = ["zstd", "-q", "-3", "--long=27", "-c"]
    with open(out, "wb") as fo:
        z = subprocess.Popen(zcmd, stdin=subprocess.PIPE, stdout=fo)
        with tarfile.open(fileobj=z.stdin, mode="w|",
                          format=tarfile.PAX_FORMAT) as t:
            def add(rel, fileobj, n):
                ti = tarfile.TarInfo(top + "/" + rel)
                ti.size = n
                ti.mode = 0o644
                t.addfile(ti, fileobj)
            for d in (top, top + "/data", top + "/data/transcripts"):
                ti = tarfile.TarInfo(d)
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            for rel in sorted(data):
                b = open(os.path.join(root, rel), "rb").read()
                add(rel, io.BytesIO(b), len(b))
            for rel, n in zeros:
                add(rel, io.BufferedReader(Zeros(n), CHUNK), n)
            for rel, kind in special:
                ti = tarfile.TarInfo(top + "/" + rel)
                ti.type = {"symlink": tarfile.SYMTYPE,
                           "hardlink": tarfile.LNKTYPE,
                           "fifo": tarfile.FIFOTYPE,
                           "chardev": tarfile.CHRTYPE}[kind]
                if kind in ("symlink", "hardlink"):
                    ti.linkname = (top + "/bagit.txt" if kind == "hardlink"
                                   else "/etc/passwd")
                if kind == "chardev":
                    ti.devmajor, ti.devminor = 1, 3
                t.addfile(ti)
            for n in ("manifest-sha256.txt", "manifest-sha512.txt",
                      "bagit.txt", "bag-info.txt", "tagmanifest-sha256.txt"):
                add(n, io.BytesIO(files[n]), len(files[n]))
        z.stdin.close()
        if z.wait() != 0:
            sys.exit("zstd failed")
    h = hashlib.sha256()
    with open(out, "rb") as f:
        for b in iter(lambda: f.read(CHUNK), b""):
            h.update(b)
    with open(out + ".sha256", "w") as f:
        f.write("%s  %s\n" % (h.hexdigest(), os.path.basename(out)))


if __name__ == "__main__":
    main(sys.argv[1:])
