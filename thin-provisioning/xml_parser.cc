#include "thin-provisioning/xml_parser.h"

#include "base/command_line.h"
#include "base/error.h"
#include "base/file.h"
#include "base/progress.h"

#include <boost/iostreams/device/file_descriptor.hpp>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filtering_stream.hpp>
#include <expat.h>

#include <cstring>
#include <fcntl.h>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace thin {
namespace {

namespace io = boost::iostreams;

// The attributes of one element, with checked numeric access.
class attributes {
public:
	attributes(const char *element, const XML_Char **atts) : element_(element) {
		for (size_t i = 0; atts[i]; i += 2)
			values_[atts[i]] = atts[i + 1];
	}

	const std::string *find(const char *name) const {
		auto it = values_.find(name);
		return it == values_.end() ? nullptr : &it->second;
	}

	std::string text(const char *name) const {
		if (auto v = find(name))
			return *v;
		throw input_error("missing attribute '" + std::string(name) + "' in <" + element_ + ">");
	}

	uint64_t number(const char *name, uint64_t max = UINT64_MAX) const {
		return convert(name, text(name), max);
	}

	std::optional<uint64_t> optional_number(const char *name, uint64_t max = UINT64_MAX) const {
		if (auto v = find(name))
			return convert(name, *v, max);
		return std::nullopt;
	}

private:
	uint64_t convert(const char *name, const std::string &v, uint64_t max) const {
		uint64_t n;
		try {
			n = base::parse_natural(name, v);
		} catch (const std::exception &) {
			throw input_error("attribute '" + std::string(name) + "' of <" + element_ +
			                  "> is not a natural number: '" + v + "'");
		}
		if (n > max)
			throw input_error("attribute '" + std::string(name) + "' of <" + element_ +
			                  "> is too large: " + v);
		return n;
	}

	std::string element_;
	std::map<std::string, std::string> values_;
};

enum class context { top, superblock, device, def, done };

class parser_state {
public:
	explicit parser_state(emitter &out) : out_(out) {}

	void start(const char *name, const XML_Char **atts) {
		attributes a(name, atts);
		std::string el = name;
		if (el == "superblock") {
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
		} else if (el == "single_mapping") {
			expect_mapping_context("<single_mapping>");
			uint64_t origin = a.number("origin_block");
			uint64_t data = a.number("data_block");
			uint32_t time = uint32_t(a.number("time", UINT32_MAX));
			mapping(origin, data, time, 1);
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

	void end(const char *name) {
		std::string el = name;
		if (el == "superblock") {
			out_.end_superblock();
			ctx_ = context::done;
		} else if (el == "device") {
			out_.end_device();
			ctx_ = context::superblock;
		} else if (el == "def")
			ctx_ = context::superblock;
	}

	void finish() const {
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

struct callbacks {
	parser_state *state;
	XML_Parser parser;
	std::optional<std::string> error;
	XML_Size line = 0, column = 0;

	void fail(const std::string &what) {
		if (error)
			return;
		error = what;
		line = XML_GetCurrentLineNumber(parser);
		column = XML_GetCurrentColumnNumber(parser) + 1;
		XML_StopParser(parser, XML_FALSE);
	}
};

void on_start(void *data, const XML_Char *name, const XML_Char **atts) {
	auto cb = static_cast<callbacks *>(data);
	if (cb->error)
		return;
	try {
		cb->state->start(name, atts);
	} catch (const input_error &e) {
		cb->fail(e.what());
	} catch (const std::exception &e) {
		cb->fail(e.what());
	}
}

void on_end(void *data, const XML_Char *name) {
	auto cb = static_cast<callbacks *>(data);
	if (cb->error)
		return;
	try {
		cb->state->end(name);
	} catch (const std::exception &e) {
		cb->fail(e.what());
	}
}

} // namespace

void parse_thin_xml(const std::string &path, emitter &out, bool progress) {
	base::file_facts facts = base::inspect_path(path);
	int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		throw base::file_error(path, std::strerror(errno));
	io::file_descriptor_source source(fd, io::close_handle);
	io::filtering_istream in;
	bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
	if (gz)
		in.push(io::gzip_decompressor());
	in.push(source);

	std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> parser(XML_ParserCreate(nullptr),
	                                                               XML_ParserFree);
	if (!parser)
		throw std::bad_alloc();
	parser_state state(out);
	callbacks cb{&state, parser.get(), {}, 0, 0};
	XML_SetUserData(parser.get(), &cb);
	XML_SetElementHandler(parser.get(), on_start, on_end);

	base::progress_bar bar("Restoring", progress && !gz && facts.size > 0);
	std::vector<char> buf(1 << 20);
	uint64_t consumed = 0;
	auto where = [&](XML_Size line, XML_Size col) {
		return path + ":" + std::to_string(line) + ":" + std::to_string(col) + ": ";
	};
	for (;;) {
		size_t n;
		try {
			in.read(buf.data(), std::streamsize(buf.size()));
			n = size_t(in.gcount());
		} catch (const std::exception &e) {
			throw base::file_error(path, std::string("cannot read input: ") + e.what());
		}
		bool last = n == 0;
		if (XML_Parse(parser.get(), buf.data(), int(n), last) == XML_STATUS_ERROR) {
			if (cb.error)
				throw base::error(where(cb.line, cb.column) + *cb.error);
			throw base::error(where(XML_GetCurrentLineNumber(parser.get()),
			                        XML_GetCurrentColumnNumber(parser.get()) + 1) +
			                  XML_ErrorString(XML_GetErrorCode(parser.get())));
		}
		consumed += n;
		bar.update(consumed, facts.size);
		if (last)
			break;
	}
	if (in.bad())
		throw base::file_error(path, "cannot read input");
	try {
		state.finish();
	} catch (const input_error &e) {
		throw base::error(where(XML_GetCurrentLineNumber(parser.get()),
		                        XML_GetCurrentColumnNumber(parser.get()) + 1) +
		                  e.what());
	}
}

} // namespace thin
