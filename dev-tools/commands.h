// Entry points of the developer tools (registered in tools.def).
#pragma once

namespace devtools {
int field_fuzz_main(int argc, char **argv);
int xml_parse_floor_main(int argc, char **argv);
} // namespace devtools

using devtools::field_fuzz_main;
using devtools::xml_parse_floor_main;
