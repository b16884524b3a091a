#DISK meta 16M meta
#DISK held 16M meta
#DISK deleted 16M meta
#DISK data 256M data
# thin-many: 301 thin devices (an origin and 300 snapshots: 100 of the
# origin, 20 chains of snapshots of snapshots 10 deep), writes after the
# snapshots on both sides, a metadata snapshot reserved and held, then more
# writes and a new device.  So many devices need several leaves in the
# details tree and in the top level of the mapping tree, and after the
# metadata snapshot some of those leaves are shared by the live trees and
# the snapshot's.  Three images of the same pool:
#   held     the metadata snapshot held (transaction 2)
#   deleted  then 40 devices deleted while it is held, and an empty one
#            created (transaction 3)
#   meta     then the metadata snapshot released (transaction 4)
# No data is written after state B (the device created later is empty and
# hashed as part of B), so B's hashes hold for every image's live devices
# and A's for the metadata snapshot's.
. /bin/lib.sh
set -x
rec "scenario thin-many"
rec "kernel $(uname -r)"
rec "meta_dev_sectors $(sectors /dev/disk/meta)"
DS=$(sectors /dev/disk/data)
rec "data_dev_sectors $DS"
rec "data_block_sectors 128"
TS=16384     # 8 MiB thin devices (128 blocks of 64 KiB)
BLK=65536
N=300        # snapshots
pool_up() { run dmsetup create pool --table "0 $DS thin-pool /dev/disk/meta /dev/disk/data 128 16"; }
seq_ids() { i=$1; while [ $i -le $2 ]; do echo $i; i=$((i + 1)); done; }

note "pool and origin: one sector in each of blocks 0..99 (the kernel zeroes the rest)"
pool_up
thin_new pool 0 thin0 $TS
w thin0 o0 0 512 $BLK 100

note "snapshots: 1..100 of the origin, 101..300 twenty chains of ten"
k=1
while [ $k -le $N ]; do
	if [ $k -le 100 ] || [ $(( (k - 101) % 10 )) -eq 0 ]; then o=0; else o=$((k - 1)); fi
	if [ $o -eq 0 ]; then
		run dmsetup suspend thin0
		msg pool 0 "create_snap $k 0"
		run dmsetup resume thin0
	else
		msg pool 0 "create_snap $k $o"
	fi
	rec "thin $k $TS thin$k"
	rec "snapshot $k of $o"
	if [ $((k % 3)) -eq 0 ]; then      # the snapshot's side: CoW, or a new block past the origin's
		run dmsetup create thin$k --table "0 $TS thin /dev/mapper/pool $k"
		w thin$k s$k $(( (k % 128) * BLK + 1024 )) 512
		run dmsetup remove thin$k
	fi
	if [ $((k % 7)) -eq 0 ]; then      # the origin's side: CoW away from every snapshot so far
		w thin0 o$k $(( (k % 100) * BLK + 2048 )) 512
	fi
	k=$((k + 1))
done
msg pool 0 "set_transaction_id 0 1"
run sync

note "state A: what the metadata snapshot holds"
for k in $(seq_ids 1 $N); do run dmsetup create thin$k --table "0 $TS thin /dev/mapper/pool $k"; done
rec_status A
rec_sha_thins A $(seq_ids 0 $N)

note "reserve the metadata snapshot, then writes to devices 0..30 only"
# (So the details leaves and the top-level leaf of the later devices are
# not touched again: the live trees share them with the snapshot's.)
msg pool 0 "reserve_metadata_snap"
for k in $(seq_ids 0 10); do
	d=$((k * 3))
	w thin$d b$d $(( (k * 11 % 128) * BLK + 3072 )) 512
done
w thin0 b0x $((120 * BLK)) 512 $BLK 4
msg pool 0 "set_transaction_id 1 2"
run sync
rec_status B
rec_sha_thins B $(seq_ids 0 $N)

note "teardown; keep the image with the metadata snapshot held"
for k in $(seq_ids 0 $N); do run dmsetup remove thin$k; done
run dmsetup remove pool
run dd if=/dev/disk/meta of=/dev/disk/held bs=1M
rec "image held transaction 2"
rec "image held final_state B"
rec "image held live_thins $(seq_ids 0 $N | tr '\n' ' ')"
rec "image held metadata_snap_state A"
rec "image held metadata_snap_thins $(seq_ids 0 $N | tr '\n' ' ')"

note "delete 40 devices while the metadata snapshot is held, and create an empty one"
# (No data is written: blocks the deleted devices freed are still what the
# metadata snapshot's copies of them map.)
DELETED="$(seq_ids 40 69 | tr '\n' ' ')$(seq_ids 155 160 | tr '\n' ' ')203 207 250 300"
pool_up
for k in $DELETED; do msg pool 0 "delete $k"; rec "deleted $k"; done
thin_new pool 301 thin301 $TS
rec_sha B:thin301 /dev/mapper/thin301
run dmsetup remove thin301
msg pool 0 "set_transaction_id 2 3"
run dmsetup remove pool
run dd if=/dev/disk/meta of=/dev/disk/deleted bs=1M
LIVE=""
for k in $(seq_ids 0 301); do
	case " $DELETED " in *" $k "*) ;; *) LIVE="$LIVE$k " ;; esac
done
rec "image deleted transaction 3"
rec "image deleted final_state B"
rec "image deleted live_thins $LIVE"
rec "image deleted metadata_snap_state A"
rec "image deleted metadata_snap_thins $(seq_ids 0 $N | tr '\n' ' ')"

note "release the metadata snapshot"
pool_up
msg pool 0 "release_metadata_snap"
msg pool 0 "set_transaction_id 3 4"
rec_status released
run dmsetup remove pool
rec "image meta transaction 4"
rec "image meta final_state B"
rec "image meta live_thins $LIVE"
rec "final_state B"
rec "live_thins $LIVE"
echo OK
