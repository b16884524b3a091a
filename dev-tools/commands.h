// Entry points of the developer tools (registered in tools.def).  A tool
// that works on one target's metadata stays in that target's namespace.
#pragma once

namespace devtools {
int field_fuzz_main(int argc, char **argv);
int xml_parse_floor_main(int argc, char **argv);
} // namespace devtools

namespace thin {
int thin_generate_damage_main(int argc, char **argv);
int thin_generate_metadata_main(int argc, char **argv);
int thin_generate_big_main(int argc, char **argv);
int thin_read_floor_main(int argc, char **argv);
} // namespace thin

namespace caching {
int cache_generate_damage_main(int argc, char **argv);
} // namespace caching

namespace era {
int era_generate_damage_main(int argc, char **argv);
} // namespace era

using caching::cache_generate_damage_main;
using devtools::field_fuzz_main;
using devtools::xml_parse_floor_main;
using era::era_generate_damage_main;
using thin::thin_generate_damage_main;
using thin::thin_generate_metadata_main;
using thin::thin_generate_big_main;
using thin::thin_read_floor_main;
