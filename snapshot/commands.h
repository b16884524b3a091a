// Entry points of the dm-snapshot tools (tools.def lists them).
#pragma once

namespace snapshot {
int snap_check_main(int argc, char **argv);
int snap_dump_main(int argc, char **argv);
int snap_restore_main(int argc, char **argv);
int snap_repair_main(int argc, char **argv);
int snap_export_main(int argc, char **argv);
} // namespace snapshot

using snapshot::snap_check_main;
using snapshot::snap_dump_main;
using snapshot::snap_export_main;
using snapshot::snap_repair_main;
using snapshot::snap_restore_main;
