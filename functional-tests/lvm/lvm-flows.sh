# lvm-flows: more of what LVM does with the tools, guest side (busybox sh,
# run as /run/scenario.sh in the kernel lab's LVM VM by build-aux/lvm-test.sh;
# the lab's own steps are ../shared/kernel-lab/lvm/guest/lvm-suite.sh, whose
# record formats this keeps).  Disks: "pv" (blank), "tools" (a tar: real/,
# the tools under test; bin/, the lab's logging wrappers LVM's lvm.conf
# names; damage/pdata_tools, our damage generator, used whatever the tools
# under test are).  Results in /out: summary.txt (one line per step: STEP
# PASS|FAIL|INFO SECONDS TITLE | notes, then the tool calls LVM made),
# tool-calls.log, tool-io/, log.txt, manifest.txt, lvm-debug.log.
. /bin/lib.sh
set +e
export LVM_SUPPRESS_FD_WARNINGS=1
S=/out/summary.txt
TL=/out/tool-calls.log
: > $S; : > $TL
now() { cut -d' ' -f1 /proc/uptime; }
rec "scenario lvm-flows"
rec "kernel $(uname -r)"
rec "lvm $(cat /etc/lvm/version)"
mkdir -p /tools /run/lock/lvm /run/lvm/backup /run/lvm/archive /out/tool-io /etc/lvm/profile
tar -xf /dev/disk/tools -C /tools || echo "!! cannot unpack the tools disk"
PVDEV=$(readlink -f /dev/disk/pv)
sed -i "s|@PVDEV@|$PVDEV|" /etc/lvm/lvm.conf
cp /etc/lvm/lvm.conf /out/lvm.conf
cat /tools/info.txt 2>/dev/null
DAMAGE="env LD_LIBRARY_PATH=/tools/lib /tools/damage/pdata_tools thin_generate_damage"

# ---- helpers: run and record, judge a step, hash LVs
run_rc() { # CMD...: run it, record the rc; returns the rc
	echo "+ $*    [t=$(now)]"
	echo "cmd $*" >> $M
	"$@" 2>&1
	local rc=$?
	echo "rc $rc" >> $M
	echo "  -> rc=$rc"
	return $rc
}
fail() { OK=0; NOTES="$NOTES; FAIL: $*"; echo "  !! $*"; }
note() { NOTES="$NOTES; $*"; echo "  ok: $*"; }
must() { run_rc "$@" || fail "rc=$? from: $*"; }
step() { # ID TITLE
	ID=$1; TITLE=$2; OK=1; NOTES=""; T0=$(now); MARK=$(wc -l < $TL)
	echo; echo "===== step $ID: $TITLE [t=$T0]"; echo "step $ID $TITLE" >> $M
}
calls() { tail -n +$((MARK + 1)) $TL; }
ok_calls() { calls | grep -c "^ret [0-9]* $1 rc=0 "; }
bad_calls() { calls | grep "^ret [0-9]* $1 rc=" | grep -vc " rc=0 "; }
done_step() { # [INFO]
	local verdict=PASS
	[ $OK = 1 ] || verdict=FAIL
	[ -n "$1" ] && verdict=$1
	local secs; secs=$(awk -v a=$T0 -v b=$(now) 'BEGIN { printf "%.1f", b - a }')
	echo "$ID $verdict ${secs}s $TITLE |${NOTES#;}" >> $S
	calls | awk '/^call /{ id = $2; a = $0; sub(/^.* argv: /, "", a); arg[id] = a
	                       b = $0; sub(/^.* by=\[/, "", b); sub(/\] argv: .*$/, "", b); by[id] = b }
	             /^ret /{ print "    " arg[$2] "  -> " $4 "    (by: " by[$2] ")" }' >> $S
	echo "===== step $ID: $verdict (${secs}s)$NOTES"
}
sha() { dmh sha "$1" 2>/dev/null | cut -d' ' -f1; }
remember() { # LV: hash /dev/mapper/vg-LV as H_LV
	local h; h=$(sha /dev/mapper/vg-$1); eval "H_$1=$h"
	echo "sha256 $1 $h" >> $M
}
same() { # LV...: each still holds what remember() saw
	local lv h want
	for lv in "$@"; do
		h=$(sha /dev/mapper/vg-$lv); eval "want=\$H_$lv"
		if [ -n "$h" ] && [ "$h" = "$want" ]; then note "$lv unchanged"; else fail "$lv ${h:-unreadable}, was $want"; fi
	done
}
w() { must dmh write /dev/mapper/vg-$1 $2 $3 $4 ${5:+$5} ${6:+$6}; }
check_ran() { # TOOL: called at least once since the step began, never failing
	[ "$(ok_calls $1)" -ge 1 ] && note "$1 ran $(ok_calls $1)x with rc 0" || fail "no successful $1 call"
	[ "$(bad_calls $1)" = 0 ] || fail "$1 failed $(bad_calls $1)x"
}
activate_thins() { for lv in "$@"; do [ -b /dev/mapper/vg-$lv ] || run_rc lvchange -ay -K vg/$lv; done; }
# rw_meta POOL: a writable dm device "flows-meta" over POOL's metadata LV
# (component activation shows its table; it is read-only itself)
rw_meta() {
	run_rc lvchange -ay -y vg/${1}_tmeta
	local table; table=$(dmsetup table vg-${1}_tmeta 2>/dev/null)
	run_rc lvchange -an vg/${1}_tmeta
	rec "tmeta_table $table"
	must dmsetup create flows-meta --table "$table"
}
# block_hashes LV FILE: the sha256 of each 64 KiB block of the LV
block_hashes() {
	local size b=0; size=$(dmh size /dev/mapper/vg-$1)
	: > $2
	while [ $((b * 65536)) -lt $size ]; do
		dmh sha /dev/mapper/vg-$1 $((b * 65536)) 65536 | cut -d' ' -f1 >> $2
		b=$((b + 1))
	done
}
ZERO64K=$(dd if=/dev/zero bs=65536 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)

# (8 MiB of LVM metadata: step m's 300 snapshots outgrow the default's 1 MiB)
must pvcreate -y --metadatasize 8m $PVDEV
must vgcreate vg $PVDEV

# ---------------------------------------------------------------- g
step g "pool metadata resize: lvextend --poolmetadatasize while active, then deactivate and activate (thin_check on the grown metadata)"
must lvcreate -y --type thin-pool -L 192M --poolmetadatasize 4M -n pool vg
must lvcreate -y -V 64M --thinpool vg/pool -n thin1
w thin1 g1 0 8m
w thin1 g2 20m 64k 1m 16
must lvcreate -y -s -kn -n snap1 vg/thin1
activate_thins snap1
w snap1 g3 0 1m
before=$(lvs --noheadings --units k --nosuffix -o lv_metadata_size vg/pool | tr -d ' ')
must lvextend -y --poolmetadatasize +12M vg/pool
after=$(lvs --noheadings --units k --nosuffix -o lv_metadata_size vg/pool | tr -d ' ')
[ "${after%.*}" -gt "${before%.*}" ] && note "metadata ${before}k -> ${after}k" || fail "metadata size ${before}k -> ${after}k"
run_rc dmsetup status vg-pool-tpool
w thin1 g4 40m 4m
remember thin1; remember snap1
must vgchange -an vg
must vgchange -ay vg
activate_thins snap1
check_ran thin_check
same thin1 snap1
done_step

# ---------------------------------------------------------------- h1
# A damaged leaf loses its mappings: every block of the device is either
# what it was or zeroes, and some are zeroes.  The device the damage does
# not touch keeps everything.
step h1 "a real damaged mapping leaf (bad checksum): activation refused, lvconvert --repair, contents compared block by block"
must lvcreate -y -V 64M --thinpool vg/pool -n thin2
w thin2 h1 0 64m
block_hashes thin2 /tmp/thin2.before
must vgchange -an vg
rw_meta pool
DEV2=$(lvs --noheadings -o thin_id vg/thin2 | tr -d ' ')
must $DAMAGE /dev/mapper/flows-meta --kind bad-checksum --target mapping-leaf --dev $DEV2 --seed 7
must dmsetup remove flows-meta
run_rc vgchange -ay vg && fail "vgchange -ay succeeded on damaged metadata" || note "activation refused"
[ "$(bad_calls thin_check)" -ge 1 ] && note "thin_check found the damage" || fail "no failing thin_check"
run_rc vgchange -an vg
must lvconvert -y --repair vg/pool
[ "$(ok_calls thin_repair)" -ge 1 ] && note "thin_repair rc 0" || fail "no successful thin_repair"
must vgchange -ay vg
activate_thins snap1 thin2
same thin1 snap1
if [ -b /dev/mapper/vg-thin2 ]; then
	block_hashes thin2 /tmp/thin2.after
	kept=0 zeroed=0 other=0 n=0
	while read -r was && read -r is <&3; do
		if [ "$was" = "$is" ]; then kept=$((kept + 1))
		elif [ "$is" = "$ZERO64K" ]; then zeroed=$((zeroed + 1))
		else other=$((other + 1)); fi
	done < /tmp/thin2.before 3< /tmp/thin2.after
	NOTES="$NOTES; thin2: $kept blocks kept, $zeroed lost (read zeroes)"
	[ $other = 0 ] || fail "thin2: $other blocks changed to something else"
	[ $zeroed -ge 1 ] && [ $zeroed -le 256 ] || fail "thin2: $zeroed blocks lost, one leaf's worth expected"
else
	fail "thin2 not active after repair"
fi
run_rc lvs -a vg
for m in $(lvs -a --noheadings -o lv_name vg | grep -o 'pool_meta[0-9]*'); do run_rc lvremove -y vg/$m; done
done_step

# ---------------------------------------------------------------- h2
# A damaged internal node: its leaves are intact, orphaned; a repair that
# finds them loses nothing.  (INFO: the reference's repair does not look.)
step h2 "INFO: a damaged internal mapping node: lvconvert --repair, contents compared"
remember thin2
must vgchange -an vg
rw_meta pool
must $DAMAGE /dev/mapper/flows-meta --kind bad-checksum --target mapping-internal --dev $DEV2 --seed 3
must dmsetup remove flows-meta
run_rc lvconvert -y --repair vg/pool
run_rc vgchange -ay vg
activate_thins snap1 thin2
for lv in thin1 snap1 thin2; do
	h=$(sha /dev/mapper/vg-$lv); eval "want=\$H_$lv"
	if [ "$h" = "$want" ]; then NOTES="$NOTES; $lv unchanged"; else NOTES="$NOTES; $lv differs"; fi
done
# (Later steps compare with what this repair left: a repair that lost data
# here must not fail them.)
for lv in thin1 snap1 thin2; do remember $lv; done
for m in $(lvs -a --noheadings -o lv_name vg | grep -o 'pool_meta[0-9]*'); do run_rc lvremove -y vg/$m; done
done_step INFO

# ---------------------------------------------------------------- i
step i "lvconvert --thinpool from existing LVs (data and metadata LVs made first), thin LV, writes, deactivate and activate"
must lvcreate -y -L 64M -n pdata vg
must lvcreate -y -L 4M -n pmeta vg
must lvconvert -y --type thin-pool --poolmetadata vg/pmeta vg/pdata
must lvcreate -y -V 32M --thinpool vg/pdata -n thin3
w thin3 i1 0 4m
w thin3 i2 10m 512 64k 30
remember thin3
must vgchange -an vg
must vgchange -ay vg
activate_thins snap1 thin2
check_ran thin_check
same thin3
done_step

# ---------------------------------------------------------------- j
step j "lvchange --metadataprofile on a thin pool (a profile with its own thin settings), deactivate and activate"
cat > /etc/lvm/profile/flows-thin.profile <<EOF
allocation {
	thin_pool_zero = 0
	thin_pool_discards = "nopassdown"
}
activation {
	thin_pool_autoextend_threshold = 90
	thin_pool_autoextend_percent = 10
}
EOF
must lvchange --metadataprofile flows-thin vg/pool
prof=$(lvs --noheadings -o lv_profile vg/pool | tr -d ' ')
[ "$prof" = flows-thin ] && note "pool profile $prof" || fail "pool profile '$prof'"
must vgchange -an vg
must vgchange -ay vg
activate_thins snap1 thin2
run_rc dmsetup table vg-pool-tpool
check_ran thin_check
same thin1 snap1 thin2
done_step

# ---------------------------------------------------------------- k
step k "thin_check_options from the configuration: --skip-mappings, and --clear-needs-check-flag"
must vgchange -an vg
must vgchange -ay --config 'global { thin_check_options = [ "-q", "--skip-mappings" ] }' vg
calls | grep -q "thin_check '-q' '--skip-mappings'" && note "thin_check got --skip-mappings" || fail "thin_check never got --skip-mappings"
must vgchange -an vg
must vgchange -ay --config 'global { thin_check_options = [ "-q", "--clear-needs-check-flag" ] }' vg
calls | grep -q "thin_check '-q' '--clear-needs-check-flag'" && note "thin_check got --clear-needs-check-flag" || fail "thin_check never got --clear-needs-check-flag"
activate_thins snap1 thin2
check_ran thin_check
same thin1 snap1 thin3
done_step

# ---------------------------------------------------------------- l
step l "dm-cache with metadata format 1 and 2: writeback, writes, deactivate and activate (cache_check), --splitcache flushes"
for fmt in 1 2; do
	must lvcreate -y -L 48M -n corig$fmt vg
	w corig$fmt c$fmt 0 48m
	must lvcreate -y --type cache-pool --cachemetadataformat $fmt -L 16M -n cpool$fmt vg
	must lvconvert -y --type cache --cachepool vg/cpool$fmt --cachemode writeback vg/corig$fmt
	dmsetup table vg-corig$fmt | grep -q "metadata2" && got=2 || got=1
	[ $got = $fmt ] && note "corig$fmt: metadata format $got" || fail "corig$fmt: format $got, not $fmt"
	for p in 1 2 3; do run_rc dmh sha /dev/mapper/vg-corig$fmt 0 4m; w corig$fmt d$fmt 8m 2m; done
	remember corig$fmt
	must lvchange -an vg/corig$fmt
	must lvchange -ay vg/corig$fmt
	same corig$fmt
	must lvconvert -y --splitcache vg/corig$fmt
	same corig$fmt
done
check_ran cache_check
done_step

# ---------------------------------------------------------------- m
step m "a pool with 300 thin snapshots: deactivate and activate (time the thin_check LVM runs)"
must lvcreate -y --type thin-pool -L 128M --poolmetadatasize 16M -n manypool vg
must lvcreate -y -V 16M --thinpool vg/manypool -n base
w base m0 0 512 64k 200
# (LVM keeps a copy of the VG metadata for every command in /run/lvm/archive
# and /run/lvm/backup, which are RAM here, and logs each command at level 7
# to /out: 300 commands on a growing VG would fill both.)
rm -f /run/lvm/archive/* /run/lvm/backup/*
NOARCHIVE='backup { archive = 0 backup = 0 } log { level = 0 }'
i=1
while [ $i -le 300 ]; do
	lvcreate -y --config "$NOARCHIVE" -s -kn -n ms$i vg/base > /tmp/snap.out 2>&1 || { fail "snapshot $i"; cat /tmp/snap.out; }
	[ $((i % 50)) = 0 ] && echo "  $i snapshots [t=$(now)]"
	i=$((i + 1))
done
note "$(lvs --noheadings -o lv_name vg | grep -c ' ms') snapshots"
must vgchange -an --config "$NOARCHIVE" vg
MARK=$(wc -l < $TL)
t=$(now)
must vgchange -ay --config "$NOARCHIVE" vg
note "vgchange -ay $(awk -v a=$t -v b=$(now) 'BEGIN { printf "%.1f", b - a }') s"
calls | awk '/^call /{ split($3, a, "="); t[$2] = a[2]; arg[$2] = $0 }
             /^ret / && $3 == "thin_check" { split($5, b, "="); printf "thin_check %.2f s (%s)\n", b[2] - t[$2], $4 }' > /tmp/tc-times
cat /tmp/tc-times
[ -s /tmp/tc-times ] || fail "no thin_check timings (a full /tmp or /out?)"
NOTES="$NOTES; $(tr '\n' ';' < /tmp/tc-times)"
check_ran thin_check
done_step

echo; echo "===== tool calls per tool (whole run)"
for t in thin_check thin_dump thin_repair thin_restore cache_check cache_dump cache_repair cache_restore; do
	echo "$t: $(grep -c "^ret [0-9]* $t rc=0 " $TL) ok, $(grep "^ret [0-9]* $t rc=" $TL | grep -vc " rc=0 ") failed"
done | tee /out/tool-totals.txt
run_rc vgchange -an vg
