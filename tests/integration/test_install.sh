#!/usr/bin/env bash
# tools/install into a throwaway DESTDIR: the files land where the units
# say, the units are hardened, absolute and pass `systemd-analyze verify`,
# the sysusers.d/tmpfiles.d entries make the callvault user and its
# private directories, the man pages render, and the monthly script goes
# on past a location that fails.
. "$(dirname "$0")/../lib.sh"
SRC=$(cd "$TESTS_DIR/.." && pwd)
BUILD=$(cd "$(dirname "$CALLVAULT")" && pwd)
P=$(meson introspect "$BUILD" --buildoptions | python3 -c 'import json, sys
print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
D=$T/root

expect_exit "tools/install --destdir" 0 "$SRC/tools/install" --prefix "$P" \
	--destdir "$D" --builddir "$BUILD" --no-rebuild
expect_exit "install needs an absolute prefix" 2 "$SRC/tools/install" \
	--prefix relative --destdir "$T/x" --builddir "$BUILD" --no-rebuild
expect_exit "--enable is not for a DESTDIR" 2 "$SRC/tools/install" \
	--enable --destdir "$T/x" --builddir "$BUILD" --no-rebuild

U=$D$P/lib/systemd/system
services="serve sync monthly reconcile"
for f in bin/callvault libexec/callvault/callvault-full \
	libexec/callvault/callvault-monthly; do
	expect "$f executable" test -x "$D$P/$f"
done
for s in $services; do expect "callvault-$s.service" test -f "$U/callvault-$s.service"; done
for t in sync monthly reconcile; do expect "callvault-$t.timer" test -f "$U/callvault-$t.timer"; done
for f in lib/sysusers.d/callvault.conf lib/tmpfiles.d/callvault.conf \
	share/callvault/examples/callvault.env share/man/man1/callvault.1 \
	share/man/man1/callvault-export.1 share/man/man1/callvault-serve.1; do
	expect "$f" test -f "$D$P/$f"
done
expect_eq "a man page per command" "$(ls "$D$P/share/man/man1" | wc -l)" \
	"$(($(cv --help | sed -n '/^Commands:/,/^$/p' | grep -c '^  [a-z]') + 1))"
expect_eq "nothing outside the prefix" "$(cd "$D" && find . -type f | grep -v "^.$P/" || true)" ""
expect_eq "no build or DESTDIR path in what was installed" \
	"$(grep -rlF -e "$D" -e "$BUILD" "$D$P/lib" "$D$P/libexec/callvault/callvault-monthly" || true)" ""

# every service: the callvault user, hardening, absolute commands that
# are in the installed tree, the store's directory the only writable one
for s in $services; do
	u=$U/callvault-$s.service
	for line in User=callvault Group=callvault NoNewPrivileges=yes \
		ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
		PrivateDevices=yes ReadWritePaths=/var/lib/callvault \
		CapabilityBoundingSet= UMask=0027 \
		Environment=CALLVAULT_DB=/var/lib/callvault/callvault.db; do
		expect "$s: $line" grep -qx "$line" "$u"
	done
	while read -r cmd; do
		case $cmd in
		/*) expect "$s: $cmd installed" test -x "$D$cmd" ;;
		*) bad "$s: command not absolute: $cmd" ;;
		esac
	done < <(sed -n 's/^Exec[A-Za-z]*=[-@!+]*\([^ ]*\).*/\1/p' "$u")
done
expect "serve runs serve" grep -qx "ExecStart=$P/bin/callvault serve \$CALLVAULT_SERVE_ARGS" "$U/callvault-serve.service"
expect "reconcile runs reconcile over five weeks" grep -qx "ExecStart=$P/bin/callvault reconcile --days 35 --repair" "$U/callvault-reconcile.service"
expect "monthly runs the script" grep -qx "ExecStart=$P/libexec/callvault/callvault-monthly" "$U/callvault-monthly.service"
expect "sync every 5 minutes" grep -qx "OnUnitInactiveSec=5min" "$U/callvault-sync.timer"
expect "monthly on the 2nd" grep -q "^OnCalendar=\*-\*-02 " "$U/callvault-monthly.timer"
expect "reconcile weekly" grep -q "^OnCalendar=Sun " "$U/callvault-reconcile.timer"
expect "monthly script calls the installed binary" grep -q "^CV=\${CALLVAULT_BIN:-$P/bin/callvault}$" "$D$P/libexec/callvault/callvault-monthly"
expect_eq "no @placeholder@ left" "$(grep -l '@[A-Z_]*@' "$U"/callvault-* "$D$P"/lib/*.d/callvault.conf "$D$P/libexec/callvault/callvault-monthly" || true)" ""

# systemd's own checks, in a copy of the tree that also holds the
# system's units (sysinit.target and the rest that ours are ordered by)
if command -v systemd-analyze >/dev/null; then
	V=$T/vroot
	cp -a "$D" "$V"
	mkdir -p "$V/usr/lib/systemd"
	for d in /usr/lib/systemd/system /lib/systemd/system; do
		[ -d "$d/sysinit.target.wants" ] || [ -f "$d/sysinit.target" ] || continue
		cp -a "$d" "$V/usr/lib/systemd/" && break
	done
	(cd "$V" && systemd-analyze verify --man=no --root="$V" \
		."$P"/lib/systemd/system/callvault-*) >"$T/verify" 2>&1
	rc=$?
	expect_eq "systemd-analyze verify: exit" "$rc" "0"
	expect_eq "systemd-analyze verify: no warnings" "$(cat "$T/verify")" ""
	# it does catch a wrong line, so the silence above means something
	echo "ProtectSystm=strict" >>"$V$P/lib/systemd/system/callvault-sync.service"
	(cd "$V" && systemd-analyze verify --man=no --root="$V" \
		."$P"/lib/systemd/system/callvault-sync.service) >"$T/verify" 2>&1
	expect "verify sees a typo" grep -q "Unknown key 'ProtectSystm'" "$T/verify"
else
	echo "SKIP: systemd-analyze is not installed: units not verified" >&2
fi

if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
	mkdir -p "$T/sys/etc"
	systemd-sysusers --root="$T/sys" "$D$P/lib/sysusers.d/callvault.conf" 2>/dev/null
	expect "sysusers: callvault user, no login" \
		grep -q '^callvault:x:[0-9]*:[0-9]*:[^:]*:/var/lib/callvault:/usr/sbin/nologin$' "$T/sys/etc/passwd"
	uid=$(awk -F: '$1 == "callvault" { print $3 }' "$T/sys/etc/passwd")
	systemd-tmpfiles --root="$T/sys" --create "$D$P/lib/tmpfiles.d/callvault.conf"
	expect_eq "tmpfiles: store directory" "$(stat -c '%a %u' "$T/sys/var/lib/callvault")" "750 $uid"
	expect_eq "tmpfiles: archives" "$(stat -c '%a %u' "$T/sys/var/lib/callvault/archives")" "750 $uid"
	expect_eq "tmpfiles: settings" "$(stat -c '%a %U' "$T/sys/etc/callvault")" "750 root"
else
	echo "SKIP: systemd-sysusers/systemd-tmpfiles not installed" >&2
fi

# the man pages render without warnings and say what --help says
for m in "$D$P"/share/man/man1/*.1; do
	if command -v groff >/dev/null; then
		expect_eq "groff: $(basename "$m")" "$(groff -man -ww -z -Tutf8 "$m" 2>&1)" ""
	fi
done
if command -v man >/dev/null; then
	MANWIDTH=100 man -l "$D$P/share/man/man1/callvault-export.1" >"$T/man" 2>"$T/manerr"
	expect "man -l renders export" grep -q "^NAME" "$T/man"
	expect "export page has --reset-cursor" grep -q -- "--reset-cursor NAME" "$T/man"
	expect "export page keeps UTF-8" grep -q "José" "$T/man"
	expect_eq "man -l: no errors" "$(cat "$T/manerr")" ""
	MANWIDTH=100 man -l "$D$P/share/man/man1/callvault.1" >"$T/man" 2>/dev/null
	expect "callvault(1) lists export" grep -q "callvault-export(1)" "$T/man"
else
	echo "SKIP: man is not installed: pages checked with groff only" >&2
fi

# callvault-monthly: one failing location does not stop the others
export CALLVAULT_BIN=$CALLVAULT CALLVAULT_ARCHIVES=$T/arch
cat >"$T/calls.jsonl" <<'EOF'
{"id":"a1","createdAt":"2026-01-05T10:00:00Z","locationId":"LA","summary":"a","transcript":"bot: a"}
{"id":"b1","createdAt":"2026-01-06T10:00:00Z","locationId":"LB","summary":"b","transcript":"bot: b"}
{"id":"c1","createdAt":"2026-01-07T10:00:00Z","locationId":"LC","summary":"c","transcript":"bot: c"}
{"id":"n1","createdAt":"2026-01-08T10:00:00Z","summary":"none","transcript":"bot: n"}
EOF
cv import "$T/calls.jsonl" >/dev/null
mkdir -p "$T/arch" && : >"$T/arch/LB"   # LB's directory cannot be made
monthly=$D$P/libexec/callvault/callvault-monthly
expect_exit "monthly: one location fails" 1 "$monthly" 2026-01
expect "monthly names it" grep -q "failed: archive:LB$" "$T/err"
for l in LA LC _none; do
	expect "monthly archived $l" test -f "$T/arch/$l/2026-01.tar.zst"
	expect "monthly verified $l" grep -q "^$T/arch/$l/2026-01.tar.zst: OK" "$T/out"
done
expect "monthly purged" grep -q "^purged " "$T/out"
rm "$T/arch/LB"
printf 'x' >>"$T/arch/LA/2026-01.tar.zst"       # damage LA's archive
expect_exit "monthly: a damaged archive is an integrity failure" 3 "$monthly" 2026-01
expect "names verify:LA" grep -q "failed: verify:LA$" "$T/err"
expect "LB archived on the next run" grep -q "^$T/arch/LB/2026-01.tar.zst: OK" "$T/out"
expect "LC verified again" grep -q "^$T/arch/LC/2026-01.tar.zst: OK" "$T/out"
expect "purge still ran" grep -q "^purged " "$T/out"
