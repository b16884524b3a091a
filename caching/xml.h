// Cache metadata as XML (doc/xml.md#cache-xml), written exactly as the reference's
// cache_dump writes it, and read back with expat.
#pragma once

#include "base/output.h"
#include "caching/emitter.h"

#include <memory>
#include <string>

namespace caching {

std::unique_ptr<emitter> make_xml_writer(base::output_sink &out);

// Replays PATH into OUT; errors are one base::error "FILE:LINE:COL: what".
void read_cache_xml(const std::string &path, emitter &out, bool progress);

} // namespace caching
