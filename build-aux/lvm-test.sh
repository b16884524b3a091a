#!/bin/bash
# lvm-test.sh BINDIR: LVM2 (Debian 12's 2.03.16, in the kernel lab's VM with
# the 6.1 kernel) drives our tools.
#
# Two VM runs:
#   1. the lab's own suite (../shared/kernel-lab/lvm/lvm-suite.sh): pool
#      creation, activation, lvconvert --repair of a thin pool, cache
#      activation, split and uncache, damaged superblocks.  Every PASS/FAIL
#      step must pass, and so must its step e2 (lvconvert --repair of a split
#      cache pool, cache_repair), which the lab only reports;
#   2. our flows (functional-tests/lvm/lvm-flows.sh): metadata resize, a real
#      damaged mapping leaf repaired and the contents compared, lvconvert
#      --thinpool from existing LVs, --metadataprofile, thin_check_options
#      with --skip-mappings, cache metadata formats 1 and 2, a pool of 300
#      snapshots activated.
# With LVM_WITH_REFERENCE=1 both runs are made with the reference tools
# (/usr/sbin, thin-provisioning-tools 0.9.0) too, and printed beside ours;
# only ours decide the exit status.  About 15 minutes a side.  LVM_PARTS
# (default "lab flows") runs one of the two only.
set -euo pipefail
BIN=$(cd "${1:?usage: lvm-test.sh BINDIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB=${KERNEL_LAB:-$ROOT/../shared/kernel-lab}
export WORK=${WORK:-${TMPDIR:-/tmp}/dmpd-kernel-lab}
L=$WORK/lvm
NAMES="thin_check thin_dump thin_repair thin_restore cache_check cache_dump cache_repair cache_restore"
[ -x "$LAB/lvm/lvm-suite.sh" ] || { echo "lvm-test: no kernel lab at $LAB" >&2; exit 1; }
[ -e "$L/vm/initrd-base.cpio.gz" ] || "$LAB/lvm/setup-lvm.sh"

wait_for_idle_vm() {
	local i
	for i in $(seq 1 90); do
		[ "$(pgrep -c qemu-system || true)" = 0 ] && return 0
		sleep 10
	done
	echo "lvm-test: another qemu still runs after 15 minutes" >&2
	exit 3
}

# flows TOOLS_DIR LABEL: our steps in the lab's LVM VM.  The tools are staged
# as the lab stages them (each under its name, wrapped by the lab's logging
# wrapper), with our damage generator beside them.
# (Each copy is stripped: the guest unpacks them into its RAM-backed root,
# which /run shares, and nine copies of a 50 MB binary with debug info
# filled it - LVM then failed to write its metadata archives.)
stage_copy() { strip -o "$2" "$1" 2> /dev/null || cp -L "$1" "$2"; }
flows() {
	local tools=$1 label=$2 out=$L/runs/$2-flows st
	st=$(mktemp -d /tmp/lvm-flows.XXXXXX)
	mkdir -p "$st/stage/bin" "$st/stage/real" "$st/stage/lib" "$st/stage/damage"
	for n in $NAMES; do
		[ -e "$tools/$n" ] && stage_copy "$tools/$n" "$st/stage/real/$n"
		sed "s/@NAME@/$n/g" "$LAB/lvm/guest/tool-wrapper.sh" > "$st/stage/bin/$n"
		chmod +x "$st/stage/bin/$n"
	done
	stage_copy "$BIN/pdata_tools" "$st/stage/damage/pdata_tools"
	for f in "$st"/stage/real/* "$st/stage/damage/pdata_tools"; do
		ldd "$f" 2> /dev/null | awk '/=>/ && $3 ~ /^\// { print $3 }' | while read -r lib; do
			cp -Ln "$lib" "$st/stage/lib/" 2> /dev/null || true
		done
	done
	for n in $NAMES; do echo "$n: $("$tools/$n" -V 2>&1 | head -1) ($(readlink -f "$tools/$n"))"; done > "$st/stage/info.txt"
	(cd "$st/stage" && tar -cf "$st/tools.img" .)
	local size; size=$(stat -c %s "$st/tools.img")
	truncate -s $(((size / 1048576 + 1) * 1048576)) "$st/tools.img"
	truncate -s 2G "$st/pv.img"
	wait_for_idle_vm
	rm -rf "$out"
	mkdir -p "$out"
	local t0=$SECONDS rc=0
	VM_TIMEOUT=${VM_TIMEOUT:-3600} WORK=$L/vm "$LAB/run-vm.sh" "$ROOT/functional-tests/lvm/lvm-flows.sh" "$out" \
		pv="$st/pv.img" tools="$st/tools.img" > "$out/host.txt" 2>&1 || rc=$?
	echo "host wall $((SECONDS - t0)) s, vm rc=$rc" >> "$out/host.txt"
	rm -rf "$st"
	echo "=== our LVM flows ($label): $out/summary.txt, $((SECONDS - t0)) s"
	[ -s "$out/summary.txt" ] || { echo "no summary: the VM did not finish (see $out/console.txt)"; return 1; }
	cat "$out/summary.txt"
	local fails steps
	fails=$(awk '$2 == "FAIL"' "$out/summary.txt" | wc -l)
	steps=$(awk '$2 == "PASS" || $2 == "FAIL"' "$out/summary.txt" | wc -l)
	echo "RESULT: $((steps - fails))/$steps PASS/FAIL steps passed"
	[ "$fails" = 0 ] && [ "$steps" -ge 6 ] && [ "$rc" = 0 ]
}

# lab TOOLS_DIR LABEL: the lab's suite, with its step e2 (cache_repair) judged.
lab() {
	local tools=$1 label=$2 rc=0 t0=$SECONDS
	OUT=$L/runs/$label "$LAB/lvm/lvm-suite.sh" "$tools" "$label" || rc=$?
	echo "lab suite ($label): $((SECONDS - t0)) s"
	local e2; e2=$(awk '$1 == "e2" { p = 1; print; next } p && /^    / { print; next } { p = 0 }' "$L/runs/$label/summary.txt")
	if echo "$e2" | grep -q "lvconvert --repair vg/cpool2 rc=0" && echo "$e2" | grep -q "cache_repair .* -> rc=0"; then
		echo "e2 (cache_repair from lvconvert --repair): PASS"
	else
		echo "e2 (cache_repair from lvconvert --repair): FAIL"
		rc=1
	fi
	return $rc
}

parts=${LVM_PARTS:-lab flows}
part() { case " $parts " in *" $1 "*) return 0 ;; esac; return 1; }
status=0
part lab && { lab "$BIN" dmpd || status=1; }
part flows && { flows "$BIN" dmpd || status=1; }
if [ "${LVM_WITH_REFERENCE:-0}" = 1 ]; then
	ref=$L/debian-tools
	[ -e "$ref/thin_check" ] || "$LAB/lvm/make-debian-tools.sh"
	part lab && { lab "$ref" debian-0.9.0 || true; }
	part flows && { flows "$ref" debian-0.9.0 || true; }
	echo
	echo "=== side by side: step, ours, the reference's"
	for s in "" -flows; do
		join -a1 -a2 -e - -o 0,1.2,1.3,2.2,2.3 \
			<(awk '/^[a-z][a-z0-9]* (PASS|FAIL|INFO) / { print $1, $2, $3 }' "$L/runs/dmpd$s/summary.txt" | sort) \
			<(awk '/^[a-z][a-z0-9]* (PASS|FAIL|INFO) / { print $1, $2, $3 }' "$L/runs/debian-0.9.0$s/summary.txt" | sort) |
			column -t
	done
fi
[ $status = 0 ] && echo "lvm-test: PASS" || echo "lvm-test: FAIL"
exit $status
