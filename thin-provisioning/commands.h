// Entry points of the thin-pool tools (registered in tools.def).
#pragma once

namespace thin {
int thin_check_main(int argc, char **argv);
int thin_delta_main(int argc, char **argv);
int thin_dump_main(int argc, char **argv);
int thin_ls_main(int argc, char **argv);
int thin_metadata_size_main(int argc, char **argv);
int thin_repair_main(int argc, char **argv);
int thin_restore_main(int argc, char **argv);
int thin_rmap_main(int argc, char **argv);
int thin_trim_main(int argc, char **argv);
int thin_shrink_main(int argc, char **argv);
int thin_metadata_pack_main(int argc, char **argv);
int thin_metadata_unpack_main(int argc, char **argv);
} // namespace thin

using thin::thin_check_main;
using thin::thin_delta_main;
using thin::thin_dump_main;
using thin::thin_ls_main;
using thin::thin_metadata_size_main;
using thin::thin_repair_main;
using thin::thin_restore_main;
using thin::thin_rmap_main;
using thin::thin_trim_main;
using thin::thin_shrink_main;
using thin::thin_metadata_pack_main;
using thin::thin_metadata_unpack_main;
