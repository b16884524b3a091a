#include "base/xml_reader.h"

#include "base/cores.h"
#include "base/error.h"
#include "base/file.h"
#include "base/progress.h"

#include <boost/iostreams/device/file_descriptor.hpp>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filtering_stream.hpp>
#include <expat.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <vector>

namespace base {

// ---- attributes ------------------------------------------------------------

const char *xml_attributes::find(const char *name) const {
	// (A handful of attributes per element: a scan beats any map.)
	for (size_t i = 0; atts_[i]; i += 2)
		if (!std::strcmp(atts_[i], name))
			return atts_[i + 1];
	return nullptr;
}

std::string xml_attributes::text(const char *name) const {
	if (auto v = find(name))
		return v;
	throw xml_input_error("missing attribute '" + std::string(name) + "' in <" + element_ + ">");
}

uint64_t xml_attributes::convert(const char *name, const char *v, uint64_t max) const {
	// Decimal digits only, as base::parse_natural takes them, without
	// building a string for each of millions of values.
	uint64_t n = 0;
	size_t len = 0;
	bool too_large = false;
	for (; v[len] >= '0' && v[len] <= '9'; len++) {
		unsigned d = unsigned(v[len] - '0');
		if (n > (UINT64_MAX - d) / 10)
			too_large = true;
		n = n * 10 + d;
	}
	if (len == 0 || v[len] || len > 20)
		throw xml_input_error("attribute '" + std::string(name) + "' of <" + element_ +
		                      "> is not a natural number: '" + v + "'");
	if (too_large || n > max)
		throw xml_input_error("attribute '" + std::string(name) + "' of <" + element_ + "> is too large: " + v);
	return n;
}

uint64_t xml_attributes::number(const char *name, uint64_t max) const {
	if (auto v = find(name))
		return convert(name, v, max);
	throw xml_input_error("missing attribute '" + std::string(name) + "' in <" + element_ + ">");
}

std::optional<uint64_t> xml_attributes::optional_number(const char *name, uint64_t max) const {
	if (auto v = find(name))
		return convert(name, v, max);
	return std::nullopt;
}

bool xml_attributes::boolean(const char *name) const {
	const char *v = find(name);
	if (!v)
		throw xml_input_error("missing attribute '" + std::string(name) + "' in <" + element_ + ">");
	if (!std::strcmp(v, "true"))
		return true;
	if (!std::strcmp(v, "false"))
		return false;
	throw xml_input_error("attribute '" + std::string(name) + "' of <" + element_ + "> is not true or false: '" +
	                      std::string(v) + "'");
}

namespace {

namespace io = boost::iostreams;

// ---- the input -------------------------------------------------------------

// A plain file read straight into expat's buffer, or a gzip stream.
class xml_source {
public:
	explicit xml_source(const std::string &path) : path_(path) {
		int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			throw file_error(path, std::strerror(errno));
		gz_ = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
		if (gz_) {
			in_.push(io::gzip_decompressor());
			in_.push(io::file_descriptor_source(fd, io::close_handle));
		} else
			fd_ = fd;
	}
	~xml_source() {
		if (fd_ >= 0)
			::close(fd_);
	}
	xml_source(const xml_source &) = delete;
	xml_source &operator=(const xml_source &) = delete;

	bool compressed() const { return gz_; }

	// Up to N bytes; 0 at the end.
	size_t read(char *buf, size_t n) {
		if (gz_) {
			try {
				in_.read(buf, std::streamsize(n));
			} catch (const std::exception &e) {
				throw file_error(path_, std::string("cannot read input: ") + e.what());
			}
			if (in_.bad())
				throw file_error(path_, "cannot read input");
			return size_t(in_.gcount());
		}
		size_t got = 0;
		while (got < n) {
			ssize_t r = ::read(fd_, buf + got, n - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				throw file_error(path_, std::string("cannot read input: ") + std::strerror(errno));
			if (r == 0)
				break;
			got += size_t(r);
		}
		return got;
	}

private:
	std::string path_;
	bool gz_ = false;
	int fd_ = -1;
	io::filtering_istream in_;
};

constexpr size_t READ_SIZE = 1 << 20;

std::string where(const std::string &path, uint64_t line, uint64_t column) {
	return path + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

// The line and column (from 1, in characters, as expat counts them) of byte
// INDEX of the (decompressed) input: read again, only when reporting an
// error the handler raised in the other thread.
std::pair<uint64_t, uint64_t> position_of(const std::string &path, uint64_t index) {
	xml_source src(path);
	std::vector<char> buf(READ_SIZE);
	uint64_t line = 1, column = 0, at = 0;
	bool after_cr = false;
	while (at < index) {
		size_t n = src.read(buf.data(), size_t(std::min<uint64_t>(buf.size(), index - at)));
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = static_cast<unsigned char>(buf[i]);
			if (c == '\n') {
				if (!after_cr)
					line++;
				column = 0;
			} else if (c == '\r') {
				line++;
				column = 0;
			} else if ((c & 0xc0) != 0x80)
				column++; // (not a UTF-8 continuation byte)
			after_cr = c == '\r';
		}
		at += n;
	}
	return {line, column + 1};
}

// ---- where events go --------------------------------------------------------

// The reading side (scanner or expat) hands every element to a sink.  AT is
// the byte index of the element's tag in the (decompressed) input.
class event_sink {
public:
	virtual ~event_sink() = default;
	virtual void start(const char *name, const char *const *atts, uint64_t at) = 0;
	virtual void end(const char *name, uint64_t at) = 0;
	// The handler has failed: read no further.
	virtual bool stopped() const = 0;
};

// The handler, called on this thread.  The first failure is kept with the
// index of the element at fault.
class direct_sink : public event_sink {
public:
	explicit direct_sink(xml_handler &h) : h_(h) {}
	// (Nothing after a failure: expat may still report an empty element's
	// end after its start failed.)
	void start(const char *name, const char *const *atts, uint64_t at) override {
		if (failed)
			return;
		try {
			name_.assign(name);
			h_.start(name_, xml_attributes(name, atts));
		} catch (const std::exception &e) {
			fail(e.what(), at);
		} catch (...) {
			foreign = std::current_exception();
			failed = true;
		}
	}
	void end(const char *name, uint64_t at) override {
		if (failed)
			return;
		try {
			name_.assign(name);
			h_.end(name_);
		} catch (const std::exception &e) {
			fail(e.what(), at);
		} catch (...) {
			foreign = std::current_exception();
			failed = true;
		}
	}
	bool stopped() const override { return failed; }

	bool failed = false;
	std::optional<std::string> error;
	uint64_t error_at = 0;
	std::exception_ptr foreign; // not a std::exception: rethrown as it is

private:
	void fail(const char *what, uint64_t at) {
		error = what;
		error_at = at;
		failed = true;
	}
	xml_handler &h_;
	std::string name_;
};

// ---- two threads -----------------------------------------------------------

// Events copied so that the handler can run in the other thread: names and
// values NUL-terminated in TEXT, each event's strings found by offset.
struct event_batch {
	struct event {
		uint64_t at;           // byte index of the element's tag
		uint32_t first_string; // into strings: its name, then name/value pairs
		uint32_t nr_atts;
		bool start;
	};
	std::vector<char> text;
	std::vector<uint32_t> strings;
	std::vector<event> events;
	bool last = false;

	static constexpr size_t FULL_EVENTS = 16384, FULL_TEXT = 1 << 20;
	bool full() const { return events.size() >= FULL_EVENTS || text.size() >= FULL_TEXT; }
	void clear() {
		text.clear();
		strings.clear();
		events.clear();
		last = false;
	}
	void add_string(const char *s) {
		size_t len = std::strlen(s) + 1;
		strings.push_back(uint32_t(text.size()));
		text.insert(text.end(), s, s + len);
	}
};

// A few batches go round between the reader and the handler.
class batch_queue {
public:
	batch_queue() {
		for (int i = 0; i < 4; i++)
			free_.push_back(std::make_unique<event_batch>());
	}
	std::unique_ptr<event_batch> take_free() { return take(free_); }
	void give_full(std::unique_ptr<event_batch> b) { give(full_, std::move(b)); }
	std::unique_ptr<event_batch> take_full() { return take(full_); }
	void give_free(std::unique_ptr<event_batch> b) {
		b->clear();
		give(free_, std::move(b));
	}

private:
	std::unique_ptr<event_batch> take(std::deque<std::unique_ptr<event_batch>> &q) {
		std::unique_lock<std::mutex> l(m_);
		cv_.wait(l, [&] { return !q.empty(); });
		auto b = std::move(q.front());
		q.pop_front();
		return b;
	}
	void give(std::deque<std::unique_ptr<event_batch>> &q, std::unique_ptr<event_batch> b) {
		{
			std::lock_guard<std::mutex> l(m_);
			q.push_back(std::move(b));
		}
		cv_.notify_all();
	}

	std::mutex m_;
	std::condition_variable cv_;
	std::deque<std::unique_ptr<event_batch>> free_, full_;
};

// The handler's side: replays batches until the last; the first failure
// (and where it was) is kept and the rest only drained.
struct handler_thread {
	handler_thread(xml_handler &handler, batch_queue &q) : h(handler), queue(q) {}
	xml_handler &h;
	batch_queue &queue;
	std::atomic<bool> failed{false};
	std::optional<std::string> error;
	uint64_t error_at = 0;
	std::exception_ptr foreign;

	void run() {
		std::string name;
		std::vector<const char *> atts;
		for (;;) {
			auto b = queue.take_full();
			for (size_t i = 0; i < b->events.size() && !failed.load(std::memory_order_relaxed); i++) {
				const auto &e = b->events[i];
				const char *text = b->text.data();
				name.assign(text + b->strings[e.first_string]);
				try {
					if (e.start) {
						atts.clear();
						for (uint32_t s = 0; s < 2 * e.nr_atts; s++)
							atts.push_back(text + b->strings[e.first_string + 1 + s]);
						atts.push_back(nullptr);
						h.start(name, xml_attributes(name.c_str(), atts.data()));
					} else
						h.end(name);
				} catch (const std::exception &ex) {
					error = ex.what();
					error_at = e.at;
					failed = true;
				} catch (...) {
					foreign = std::current_exception();
					failed = true;
				}
			}
			bool last = b->last;
			queue.give_free(std::move(b));
			if (last)
				return;
		}
	}
};

// Copies each event into a batch for the handler thread.
class piped_sink : public event_sink {
public:
	piped_sink(batch_queue &q, const handler_thread &consumer)
	    : queue_(q), consumer_(consumer), filling_(q.take_free()) {}
	void start(const char *name, const char *const *atts, uint64_t at) override { add(name, atts, at, true); }
	void end(const char *name, uint64_t at) override { add(name, nullptr, at, false); }
	bool stopped() const override { return consumer_.failed.load(std::memory_order_relaxed); }
	void flush(bool last) {
		filling_->last = last;
		queue_.give_full(std::move(filling_));
		if (!last)
			filling_ = queue_.take_free();
	}

private:
	void add(const char *name, const char *const *atts, uint64_t at, bool start) {
		event_batch &b = *filling_;
		event_batch::event e{at, uint32_t(b.strings.size()), 0, start};
		b.add_string(name);
		if (start)
			for (; atts[2 * e.nr_atts]; e.nr_atts++) {
				b.add_string(atts[2 * e.nr_atts]);
				b.add_string(atts[2 * e.nr_atts + 1]);
			}
		b.events.push_back(e);
		if (b.full())
			flush(false);
	}
	batch_queue &queue_;
	const handler_thread &consumer_;
	std::unique_ptr<event_batch> filling_;
};

// ---- the plain scanner ------------------------------------------------------

// What our own dumps (and the reference's) write is a small, regular part
// of XML: elements with a few attributes in quotes, values of printable
// ASCII without entity references, whitespace between tags, nothing else.
// This reads exactly that part, an order of magnitude faster than expat
// (which validates and normalises far more than such input needs), and
// stops at the first byte it does not take - a comment, an entity, a
// declaration, text, non-ASCII, anything malformed - handing the rest to
// expat, which judges it (and reports any error) as if it had read the
// whole document.
class plain_scanner {
public:
	plain_scanner(xml_source &src, event_sink &sink, progress_bar &bar, uint64_t size)
	    : src_(src), sink_(sink), bar_(bar), size_(size), buf_(2 * READ_SIZE) {}

	// True: the whole document was read (or the handler failed).  False:
	// the scanner stopped at handover() and expat must go on from there.
	bool run();

	uint64_t handover() const { return base_ + pos_; }
	uint64_t end_of_input() const { return base_ + end_; }
	bool started() const { return started_; }
	const std::vector<std::string> &open_elements() const { return open_; }
	const std::string &root() const { return root_; }
	// The bytes read but not taken (from handover() on).
	const char *pending() const { return buf_.data() + pos_; }
	size_t pending_size() const { return end_ - pos_; }

private:
	enum class tag { done, more, foreign };

	// Reads more input behind what is left; false at the end of the input.
	bool fill() {
		if (eof_)
			return false;
		if (pos_ > 0) {
			std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
			base_ += pos_;
			end_ -= pos_;
			pos_ = 0;
		}
		if (buf_.size() - end_ < READ_SIZE)
			buf_.resize(end_ + READ_SIZE);
		size_t n = src_.read(buf_.data() + end_, READ_SIZE);
		end_ += n;
		eof_ = n == 0;
		bar_.update(base_ + end_, size_);
		return n > 0;
	}

	static bool space(char c) { return c == ' ' || c == '\n' || c == '\t'; }
	static bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
	static bool name_char(char c) {
		return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
	}
	static bool value_char(char c) { return c >= 0x20 && c <= 0x7e && c != '<' && c != '&'; }
	// (Names are short: a loop beats a call to memcmp.)
	static bool same(const char *a, size_t na, const char *b, size_t nb) {
		if (na != nb)
			return false;
		for (size_t k = 0; k < na; k++)
			if (a[k] != b[k])
				return false;
		return true;
	}

	tag scan_tag();

	xml_source &src_;
	event_sink &sink_;
	progress_bar &bar_;
	uint64_t size_;
	std::vector<char> buf_;
	size_t pos_ = 0, end_ = 0; // buf_[pos_, end_): read, not yet taken
	uint64_t base_ = 0;        // input index of buf_[0]
	bool eof_ = false;
	bool started_ = false, closed_ = false;
	std::vector<std::string> open_;
	std::string root_;
	// Where the name and each attribute's name and value start and end in
	// buf_, while a start tag is read.
	static constexpr size_t MAX_ATTRIBUTES = 32;
	struct span {
		size_t begin, end;
	};
	span spans_[1 + 2 * MAX_ATTRIBUTES];
	size_t nr_spans_ = 0;
	const char *atts_[2 * MAX_ATTRIBUTES + 1];
};

// Reads the tag at pos_ (a '<'): delivers it and moves past it, or says
// that more input is needed, or that it is not one the scanner takes.
plain_scanner::tag plain_scanner::scan_tag() {
	char *b = buf_.data();
	size_t i = pos_ + 1;
	if (i >= end_)
		return tag::more;
	const uint64_t at = base_ + pos_;
	if (b[i] == '/') {
		size_t name = ++i;
		if (i >= end_)
			return tag::more;
		if (!name_start(b[i]))
			return tag::foreign;
		while (i < end_ && name_char(b[i]))
			i++;
		size_t name_end = i;
		while (i < end_ && space(b[i]))
			i++;
		if (i >= end_)
			return tag::more;
		if (b[i] != '>' || open_.empty() || !same(open_.back().data(), open_.back().size(), b + name, name_end - name))
			return tag::foreign;
		b[name_end] = 0;
		pos_ = i + 1;
		open_.pop_back();
		closed_ = open_.empty();
		sink_.end(b + name, at);
		return tag::done;
	}
	if (closed_ || !name_start(b[i]))
		return tag::foreign; // (a declaration, a comment, junk after the document)
	size_t name = i;
	while (i < end_ && name_char(b[i]))
		i++;
	spans_[0] = {name, i};
	nr_spans_ = 1;
	bool empty = false;
	for (;;) {
		if (i >= end_)
			return tag::more;
		if (b[i] == '>') {
			i++;
			break;
		}
		if (b[i] == '/') {
			if (++i >= end_)
				return tag::more;
			if (b[i] != '>')
				return tag::foreign;
			i++;
			empty = true;
			break;
		}
		if (!space(b[i]))
			return tag::foreign;
		while (i < end_ && space(b[i]))
			i++;
		if (i >= end_)
			return tag::more;
		if (b[i] == '>' || b[i] == '/')
			continue;
		// An attribute: name, '=' (with optional space), quoted value.
		if (!name_start(b[i]) || nr_spans_ == 1 + 2 * MAX_ATTRIBUTES)
			return tag::foreign;
		size_t att = i;
		while (i < end_ && name_char(b[i]))
			i++;
		size_t att_end = i;
		while (i < end_ && space(b[i]))
			i++;
		if (i >= end_)
			return tag::more;
		if (b[i] != '=')
			return tag::foreign;
		for (i++; i < end_ && space(b[i]); i++) {
		}
		if (i >= end_)
			return tag::more;
		char quote = b[i];
		if (quote != '"' && quote != '\'')
			return tag::foreign;
		size_t value = ++i;
		while (i < end_ && b[i] != quote) {
			if (!value_char(b[i]))
				return tag::foreign;
			i++;
		}
		if (i >= end_)
			return tag::more;
		size_t value_end = i++;
		if (i >= end_)
			return tag::more;
		if (!space(b[i]) && b[i] != '/' && b[i] != '>')
			return tag::foreign;
		// (A repeated attribute is an error: expat says so.)
		for (size_t k = 1; k < nr_spans_; k += 2)
			if (same(b + spans_[k].begin, spans_[k].end - spans_[k].begin, b + att, att_end - att))
				return tag::foreign;
		spans_[nr_spans_++] = {att, att_end};
		spans_[nr_spans_++] = {value, value_end};
	}
	// Whole and plain: terminate the strings in place and deliver.
	for (size_t k = 0; k < nr_spans_; k++)
		b[spans_[k].end] = 0;
	for (size_t k = 1; k < nr_spans_; k++)
		atts_[k - 1] = b + spans_[k].begin;
	atts_[nr_spans_ - 1] = nullptr;
	pos_ = i;
	const char *element = b + name;
	if (!started_) {
		started_ = true;
		root_ = element;
	}
	sink_.start(element, atts_, at);
	if (empty) {
		sink_.end(element, at);
		closed_ = open_.empty();
	} else
		open_.emplace_back(element);
	return tag::done;
}

bool plain_scanner::run() {
	// (One tag longer than this is left to expat.)
	constexpr size_t MAX_TAG = 1 << 16;
	for (;;) {
		if (sink_.stopped())
			return true;
		while (pos_ < end_ && space(buf_[pos_]))
			pos_++;
		if (pos_ == end_) {
			if (!fill())
				return started_ && closed_;
			continue;
		}
		if (buf_[pos_] != '<')
			return false;
		switch (scan_tag()) {
		case tag::done: break;
		case tag::foreign: return false;
		case tag::more:
			if (end_ - pos_ > MAX_TAG || !fill())
				return false;
			break;
		}
	}
}

// ---- expat -----------------------------------------------------------------

// Expat, from the start of the input or from where the scanner stopped.  In
// the second case it is first given the start tags of the elements still
// open (or, past the root, the root as an empty element), whose events are
// not passed on, and every index it reports is moved back to the input's.
struct expat_context {
	XML_Parser parser;
	event_sink &sink;
	unsigned skip_starts = 0, skip_ends = 0;
	uint64_t prefix_size = 0, resumed_at = 0;

	uint64_t index() const {
		uint64_t i = uint64_t(XML_GetCurrentByteIndex(parser));
		return resumed_at + (i > prefix_size ? i - prefix_size : 0);
	}
	void check_stopped() {
		if (sink.stopped())
			XML_StopParser(parser, XML_FALSE);
	}
	// An exception must not unwind through expat's C frames: a callback
	// keeps what escaped the sink (the sinks catch the handler's own; a
	// batch that cannot grow throws bad_alloc), stops the parser, and the
	// exception is thrown again once XML_Parse has returned.
	std::exception_ptr escaped;
	void stop_with(std::exception_ptr e) {
		escaped = std::move(e);
		XML_StopParser(parser, XML_FALSE);
	}
	void rethrow_escaped() const {
		if (escaped)
			std::rethrow_exception(escaped);
	}
};

void on_expat_start(void *data, const XML_Char *name, const XML_Char **atts) {
	auto c = static_cast<expat_context *>(data);
	if (c->skip_starts) {
		c->skip_starts--;
		return;
	}
	try {
		c->sink.start(name, atts, c->index());
		c->check_stopped();
	} catch (...) {
		c->stop_with(std::current_exception());
	}
}

void on_expat_end(void *data, const XML_Char *name) {
	auto c = static_cast<expat_context *>(data);
	if (c->skip_ends) {
		c->skip_ends--;
		return;
	}
	try {
		c->sink.end(name, c->index());
		c->check_stopped();
	} catch (...) {
		c->stop_with(std::current_exception());
	}
}

using parser_ptr = std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)>;

parser_ptr new_parser() {
	parser_ptr p(XML_ParserCreate(nullptr), XML_ParserFree);
	if (!p)
		throw std::bad_alloc();
	return p;
}

struct parse_outcome {
	std::optional<std::string> xml_error; // "FILE:LINE:COL: what"
	// Where the input ended (for what finish() finds): expat's line and
	// column, or the index of the end, found again only if needed.
	uint64_t line = 1, column = 1;
	std::optional<uint64_t> end_index;
};

// Expat's error, at its place in the input.
std::string expat_error(const expat_context &c, const std::string &path) {
	std::string what = XML_ErrorString(XML_GetErrorCode(c.parser));
	if (c.prefix_size == 0)
		return where(path, XML_GetCurrentLineNumber(c.parser), XML_GetCurrentColumnNumber(c.parser) + 1) + what;
	auto [line, column] = position_of(path, c.index());
	return where(path, line, column) + what;
}

// Parses N bytes at DATA (LAST: the input ends there); false when expat
// failed or was stopped.
bool feed(expat_context &c, const char *data, size_t n, bool last, parse_outcome &out, const std::string &path) {
	auto status = XML_Parse(c.parser, data, int(n), last);
	c.rethrow_escaped();
	if (status != XML_STATUS_ERROR)
		return true;
	if (XML_GetErrorCode(c.parser) != XML_ERROR_ABORTED)
		out.xml_error = expat_error(c, path);
	return false;
}

// Reads the input into SINK: the plain scanner as long as the input keeps
// to what it takes, expat from there (or, when the scanner stopped before
// the root element, expat over the whole input from its start).
parse_outcome parse(const std::string &path, xml_source &src, event_sink &sink, progress_bar &bar, uint64_t size,
                    xml_scanner scanner) {
	parse_outcome out;
	std::unique_ptr<plain_scanner> plain;
	if (scanner == xml_scanner::fast) {
		plain = std::make_unique<plain_scanner>(src, sink, bar, size);
		if (plain->run()) {
			out.end_index = plain->end_of_input();
			return out;
		}
	}
	parser_ptr parser = new_parser();
	expat_context c{parser.get(), sink, 0, 0, 0, 0, nullptr};
	XML_SetUserData(parser.get(), &c);
	XML_SetElementHandler(parser.get(), on_expat_start, on_expat_end);
	std::unique_ptr<xml_source> again;
	xml_source *from = &src;
	if (plain && !plain->started()) {
		// Nothing delivered: expat reads everything, from the beginning.
		again = std::make_unique<xml_source>(path);
		from = again.get();
	} else if (plain) {
		std::string prefix;
		if (!plain->open_elements().empty()) {
			for (const auto &e : plain->open_elements())
				prefix += "<" + e + ">";
			c.skip_starts = unsigned(plain->open_elements().size());
		} else {
			prefix = "<" + plain->root() + "/>";
			c.skip_starts = c.skip_ends = 1;
		}
		c.prefix_size = prefix.size();
		c.resumed_at = plain->handover();
		if (!feed(c, prefix.data(), prefix.size(), false, out, path) ||
		    !feed(c, plain->pending(), plain->pending_size(), false, out, path))
			return out;
	}
	uint64_t consumed = plain ? plain->end_of_input() : 0;
	for (;;) {
		if (sink.stopped())
			return out;
		void *buf = XML_GetBuffer(parser.get(), int(READ_SIZE));
		if (!buf)
			throw std::bad_alloc();
		size_t n = from->read(static_cast<char *>(buf), READ_SIZE);
		bool last = n == 0;
		auto status = XML_ParseBuffer(parser.get(), int(n), last);
		c.rethrow_escaped();
		if (status == XML_STATUS_ERROR) {
			if (XML_GetErrorCode(parser.get()) != XML_ERROR_ABORTED)
				out.xml_error = expat_error(c, path);
			return out;
		}
		consumed += n;
		bar.update(consumed, size);
		if (last)
			break;
	}
	if (c.prefix_size == 0) {
		out.line = XML_GetCurrentLineNumber(parser.get());
		out.column = XML_GetCurrentColumnNumber(parser.get()) + 1;
	} else
		out.end_index = c.index();
	return out;
}

void finish(const std::string &path, const parse_outcome &o, xml_handler &h) {
	try {
		h.finish();
	} catch (const std::exception &e) {
		auto [line, column] = o.end_index ? position_of(path, *o.end_index) : std::pair{o.line, o.column};
		throw error(where(path, line, column) + e.what());
	}
}

void read_direct(const std::string &path, xml_source &src, xml_handler &h, progress_bar &bar, uint64_t size,
                 xml_scanner scanner) {
	direct_sink sink(h);
	parse_outcome o = parse(path, src, sink, bar, size, scanner);
	if (sink.foreign)
		std::rethrow_exception(sink.foreign);
	if (sink.error) {
		auto [line, column] = position_of(path, sink.error_at);
		throw error(where(path, line, column) + *sink.error);
	}
	if (o.xml_error)
		throw error(*o.xml_error);
	finish(path, o, h);
}

void read_piped(const std::string &path, xml_source &src, xml_handler &h, progress_bar &bar, uint64_t size,
                xml_scanner scanner) {
	batch_queue queue;
	handler_thread consumer(h, queue);
	piped_sink sink(queue, consumer);
	std::thread worker([&] { consumer.run(); });
	parse_outcome o;
	std::exception_ptr reading;
	try {
		o = parse(path, src, sink, bar, size, scanner);
	} catch (...) {
		reading = std::current_exception();
	}
	sink.flush(true);
	worker.join();
	// The first failure in document order: the handler's (it saw only
	// events before any the parser or the input failed at), then the
	// parser's, then the input's.
	if (consumer.foreign)
		std::rethrow_exception(consumer.foreign);
	if (consumer.error) {
		auto [line, column] = position_of(path, consumer.error_at);
		throw error(where(path, line, column) + *consumer.error);
	}
	if (reading)
		std::rethrow_exception(reading);
	if (o.xml_error)
		throw error(*o.xml_error);
	finish(path, o, h);
}

} // namespace

void read_xml(const std::string &path, xml_handler &h, const std::string &progress_label, xml_threads threads,
              xml_scanner scanner) {
	file_facts facts = inspect_path(path);
	xml_source src(path);
	progress_bar bar(progress_label.empty() ? "Reading" : progress_label,
	                 !progress_label.empty() && !src.compressed() && facts.size > 0);
	bool two = threads == xml_threads::two || (threads == xml_threads::automatic && usable_cores() >= 2);
	if (two)
		read_piped(path, src, h, bar, facts.size, scanner);
	else
		read_direct(path, src, h, bar, facts.size, scanner);
}

} // namespace base
