#!/bin/sh
# make deb: a Debian package "dmpd" that provides (with our version, so that
# a dependency on a minimum version of thin-provisioning-tools is met),
# conflicts with and replaces thin-provisioning-tools, installing to the same paths (/usr/sbin),
# built with dpkg-deb alone (no network).  Usage: make-deb.sh BINDIR OUTDIR
set -eu
bin=$1
out=$2
here=$(cd "$(dirname "$0")/.." && pwd)
version=$("$bin/pdata_tools" thin_check -V)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
make -C "$here" --no-print-directory install-files DESTDIR="$stage" PREFIX=/usr BINDIR_IN="$bin" > /dev/null
strip --strip-unneeded "$stage/usr/sbin/pdata_tools"
mkdir -p "$stage/DEBIAN"
size=$(du -sk "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" << CONTROL
Package: dmpd
Version: $version
Architecture: $arch
Maintainer: dmpd developers <dmpd@localhost>
Installed-Size: $size
Depends: libc6, libstdc++6, libgcc-s1
Provides: thin-provisioning-tools (= $version)
Conflicts: thin-provisioning-tools
Replaces: thin-provisioning-tools
Section: admin
Priority: optional
Description: device-mapper persistent-data tools (thin, cache, era, snapshot)
 Checks, dumps, restores and repairs the on-disk metadata of dm-thin pools,
 dm-cache, dm-era and classic dm-snapshot exception stores.  A drop-in for
 thin-provisioning-tools: same tool names, options, exit codes and XML.
CONTROL
mkdir -p "$out"
dpkg-deb --build --root-owner-group "$stage" "$out/dmpd_${version}_$arch.deb" > /dev/null
echo "$out/dmpd_${version}_$arch.deb"
