#DISK meta 8M meta
#DISK data 64M data
# thin-no-space: the data device runs out and is grown, twice.  The pool's
# data device is a dm-linear device over the first 8 MiB (128 blocks) of
# the disk.  First with error_if_no_space: writes past the last free block
# fail at once and the pool reports out_of_data_space; the linear device is
# grown to 16 MiB and the pool's table reloaded with the new length, and
# writes go on.  Then the pool is switched read-only (a table reload with
# read_only: writes that need a new block fail, overwrites of blocks a
# device owns succeed) and back.  Then without error_if_no_space (queueing):
# a write that finds no space waits; the data device grows to 32 MiB and the
# waiting write completes.  Transaction id 3 at the end.
. /bin/lib.sh
set -x
rec "scenario thin-no-space"
rec "kernel $(uname -r)"
rec "meta_dev_sectors $(sectors /dev/disk/meta)"
rec "data_block_sectors 128"
TS=65536     # 32 MiB thin devices
BLK=65536
MiB=2048     # sectors
pool_table() { # DATA_MIB FEATURES...
	local size=$(($1 * MiB)); shift
	echo "0 $size thin-pool /dev/disk/meta /dev/mapper/tdata 128 0 $# $*"
}
grow_data() { # MIB FEATURES...
	run dmsetup load tdata --table "0 $(($1 * MiB)) linear /dev/disk/data 0"
	run dmsetup resume tdata
	run dmsetup suspend pool
	run dmsetup load pool --table "$(pool_table "$@")"
	run dmsetup resume pool
	rec "data_grown_to_sectors $(($1 * MiB))"
}

run dmsetup create tdata --table "0 $((8 * MiB)) linear /dev/disk/data 0"
run dmsetup create pool --table "$(pool_table 8 error_if_no_space)"
thin_new pool 0 thin0 $TS
thin_new pool 1 thin1 $TS
w thin0 a0 0 512 $BLK 100
thin_snap pool thin0 0 2 thin2 $TS

note "fill the data device: 28 blocks left, 40 wanted"
try dmh write /dev/mapper/thin1 a1 0 512 $BLK 40
rec_status full
note "grow 8 -> 16 MiB, go on writing"
grow_data 16 error_if_no_space
rec_status grown16
w thin1 b1 $((40 * BLK)) 512 $BLK 20
w thin2 b2 $((5 * BLK)) 512 $BLK 10          # CoW from the origin
msg pool 0 "set_transaction_id 0 1"

note "read-only and back"
run dmsetup suspend pool
run dmsetup load pool --table "$(pool_table 16 error_if_no_space read_only)"
run dmsetup resume pool
rec_status readonly
try dmh write /dev/mapper/thin1 ro1 $((100 * BLK)) 512    # needs a new block: fails
try dmh write /dev/mapper/thin1 ro2 $((45 * BLK)) 512     # a block thin1 owns
run dmsetup suspend pool
run dmsetup load pool --table "$(pool_table 16 error_if_no_space)"
run dmsetup resume pool
rec_status writable
msg pool 0 "set_transaction_id 1 2"

note "queue when full: without error_if_no_space a write waits for space"
run dmsetup suspend pool
run dmsetup load pool --table "$(pool_table 16)"
run dmsetup resume pool
echo 300 > /sys/module/dm_thin_pool/parameters/no_space_timeout
FREE=$(dmsetup status pool | awk '{split($6, d, "/"); print d[2] - d[1]}')
rec "free_blocks_before_queue $FREE"
w thin0 c0 $((200 * BLK)) 512 $BLK $FREE
echo "cmd dmh write /dev/mapper/thin0 q0 $((300 * BLK)) 512 $BLK 8 (in the background)" >> $M
dmh write /dev/mapper/thin0 q0 $((300 * BLK)) 512 $BLK 8 & QPID=$!
sleep 5
rec_status queued
grow_data 32
set +e; wait $QPID; QRC=$?; set -e
rec "rc $QRC"
[ $QRC = 0 ]
rec_status grown32
w thin1 d1 $((300 * BLK)) 512 $BLK 30
msg pool 0 "set_transaction_id 2 3"
run sync
rec_status final
rec_sha_thins final 0 1 2

for i in 0 1 2; do run dmsetup remove thin$i; done
run dmsetup remove pool
run dmsetup remove tdata
rec "final_state final"
rec "live_thins 0 1 2"
echo OK
