#include "thin-provisioning/xml_parser.h"

#include "base/xml_reader.h"

#include <map>
#include <optional>
#include <vector>

namespace thin {
namespace {

enum class context { top, superblock, device, def, done };

class parser_state : public base::xml_handler {
public:
	explicit parser_state(emitter &out) : out_(out) {}

	// (Mappings first: they are nearly every element.)
	void start(const std::string &el, const base::xml_attributes &a) override {
		if (el == "single_mapping") {
			expect_mapping_context("<single_mapping>");
			uint64_t origin = a.number("origin_block");
			uint64_t data = a.number("data_block");
			uint32_t time = uint32_t(a.number("time", UINT32_MAX));
			mapping(origin, data, time, 1);
		} else if (el == "range_mapping") {
			expect_mapping_context("<range_mapping>");
			uint64_t origin = a.number("origin_begin");
			uint64_t data = a.number("data_begin");
			uint64_t len = a.number("length");
			uint32_t time = uint32_t(a.number("time", UINT32_MAX));
			if (len == 0)
				throw input_error("<range_mapping> with length 0");
			if (origin + len < origin || data + len < data)
				throw input_error("<range_mapping> runs past the largest block number");
			mapping(origin, data, time, len);
		} else if (el == "superblock") {
			expect(context::top, "<superblock> must be the outermost element");
			superblock_info sb;
			sb.uuid = a.text("uuid");
			sb.time = uint32_t(a.number("time", UINT32_MAX));
			sb.transaction = a.number("transaction");
			sb.flags = uint32_t(a.optional_number("flags", UINT32_MAX).value_or(0));
			// The reference takes a missing version as 1 (and dumps it back as 1).
			sb.version = uint32_t(a.optional_number("version", UINT32_MAX).value_or(1));
			sb.data_block_size = uint32_t(a.number("data_block_size", UINT32_MAX));
			sb.nr_data_blocks = a.number("nr_data_blocks");
			sb.metadata_snap = a.optional_number("metadata_snap");
			out_.begin_superblock(sb);
			ctx_ = context::superblock;
		} else if (el == "device") {
			expect(context::superblock, "<device> must be inside <superblock>");
			device_details d;
			uint64_t dev = a.number("dev_id", UINT32_MAX);
			d.mapped_blocks = a.number("mapped_blocks");
			d.transaction_id = a.number("transaction");
			d.creation_time = uint32_t(a.number("creation_time", UINT32_MAX));
			d.snapshotted_time = uint32_t(a.number("snap_time", UINT32_MAX));
			out_.begin_device(dev, d);
			ctx_ = context::device;
		} else if (el == "def") {
			expect(context::superblock, "<def> must be inside <superblock>");
			current_def_ = a.text("name");
			if (defs_.count(current_def_))
				throw input_error("<def name=\"" + current_def_ + "\"> is defined twice");
			defs_[current_def_];
			ctx_ = context::def;
		} else if (el == "ref") {
			if (ctx_ != context::device && ctx_ != context::def)
				throw input_error("<ref> must be inside <device> or <def>");
			std::string n = a.text("name");
			auto it = defs_.find(n);
			if (it == defs_.end() || (ctx_ == context::def && n == current_def_))
				throw input_error("<ref name=\"" + n + "\"> names no earlier <def>");
			for (const auto &m : it->second)
				mapping(m.origin, m.data, m.time, m.len);
		} else
			throw input_error("unknown tag type '" + el + "'");
	}

	void end(const std::string &el) override {
		if (el == "superblock") {
			out_.end_superblock();
			ctx_ = context::done;
		} else if (el == "device") {
			out_.end_device();
			ctx_ = context::superblock;
		} else if (el == "def")
			ctx_ = context::superblock;
	}

	void finish() override {
		if (ctx_ != context::done)
			throw input_error("the input ends before </superblock>");
	}

private:
	struct run {
		uint64_t origin, data;
		uint32_t time;
		uint64_t len;
	};

	void expect(context c, const char *what) const {
		if (ctx_ != c)
			throw input_error(what);
	}

	void expect_mapping_context(const char *el) const {
		if (ctx_ != context::device && ctx_ != context::def)
			throw input_error(std::string(el) + " must be inside <device> or <def>");
	}

	void mapping(uint64_t origin, uint64_t data, uint32_t time, uint64_t len) {
		if (ctx_ == context::def) {
			defs_[current_def_].push_back({origin, data, time, len});
			return;
		}
		if (len == 1)
			out_.single_map(origin, data, time);
		else
			out_.range_map(origin, data, time, len);
	}

	emitter &out_;
	context ctx_ = context::top;
	std::map<std::string, std::vector<run>> defs_;
	std::string current_def_;
};

} // namespace

void parse_thin_xml(const std::string &path, emitter &out, bool progress) {
	parser_state state(out);
	base::read_xml(path, state, progress ? "Restoring" : "");
}

} // namespace thin
