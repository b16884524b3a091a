#!/bin/bash
# deb-test.sh BINDIR: our .deb installed in a Debian 12 chroot beside lvm2.
#
#   - dpkg installs dmpd (it provides, conflicts with and replaces
#     thin-provisioning-tools);
#   - apt installs lvm2, whose Recommends: thin-provisioning-tools dmpd
#     meets, without pulling the reference in;
#   - a package that depends on thin-provisioning-tools (>= 0.9.0) installs
#     (the Provides carries our version);
#   - every *_executable LVM's configuration names (lvmconfig's defaults) is
#     our binary and answers -V, and the checker passes a kernel fixture.
# The minbase chroot is made once with debootstrap and kept in
# $DMPD_CHROOT_CACHE (default /var/cache/dmpd/bookworm); each run works on a
# copy.  Needs root and the Debian mirror.
set -euo pipefail
BIN=$(cd "${1:?usage: deb-test.sh BINDIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${DMPD_CHROOT_CACHE:-/var/cache/dmpd/bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" = 0 ] || { echo "deb-test: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap > /dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap > /dev/null

if [ ! -x "$CACHE/usr/bin/apt-get" ]; then
	echo "deb-test: debootstrap bookworm (minbase) into $CACHE"
	rm -rf "$CACHE.new"
	mkdir -p "$(dirname "$CACHE")"
	debootstrap --variant=minbase bookworm "$CACHE.new" "$MIRROR" > /tmp/dmpd-debootstrap.log 2>&1 ||
		{ tail -20 /tmp/dmpd-debootstrap.log >&2; exit 1; }
	rm -rf "$CACHE"
	mv "$CACHE.new" "$CACHE"
fi

T=$(mktemp -d /tmp/dmpd-deb-test.XXXXXX)
root=$T/root
cleanup() {
	umount "$root/proc" 2> /dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
cp -a "$CACHE" "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2> /dev/null || true
mount -t proc proc "$root/proc"

deb=$("$ROOT/build-aux/make-deb.sh" "$BIN" "$T/out" | head -1)
cp "$deb" "$root/tmp/dmpd.deb"
# A package that needs a minimum version of the reference.
mkdir -p "$T/needs/DEBIAN"
cat > "$T/needs/DEBIAN/control" << EOF
Package: needs-thin-tools
Version: 1
Architecture: all
Maintainer: dmpd tests <dmpd@localhost>
Depends: thin-provisioning-tools (>= 0.9.0)
Description: depends on a minimum version of thin-provisioning-tools
 (deb-test.sh)
EOF
dpkg-deb --build --root-owner-group "$T/needs" "$root/tmp/needs.deb" > /dev/null
gzip -dc "$ROOT/functional-tests/fixtures/kernel/thin-basic/meta.img.gz" > "$root/tmp/meta.img"

in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
fail=0
check() { # WHAT CMD...
	local what=$1; shift
	if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}
check "dpkg -i dmpd" in_root dpkg -i /tmp/dmpd.deb
in_root apt-get update -qq > /dev/null 2>&1 || true
install_lvm2() { in_root apt-get install -y -qq lvm2 > "$T/apt.log" 2>&1 || { tail -20 "$T/apt.log"; return 1; }; }
check "apt-get install lvm2" install_lvm2
check "the reference was not pulled in" bash -c "! chroot '$root' dpkg -s thin-provisioning-tools 2>/dev/null | grep -q '^Status: install ok'"
check "dmpd still installed" bash -c "chroot '$root' dpkg -s dmpd | grep -q '^Status: install ok installed'"
check "a package needing thin-provisioning-tools (>= 0.9.0) installs" in_root dpkg -i /tmp/needs.deb
for t in thin_check thin_repair thin_dump thin_restore cache_check cache_repair cache_dump cache_restore; do
	path=$(in_root lvmconfig --type default "global/${t}_executable" 2> /dev/null | sed -n 's/.*="\(.*\)"/\1/p' || true)
	[ -n "$path" ] || { echo "info $t: this lvm2 has no ${t}_executable setting"; continue; }
	check "$t: lvm.conf's $path is ours" bash -c "[ \"\$(readlink -f '$root$path')\" = '$root/usr/sbin/pdata_tools' ]"
	check "$t: $path -V" bash -c "[ \"\$(chroot '$root' '$path' -V)\" = \"\$('$BIN/pdata_tools' thin_check -V)\" ]"
done
check "thin_check -q --clear-needs-check-flag on a kernel pool" in_root /usr/sbin/thin_check -q --clear-needs-check-flag /tmp/meta.img
[ $fail = 0 ] && echo "deb-test: PASS" || echo "deb-test: FAIL"
exit $fail
