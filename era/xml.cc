#include "era/xml.h"

#include "base/xml_text.h"
#include "base/xml_reader.h"

#include <optional>

namespace era {
namespace {

class xml_writer : public emitter {
public:
	explicit xml_writer(base::output_sink &out) : out_(out) {}
	void begin_superblock(const era_info &i) override {
		out_.put("<superblock uuid=\"").put(base::xml_escape(i.uuid)).put("\" block_size=\"").put_u64(i.block_size);
		out_.put("\" nr_blocks=\"").put_u64(i.nr_blocks).put("\" current_era=\"").put_u64(i.current_era).put("\">\n");
	}
	void end_superblock() override { out_.put("</superblock>\n"); }
	void begin_writeset(uint32_t era, uint32_t nr_bits) override {
		out_.put("  <writeset era=\"").put_u64(era).put("\" nr_bits=\"").put_u64(nr_bits).put("\">\n");
	}
	void writeset_bit(uint32_t block, bool value) override {
		out_.put("    <bit block=\"").put_u64(block).put(value ? "\" value=\"true\"/>\n" : "\" value=\"false\"/>\n");
	}
	void end_writeset() override { out_.put("  </writeset>\n"); }
	void begin_era_array() override { out_.put("  <era_array>\n"); }
	void era(uint32_t block, uint32_t e) override {
		out_.put("    <era block=\"").put_u64(block).put("\" era=\"").put_u64(e).put("\"/>\n");
	}
	void end_era_array() override { out_.put("  </era_array>\n"); }

private:
	base::output_sink &out_;
};

class reader : public base::xml_handler {
public:
	explicit reader(emitter &out) : out_(out) {}

	void start(const std::string &el, const base::xml_attributes &a) override {
		using base::xml_input_error;
		if (el == "superblock") {
			if (state_ != state::top)
				throw xml_input_error("unexpected <superblock>");
			era_info i;
			i.uuid = a.text("uuid");
			i.block_size = uint32_t(a.number("block_size", UINT32_MAX));
			i.nr_blocks = a.number("nr_blocks", UINT32_MAX);
			i.current_era = uint32_t(a.number("current_era", UINT32_MAX));
			nr_blocks_ = i.nr_blocks;
			out_.begin_superblock(i);
			state_ = state::superblock;
		} else if (el == "writeset") {
			if (state_ != state::superblock)
				throw xml_input_error("<writeset> outside <superblock>");
			bits_ = uint32_t(a.number("nr_bits", UINT32_MAX));
			out_.begin_writeset(uint32_t(a.number("era", UINT32_MAX)), bits_);
			state_ = state::writeset;
		} else if (el == "bit" || el == "marked") {
			if (state_ != state::writeset)
				throw xml_input_error("<" + el + "> outside <writeset>");
			if (el == "bit") {
				uint64_t b = a.number("block");
				if (b >= bits_)
					throw xml_input_error("bit " + std::to_string(b) + " is beyond nr_bits (" + std::to_string(bits_) + ")");
				out_.writeset_bit(uint32_t(b), a.boolean("value"));
			} else {
				uint64_t b = a.number("block_begin"), n = a.number("len");
				if (b + n > bits_ || b + n < b)
					throw xml_input_error("marked run beyond nr_bits (" + std::to_string(bits_) + ")");
				for (uint64_t i = 0; i < n; i++)
					out_.writeset_bit(uint32_t(b + i), true);
			}
		} else if (el == "era_array") {
			if (state_ != state::superblock)
				throw xml_input_error("<era_array> outside <superblock>");
			out_.begin_era_array();
			state_ = state::era_array;
		} else if (el == "era") {
			if (state_ != state::era_array)
				throw xml_input_error("<era> outside <era_array>");
			uint64_t b = a.number("block");
			if (b >= nr_blocks_)
				throw xml_input_error("block " + std::to_string(b) + " is beyond nr_blocks (" +
				                      std::to_string(nr_blocks_) + ")");
			out_.era(uint32_t(b), uint32_t(a.number("era", UINT32_MAX)));
		} else
			throw xml_input_error("unknown element <" + el + ">");
	}

	void end(const std::string &el) override {
		if (el == "superblock") {
			out_.end_superblock();
			state_ = state::done;
		} else if (el == "writeset") {
			out_.end_writeset();
			state_ = state::superblock;
		} else if (el == "era_array") {
			out_.end_era_array();
			state_ = state::superblock;
		}
	}

	void finish() override {
		if (state_ != state::done)
			throw base::xml_input_error(state_ == state::top ? "no <superblock>" : "unexpected end of input");
	}

private:
	enum class state { top, superblock, writeset, era_array, done };
	emitter &out_;
	state state_ = state::top;
	uint64_t nr_blocks_ = 0;
	uint32_t bits_ = 0;
};

} // namespace

std::unique_ptr<emitter> make_xml_writer(base::output_sink &out) { return std::make_unique<xml_writer>(out); }

void read_era_xml(const std::string &path, emitter &out, bool progress) {
	reader r(out);
	base::read_xml(path, r, progress ? "Restoring" : "");
}

} // namespace era
