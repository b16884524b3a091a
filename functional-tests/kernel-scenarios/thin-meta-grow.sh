#DISK meta 80M meta
#DISK data 256M data
# thin-meta-grow: the pool's metadata device grown twice while in use, as
# lvextend --poolmetadatasize does: the pool starts on the first 32 MiB of
# the disk (a dm-linear device), is suspended, the linear device reloaded
# larger and the pool resumed, so the kernel extends its metadata space map.
# 32 -> 48 MiB stays inside the first bitmap (16320 blocks, 63.75 MiB);
# 48 -> 80 MiB needs a second one.  The superblock's own metadata_nr_blocks
# is written only when the pool is formatted; the space map's root carries
# the new size.  Devices, a snapshot and writes between the steps.
. /bin/lib.sh
set -x
rec "scenario thin-meta-grow"
rec "kernel $(uname -r)"
rec "meta_dev_sectors $(sectors /dev/disk/meta)"
DS=$(sectors /dev/disk/data)
rec "data_dev_sectors $DS"
rec "data_block_sectors 128"
TS=131072    # 64 MiB thin devices
BLK=65536
MiB=2048     # sectors
grow_meta() {
	run dmsetup suspend pool
	run dmsetup load tmeta --table "0 $(($1 * MiB)) linear /dev/disk/meta 0"
	run dmsetup resume tmeta
	run dmsetup resume pool
	rec "metadata_grown_to_sectors $(($1 * MiB))"
}

run dmsetup create tmeta --table "0 $((32 * MiB)) linear /dev/disk/meta 0"
run dmsetup create pool --table "0 $DS thin-pool /dev/mapper/tmeta /dev/disk/data 128 16"
rec_status start
thin_new pool 0 thin0 $TS
thin_new pool 1 thin1 $TS
w thin0 a0 0 512 $BLK 300
w thin1 a1 0 512 $BLK 100
msg pool 0 "set_transaction_id 0 1"

note "grow 32 -> 48 MiB (one bitmap still)"
grow_meta 48
rec_status grown48
thin_snap pool thin0 0 2 thin2 $TS
w thin2 b2 $((10 * BLK)) 512 $BLK 40
w thin1 b1 $((200 * BLK)) 512 $BLK 60
msg pool 0 "set_transaction_id 1 2"

note "grow 48 -> 80 MiB (a second bitmap)"
grow_meta 80
rec_status grown80
thin_new pool 3 thin3 $TS
w thin3 c3 0 512 $BLK 200
w thin0 c0 $((5 * BLK)) 512 $BLK 30
msg pool 0 "set_transaction_id 2 3"
run sync
rec_status final
rec_sha_thins final 0 1 2 3

for i in 0 1 2 3; do run dmsetup remove thin$i; done
run dmsetup remove pool
run dmsetup remove tmeta
rec "final_state final"
rec "live_thins 0 1 2 3"
echo OK
