// Writes the emitter stream as the reference's XML (doc/xml.md#thin-xml) or its
// human-readable text (doc/xml.md#human-readable-format), byte for byte.
#pragma once

#include "base/output.h"
#include "thin-provisioning/emitter.h"

#include <memory>

namespace thin {

std::unique_ptr<emitter> make_xml_emitter(base::output_sink &out);
std::unique_ptr<emitter> make_human_emitter(base::output_sink &out);

} // namespace thin
