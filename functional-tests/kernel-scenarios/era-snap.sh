#DISK meta 8M meta
#DISK origin 160M data
# era-snap: dm-era with 4 KiB blocks on a 160 MiB origin: 40960 blocks, so
# the era array spans 41 array blocks and every writeset bitset two (a bitset
# block holds 32576 bits).  Writes across eras 1..6 separated by checkpoints
# (one era without writes, rewrites of blocks written before); a metadata
# snapshot is taken in era 4 and held; more writes and checkpoints after it,
# so the live trees and the snapshot's share some nodes and not others.
. /bin/lib.sh
set -x
rec "scenario era-snap"
rec "kernel $(uname -r)"
OS=$(sectors /dev/disk/origin)
rec "origin_sectors $OS"
rec "era_block_sectors 8"
B=4096
run dmsetup create era --table "0 $OS era /dev/disk/meta /dev/disk/origin 8"
rec_status start
w era e1a 0 512 $B 300                         # blocks 0..299
w era e1b $((140 * 1024 * 1024)) 512 $B 40     # past the first bitset block (32576)
msg era 0 checkpoint
w era e2a $((1000 * B)) 512 $((7 * B)) 200     # strided
msg era 0 checkpoint
w era e3a $((100 * B)) 512 $B 100              # rewrites blocks of era 1
msg era 0 checkpoint
note "metadata snapshot held from era 4"
msg era 0 take_metadata_snap
rec_status snapshot
w era e4a $((20000 * B + 512)) 4k
w era e4b $((33000 * B)) 512 $B 64
msg era 0 checkpoint
msg era 0 checkpoint                           # an era without writes
w era e6a $((150 * B)) 512 $B 300              # rewrites, across eras 1 and 3
run sync
rec_status final
rec_sha final:era /dev/mapper/era
run dmsetup remove era
rec "final_state final"
rec "metadata_snap_state snapshot"
echo OK
