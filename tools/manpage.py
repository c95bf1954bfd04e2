#!/usr/bin/env python3
"""manpage.py BINARY VERSION OUTDIR COMMAND... — write callvault(1) and
callvault-COMMAND(1) into OUTDIR from the --help texts of BINARY
(callvault-full, which has every command), so the man pages say what
--help says. Fails when the binary lists a command that is not among
COMMAND... (or the other way round): dist/meson.build names the pages
it installs, and that list must follow the command table."""
import os
import re
import subprocess
import sys


def helptext(binary, *args):
    env = {k: v for k, v in os.environ.items() if k != "CALLVAULT_DB"}
    r = subprocess.run([binary, *args, "--help"], capture_output=True,
                       text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"manpage.py: {binary} {' '.join(args)} --help: exit "
                 f"{r.returncode}: {r.stderr.strip()}")
    return r.stdout


def roff(text):
    """Plain text as roff: backslashes, minus signs, leading dots and
    quotes escaped, non-ASCII as \\[uXXXX] so that groff reads it right
    without preconv."""
    out = []
    for line in text.split("\n"):
        line = line.replace("\\", "\\e").replace("-", "\\-")
        line = "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c)
                       for c in line)
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    return "\n".join(out)


def split_usage(text):
    """The usage lines (up to the first blank line) and the rest."""
    lines = text.rstrip("\n").split("\n")
    n = lines.index("") if "" in lines else len(lines)
    usage = [re.sub(r"^usage: ", "", l).strip() for l in lines[:n]]
    return usage, "\n".join(lines[n + 1:])


def page(name, summary, version, usage, body, extra=""):
    head = (f'.TH {name.upper()} 1 "" "callvault {version}" '
            f'"callvault manual"\n'
            f".SH NAME\n{roff(name)} \\- {roff(summary)}\n"
            ".SH SYNOPSIS\n.nf\n" + roff("\n".join(usage)) + "\n.fi\n"
            ".SH DESCRIPTION\n.nf\n" + roff(body.rstrip("\n")) + "\n.fi\n")
    return head + extra


def main():
    if len(sys.argv) < 5:
        sys.exit("usage: manpage.py BINARY VERSION OUTDIR COMMAND...")
    binary, version, outdir = sys.argv[1:4]
    wanted = sys.argv[4:]
    top = helptext(binary)
    m = re.search(r"\nCommands:\n((?:  \S.*\n)+)", top)
    if not m:
        sys.exit("manpage.py: no 'Commands:' list in --help")
    listed = {}
    for line in m.group(1).splitlines():
        cmd, summary = line.strip().split(None, 1)
        listed[cmd] = summary.strip()
    if sorted(listed) != sorted(wanted):
        sys.exit("manpage.py: --help lists %s, dist/meson.build %s: "
                 "update man_commands there" % (sorted(listed),
                                                sorted(wanted)))
    usage, body = split_usage(top)
    tagline = body.split("\n", 1)[0].rstrip(".")
    extra = ".SH COMMANDS\n" + "".join(
        f".TP\n.BR callvault\\-{roff(c)} (1)\n{roff(s)}\n"
        for c, s in listed.items())
    extra += (".SH ENVIRONMENT\n.TP\n.B CALLVAULT_DB\nthe store when "
              "\\-\\-db is not given (else ./callvault.db)\n"
              ".SH EXIT STATUS\n0 success, 1 runtime failure, 2 usage or "
              "bad input, 3 integrity failure.\n"
              ".SH FILES\n.TP\n.I /var/lib/callvault/callvault.db\n"
              "the store of the installed services\n"
              ".TP\n.I /etc/callvault/callvault.env\nsettings read by "
              "the systemd units\n"
              ".SH SEE ALSO\n" + ",\n".join(
                  f".BR callvault\\-{roff(c)} (1)" for c in listed) + "\n")
    tagline = tagline[:1].lower() + tagline[1:]
    pages = {"callvault.1": page("callvault", tagline, version, usage,
                                 body, extra)}
    for c, summary in listed.items():
        u, b = split_usage(helptext(binary, c))
        pages[f"callvault-{c}.1"] = page(
            f"callvault-{c}", summary, version, u, b,
            ".SH SEE ALSO\n.BR callvault (1)\n")
    for name, text in pages.items():
        with open(os.path.join(outdir, name), "w", encoding="ascii") as f:
            f.write(text)


if __name__ == "__main__":
    main()
