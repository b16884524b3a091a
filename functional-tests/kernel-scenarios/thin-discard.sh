#DISK meta 8M meta
#DISK data 256M data
# thin-discard: discards over mapping trees of several levels.  An origin
# with 2000 mapped blocks (a dozen leaves under an internal root), a
# snapshot of it and a snapshot of that, and a device of its own; CoW on
# both sides; then discards that unmap whole leaves and parts of leaves,
# that drop blocks shared with snapshots (kept: others still map them) and
# then the last sharer's (freed, and passed down to the data device), a
# sub-block discard (nothing unmapped), an unaligned one (the whole blocks
# inside it), one over blocks never mapped and one to the device's end.
# State A; then a metadata snapshot is held and the origin discards more,
# so the snapshot keeps leaves the live tree no longer has (state B).
# Device 3's discards after the snapshot are passed down to the data device:
# the snapshot's mappings of those blocks then read zeroes.
. /bin/lib.sh
set -x
rec "scenario thin-discard"
rec "kernel $(uname -r)"
rec "meta_dev_sectors $(sectors /dev/disk/meta)"
DS=$(sectors /dev/disk/data)
rec "data_dev_sectors $DS"
rec "data_block_sectors 128"
TS=262144    # 128 MiB thin devices (2048 blocks of 64 KiB)
BLK=65536
disc() { run blkdiscard -o "$2" -l "$3" /dev/mapper/$1; }

note "pool, origin with 2000 blocks (one sector written in each), snapshot 1 of 0, 2 of 1"
run dmsetup create pool --table "0 $DS thin-pool /dev/disk/meta /dev/disk/data 128 16"
thin_new pool 0 thin0 $TS
w thin0 o0 0 512 $BLK 2000
thin_snap pool thin0 0 1 thin1 $TS
thin_snap pool thin1 1 2 thin2 $TS
thin_new pool 3 thin3 $TS
w thin3 t3 0 512 $BLK 600

note "CoW on both sides"
w thin1 t1 $((100 * BLK + 1024)) 512 $BLK 50      # blocks 100..149 of 1 become its own
w thin0 t0 $((500 * BLK + 1024)) 512 $BLK 20      # blocks 500..519 of 0 become its own
w thin2 t2 $((1800 * BLK)) 512 $BLK 10            # 1800..1809 of 2

note "discards"
disc thin0 0 $((300 * BLK))                       # shared with 1 and 2: counts drop, nothing freed
disc thin1 0 $((200 * BLK))                       # 0..99 still 2's; 100..149 were 1's own: freed
disc thin2 0 $((50 * BLK))                        # 0..49: the last sharer, freed
disc thin3 $((100 * BLK)) $((400 * BLK))          # whole leaves of a device of its own
disc thin0 $((1000 * BLK + 8192)) 4096            # inside one block: nothing unmapped
disc thin0 $((1500 * BLK + 32768)) $((100 * BLK)) # unaligned: blocks 1501..1599
disc thin3 $((1500 * BLK)) $((500 * BLK))         # never mapped
disc thin0 $((1900 * BLK)) $((148 * BLK))         # to the device's end
msg pool 0 "set_transaction_id 0 1"
run sync
rec_status A
rec_sha_thins A 0 1 2 3

note "hold a metadata snapshot, discard more of the origin and of 3"
msg pool 0 "reserve_metadata_snap"
disc thin0 $((1000 * BLK)) $((500 * BLK))
disc thin3 0 $((50 * BLK))
w thin1 t1b $((1200 * BLK + 512)) 512 $BLK 5
msg pool 0 "set_transaction_id 1 2"
run sync
rec_status B
rec_sha_thins B 0 1 2 3

note "clean teardown (the metadata snapshot stays held)"
for i in 0 1 2 3; do run dmsetup remove thin$i; done
run dmsetup remove pool
rec "final_state B"
rec "live_thins 0 1 2 3"
rec "metadata_snap_state A"
# (Not 3: its blocks 0..49, discarded after the snapshot was taken, were
# passed down to the data device although the snapshot still maps them; the
# kernel counts a data block's references from the live trees' leaves, and
# only the shadowing of a shared leaf adds the snapshot's.  So the
# snapshot's view of 3 is no longer state A.)
rec "metadata_snap_thins 0 1 2"
rec "metadata_snap_data_lost 3"
echo OK
