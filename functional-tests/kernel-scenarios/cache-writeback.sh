#DISK meta 8M meta
#DISK cdev 1100M data
#DISK origin 256M data
# cache-v1 and cache-v2 (links to this script; the kernel lab passes the
# scenario's name as the first argument): dm-cache with the smq policy in
# writeback mode, metadata format 1 or 2, 32 KiB cache blocks on a sparse
# 1100 MiB cache device, so 35200 cache blocks: the mapping array spans 70
# array blocks, the hint array 35, and format 2's dirty bitset two (a bitset
# block holds 32576 bits).  Repeated reads promote clean blocks; repeated
# writes make dirty ones; clean removal keeps the dirty state.
. /bin/lib.sh
set -x
NAME=${1:?scenario name}
case $NAME in
cache-v1) FEATURES="1 writeback" ;;
cache-v2) FEATURES="2 metadata2 writeback" ;;
*) echo "unknown variant $NAME" >&2; exit 1 ;;
esac
rec "scenario $NAME"
rec "kernel $(uname -r)"
OS=$(sectors /dev/disk/origin)
rec "origin_sectors $OS"
rec "cache_dev_sectors $(sectors /dev/disk/cdev)"
rec "cache_block_sectors 64"
rec "feature_args $FEATURES smq 0"
CB=32768
note "pre-fill the origin directly: one sector in each cache block of the first 128 MiB"
run dmh write /dev/disk/origin o0 0 512 $CB 4096
rec_sha origin_prefill /dev/disk/origin
run dmsetup create cache --table "0 $OS cache /dev/disk/meta /dev/disk/cdev /dev/disk/origin 64 $FEATURES smq 0"
rec_status start
note "reads of hot regions, repeated (promoted, clean)"
for pass in 1 2 3 4; do run dmh sha /dev/mapper/cache 0 16m; run dmh sha /dev/mapper/cache 64m 8m; done
note "writes, repeated (dirty): to blocks the reads made hot, and to cold ones"
w cache c0 $((1024 * 1024)) 512 $CB 100
for pass in 1 2 3; do w cache c1 $((32 * 1024 * 1024)) 512 $CB 200; w cache c2 $((200 * 1024 * 1024 + 1024)) 512 $CB 64; done
w cache c3 $((130 * 1024 * 1024 + 4096)) 8k
for pass in 1 2; do run dmh sha /dev/mapper/cache 100m 4m; done
run sync
rec_status final
rec_sha final:cache /dev/mapper/cache
rec_status hashed           # (reading the whole device promoted more blocks)
run dmsetup remove cache
rec "final_state final"
echo OK
