#include "caching/xml.h"

#include "base/xml_text.h"
#include "base/base64.h"
#include "base/xml_reader.h"

#include <optional>

namespace caching {
namespace {

class xml_writer : public emitter {
public:
	explicit xml_writer(base::output_sink &out) : out_(out) {}

	void begin_superblock(const cache_info &i) override {
		out_.put("<superblock uuid=\"").put(base::xml_escape(i.uuid)).put("\" block_size=\"").put_u64(i.block_size);
		out_.put("\" nr_cache_blocks=\"").put_u64(i.nr_cache_blocks).put("\" policy=\"").put(i.policy);
		out_.put("\" hint_width=\"").put_u64(i.hint_width).put("\">\n");
	}
	void end_superblock() override { out_.put("</superblock>\n"); }
	void begin_mappings() override { out_.put("  <mappings>\n"); }
	void end_mappings() override { out_.put("  </mappings>\n"); }
	void mapping(uint64_t cb, uint64_t ob, bool dirty) override {
		out_.put("    <mapping cache_block=\"").put_u64(cb).put("\" origin_block=\"").put_u64(ob);
		out_.put(dirty ? "\" dirty=\"true\"/>\n" : "\" dirty=\"false\"/>\n");
	}
	void begin_hints() override { out_.put("  <hints>\n"); }
	void end_hints() override { out_.put("  </hints>\n"); }
	void hint(uint64_t cb, const std::vector<uint8_t> &data) override {
		out_.put("    <hint cache_block=\"").put_u64(cb).put("\" data=\"");
		out_.put(base::base64_encode(data.data(), data.size())).put("\"/>\n");
	}
	void begin_discards() override { out_.put("  <discards>\n"); }
	void end_discards() override { out_.put("  </discards>\n"); }
	void discard(uint64_t b, uint64_t e) override {
		out_.put("    <discard dbegin=\"").put_u64(b).put("\" dend=\"").put_u64(e).put("\"/>\n");
	}

private:
	base::output_sink &out_;
};

// The document's structure, checked as it streams past.
class reader : public base::xml_handler {
public:
	explicit reader(emitter &out) : out_(out) {}

	void start(const std::string &el, const base::xml_attributes &a) override {
		using base::xml_input_error;
		if (el == "superblock") {
			if (state_ != state::top)
				throw xml_input_error("unexpected <superblock>");
			cache_info i;
			i.uuid = a.text("uuid");
			i.block_size = uint32_t(a.number("block_size", UINT32_MAX));
			i.nr_cache_blocks = a.number("nr_cache_blocks", UINT32_MAX);
			i.policy = a.text("policy");
			if (i.policy.size() >= 16)
				throw xml_input_error("policy name '" + i.policy + "' is longer than 15 characters");
			i.hint_width = uint32_t(a.number("hint_width", 128));
			info_ = i;
			out_.begin_superblock(i);
			state_ = state::superblock;
		} else if (el == "mappings" || el == "hints" || el == "discards") {
			if (state_ != state::superblock)
				throw xml_input_error("<" + el + "> outside <superblock>");
			state_ = el == "mappings" ? state::mappings : el == "hints" ? state::hints : state::discards;
			if (state_ == state::mappings)
				out_.begin_mappings();
			else if (state_ == state::hints)
				out_.begin_hints();
			else
				out_.begin_discards();
		} else if (el == "mapping") {
			if (state_ != state::mappings)
				throw xml_input_error("<mapping> outside <mappings>");
			uint64_t cb = a.number("cache_block");
			if (cb >= info_->nr_cache_blocks)
				throw xml_input_error("cache_block " + std::to_string(cb) + " is beyond nr_cache_blocks (" +
				                      std::to_string(info_->nr_cache_blocks) + ")");
			out_.mapping(cb, a.number("origin_block", (uint64_t(1) << 48) - 1), a.boolean("dirty"));
		} else if (el == "hint") {
			if (state_ != state::hints)
				throw xml_input_error("<hint> outside <hints>");
			uint64_t cb = a.number("cache_block");
			if (cb >= info_->nr_cache_blocks)
				throw xml_input_error("cache_block " + std::to_string(cb) + " is beyond nr_cache_blocks");
			auto data = base::base64_decode(a.text("data"));
			if (!data)
				throw xml_input_error("hint data is not base64");
			if (data->size() != info_->hint_width)
				throw xml_input_error("hint of " + std::to_string(data->size()) + " bytes, hint_width is " +
				                      std::to_string(info_->hint_width));
			out_.hint(cb, *data);
		} else if (el == "discard") {
			if (state_ != state::discards)
				throw xml_input_error("<discard> outside <discards>");
			uint64_t b = a.number("dbegin"), e = a.number("dend");
			if (e <= b)
				throw xml_input_error("empty discard range " + std::to_string(b) + ".." + std::to_string(e));
			out_.discard(b, e);
		} else
			throw xml_input_error("unknown element <" + el + ">");
	}

	void end(const std::string &el) override {
		if (el == "superblock") {
			out_.end_superblock();
			state_ = state::done;
		} else if (el == "mappings") {
			out_.end_mappings();
			state_ = state::superblock;
		} else if (el == "hints") {
			out_.end_hints();
			state_ = state::superblock;
		} else if (el == "discards") {
			out_.end_discards();
			state_ = state::superblock;
		}
	}

	void finish() override {
		if (state_ != state::done)
			throw base::xml_input_error(state_ == state::top ? "no <superblock>" : "unexpected end of input");
	}

private:
	enum class state { top, superblock, mappings, hints, discards, done };
	emitter &out_;
	state state_ = state::top;
	std::optional<cache_info> info_;
};

} // namespace

std::unique_ptr<emitter> make_xml_writer(base::output_sink &out) { return std::make_unique<xml_writer>(out); }

void read_cache_xml(const std::string &path, emitter &out, bool progress) {
	reader r(out);
	base::read_xml(path, r, progress ? "Restoring" : "");
}

} // namespace caching
