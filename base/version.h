// The suite's version.  LVM parses `TOOL -V` as MAJOR.MINOR.PATCH and
// enables features (e.g. --clear-needs-check-flag) from 0.3.2 on.
#pragma once

namespace base {
constexpr const char *VERSION = "1.0.0";
}
