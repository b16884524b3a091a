#include "base/xml_reader.h"

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
#include <memory>
#include <vector>

namespace base {

xml_attributes::xml_attributes(const char *element, const char **atts) : element_(element) {
	for (size_t i = 0; atts[i]; i += 2)
		values_[atts[i]] = atts[i + 1];
}

const std::string *xml_attributes::find(const char *name) const {
	auto it = values_.find(name);
	return it == values_.end() ? nullptr : &it->second;
}

std::string xml_attributes::text(const char *name) const {
	if (auto v = find(name))
		return *v;
	throw xml_input_error("missing attribute '" + std::string(name) + "' in <" + element_ + ">");
}

uint64_t xml_attributes::number(const char *name, uint64_t max) const {
	std::string v = text(name);
	uint64_t n;
	try {
		n = parse_natural(name, v);
	} catch (const std::exception &) {
		throw xml_input_error("attribute '" + std::string(name) + "' of <" + element_ +
		                      "> is not a natural number: '" + v + "'");
	}
	if (n > max)
		throw xml_input_error("attribute '" + std::string(name) + "' of <" + element_ + "> is too large: " + v);
	return n;
}

std::optional<uint64_t> xml_attributes::optional_number(const char *name, uint64_t max) const {
	if (find(name))
		return number(name, max);
	return std::nullopt;
}

bool xml_attributes::boolean(const char *name) const {
	std::string v = text(name);
	if (v == "true")
		return true;
	if (v == "false")
		return false;
	throw xml_input_error("attribute '" + std::string(name) + "' of <" + element_ + "> is not true or false: '" +
	                      v + "'");
}

namespace {

namespace io = boost::iostreams;

struct context {
	xml_handler *h;
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
	auto c = static_cast<context *>(data);
	if (c->error)
		return;
	try {
		c->h->start(name, xml_attributes(name, atts));
	} catch (const std::exception &e) {
		c->fail(e.what());
	}
}

void on_end(void *data, const XML_Char *name) {
	auto c = static_cast<context *>(data);
	if (c->error)
		return;
	try {
		c->h->end(name);
	} catch (const std::exception &e) {
		c->fail(e.what());
	}
}

} // namespace

void read_xml(const std::string &path, xml_handler &h, const std::string &progress_label) {
	file_facts facts = inspect_path(path);
	int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		throw file_error(path, std::strerror(errno));
	io::file_descriptor_source source(fd, io::close_handle);
	io::filtering_istream in;
	bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
	if (gz)
		in.push(io::gzip_decompressor());
	in.push(source);

	std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> parser(XML_ParserCreate(nullptr), XML_ParserFree);
	if (!parser)
		throw std::bad_alloc();
	context c{&h, parser.get(), {}};
	XML_SetUserData(parser.get(), &c);
	XML_SetElementHandler(parser.get(), on_start, on_end);
	auto where = [&](XML_Size line, XML_Size col) {
		return path + ":" + std::to_string(line) + ":" + std::to_string(col) + ": ";
	};

	progress_bar bar(progress_label.empty() ? "Reading" : progress_label,
	                 !progress_label.empty() && !gz && facts.size > 0);
	std::vector<char> buf(1 << 20);
	uint64_t consumed = 0;
	for (;;) {
		size_t n;
		try {
			in.read(buf.data(), std::streamsize(buf.size()));
			n = size_t(in.gcount());
		} catch (const std::exception &e) {
			throw file_error(path, std::string("cannot read input: ") + e.what());
		}
		bool last = n == 0;
		if (XML_Parse(parser.get(), buf.data(), int(n), last) == XML_STATUS_ERROR) {
			if (c.error)
				throw error(where(c.line, c.column) + *c.error);
			throw error(where(XML_GetCurrentLineNumber(parser.get()), XML_GetCurrentColumnNumber(parser.get()) + 1) +
			            XML_ErrorString(XML_GetErrorCode(parser.get())));
		}
		consumed += n;
		bar.update(consumed, facts.size);
		if (last)
			break;
	}
	try {
		h.finish();
	} catch (const std::exception &e) {
		throw error(where(XML_GetCurrentLineNumber(parser.get()), XML_GetCurrentColumnNumber(parser.get()) + 1) +
		            e.what());
	}
}

} // namespace base
