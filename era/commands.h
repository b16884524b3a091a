// Entry points of the era tools (tools.def lists them).
#pragma once

namespace era {
int era_check_main(int argc, char **argv);
int era_dump_main(int argc, char **argv);
int era_restore_main(int argc, char **argv);
int era_invalidate_main(int argc, char **argv);
} // namespace era

using era::era_check_main;
using era::era_dump_main;
using era::era_invalidate_main;
using era::era_restore_main;
