// Entry points of the cache tools (tools.def lists them).
#pragma once

namespace caching {
int cache_check_main(int argc, char **argv);
int cache_dump_main(int argc, char **argv);
int cache_restore_main(int argc, char **argv);
int cache_repair_main(int argc, char **argv);
int cache_metadata_size_main(int argc, char **argv);
int cache_writeback_main(int argc, char **argv);
} // namespace caching

using caching::cache_check_main;
using caching::cache_dump_main;
using caching::cache_metadata_size_main;
using caching::cache_repair_main;
using caching::cache_restore_main;
using caching::cache_writeback_main;
