#!/bin/sh
# Checks that the Debian packages the build needs are installed.  Run as
# root with apt-get available, it installs what is missing; otherwise it
# stops with the exact command to run.
#   deps.sh build   - packages needed to compile and link
#   deps.sh test    - plus the test frameworks and the reference tools
#   deps.sh fuzz    - plus clang and its libFuzzer runtime
set -eu

build_pkgs="g++ make libboost-program-options-dev libboost-iostreams-dev libexpat1-dev zlib1g-dev libbz2-dev"
test_pkgs="libgtest-dev libgmock-dev thin-provisioning-tools groff-base initramfs-tools cpio bzip2 libssl-dev"
fuzz_pkgs="clang libclang-rt-14-dev"

case "${1:-build}" in
build) want="$build_pkgs" ;;
test) want="$build_pkgs $test_pkgs" ;;
fuzz) want="$build_pkgs $fuzz_pkgs" ;;
*) echo "usage: $0 build|test|fuzz" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "installing missing packages:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || true
	# shellcheck disable=SC2086
	apt-get install -y -qq $missing >&2
	exit 0
fi

echo "missing build dependencies; install them with:" >&2
echo "  sudo apt-get install -y$missing" >&2
exit 1
