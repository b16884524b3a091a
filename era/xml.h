// Era metadata as XML (doc/xml.md#era-xml), written as the reference writes it and
// read back with expat (one <bit> per block, or the newer line's <marked>
// runs).
#pragma once

#include "base/output.h"
#include "era/emitter.h"

#include <memory>
#include <string>

namespace era {

std::unique_ptr<emitter> make_xml_writer(base::output_sink &out);
void read_era_xml(const std::string &path, emitter &out, bool progress);

} // namespace era
