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

void drive_parser(XML_Parser p, xml_source &src, progress_bar &bar, uint64_t size,
                  const std::atomic<bool> *stop, std::optional<std::string> &xml_error,
                  const std::string &path) {
	uint64_t consumed = 0;
	for (;;) {
		if (stop && stop->load(std::memory_order_relaxed))
			return;
		void *buf = XML_GetBuffer(p, int(READ_SIZE));
		if (!buf)
			throw std::bad_alloc();
		size_t n = src.read(static_cast<char *>(buf), READ_SIZE);
		bool last = n == 0;
		if (XML_ParseBuffer(p, int(n), last) == XML_STATUS_ERROR) {
			if (XML_GetErrorCode(p) != XML_ERROR_ABORTED)
				xml_error = where(path, XML_GetCurrentLineNumber(p), XML_GetCurrentColumnNumber(p) + 1) +
				            XML_ErrorString(XML_GetErrorCode(p));
			return;
		}
		consumed += n;
		bar.update(consumed, size);
		if (last)
			return;
	}
}

// ---- one thread ------------------------------------------------------------

struct direct_context {
	xml_handler *h;
	XML_Parser parser;
	std::optional<std::string> error;
	std::exception_ptr foreign; // not a std::exception: rethrown as it is
	std::string name;
	XML_Size line = 0, column = 0;

	// (The position is taken now: it is the element's.)
	void fail(const char *what) {
		error = what;
		line = XML_GetCurrentLineNumber(parser);
		column = XML_GetCurrentColumnNumber(parser) + 1;
		XML_StopParser(parser, XML_FALSE);
	}
	void fail_foreign() {
		foreign = std::current_exception();
		XML_StopParser(parser, XML_FALSE);
	}
};

// ---- two threads -----------------------------------------------------------

// Events as expat hands them over, copied so that the handler can run in the
// other thread: names and values NUL-terminated in TEXT, each event's
// strings found by offset.
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

// A few batches go round between the parser and the handler.
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

struct piped_context {
	XML_Parser parser;
	batch_queue queue;
	std::unique_ptr<event_batch> filling;

	void add(const char *name, const char **atts, bool start) {
		event_batch &b = *filling;
		event_batch::event e{uint64_t(XML_GetCurrentByteIndex(parser)), uint32_t(b.strings.size()), 0, start};
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
	void flush(bool last) {
		filling->last = last;
		queue.give_full(std::move(filling));
		if (!last)
			filling = queue.take_free();
	}
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

void on_direct_start(void *data, const XML_Char *name, const XML_Char **atts) {
	auto c = static_cast<direct_context *>(data);
	try {
		c->name.assign(name);
		c->h->start(c->name, xml_attributes(name, atts));
	} catch (const std::exception &e) {
		c->fail(e.what());
	} catch (...) {
		c->fail_foreign();
	}
}

void on_direct_end(void *data, const XML_Char *name) {
	auto c = static_cast<direct_context *>(data);
	try {
		c->name.assign(name);
		c->h->end(c->name);
	} catch (const std::exception &e) {
		c->fail(e.what());
	} catch (...) {
		c->fail_foreign();
	}
}

void on_piped_start(void *data, const XML_Char *name, const XML_Char **atts) {
	static_cast<piped_context *>(data)->add(name, atts, true);
}

void on_piped_end(void *data, const XML_Char *name) {
	static_cast<piped_context *>(data)->add(name, nullptr, false);
}

using parser_ptr = std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)>;

parser_ptr new_parser() {
	parser_ptr p(XML_ParserCreate(nullptr), XML_ParserFree);
	if (!p)
		throw std::bad_alloc();
	return p;
}

void finish(const std::string &path, XML_Parser p, xml_handler &h) {
	try {
		h.finish();
	} catch (const std::exception &e) {
		throw error(where(path, XML_GetCurrentLineNumber(p), XML_GetCurrentColumnNumber(p) + 1) + e.what());
	}
}

void read_direct(const std::string &path, xml_source &src, xml_handler &h, progress_bar &bar, uint64_t size) {
	parser_ptr parser = new_parser();
	direct_context c{&h, parser.get(), {}, {}, {}, 0, 0};
	XML_SetUserData(parser.get(), &c);
	XML_SetElementHandler(parser.get(), on_direct_start, on_direct_end);
	std::optional<std::string> xml_error;
	drive_parser(parser.get(), src, bar, size, nullptr, xml_error, path);
	if (c.foreign)
		std::rethrow_exception(c.foreign);
	if (c.error)
		throw error(where(path, c.line, c.column) + *c.error);
	if (xml_error)
		throw error(*xml_error);
	finish(path, parser.get(), h);
}

void read_piped(const std::string &path, xml_source &src, xml_handler &h, progress_bar &bar, uint64_t size) {
	parser_ptr parser = new_parser();
	piped_context c{parser.get(), {}, {}};
	c.filling = c.queue.take_free();
	XML_SetUserData(parser.get(), &c);
	XML_SetElementHandler(parser.get(), on_piped_start, on_piped_end);
	handler_thread consumer(h, c.queue);
	std::thread worker([&] { consumer.run(); });
	std::optional<std::string> xml_error;
	std::exception_ptr reading;
	try {
		drive_parser(parser.get(), src, bar, size, &consumer.failed, xml_error, path);
	} catch (...) {
		reading = std::current_exception();
	}
	c.flush(true);
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
	if (xml_error)
		throw error(*xml_error);
	finish(path, parser.get(), h);
}

} // namespace

void read_xml(const std::string &path, xml_handler &h, const std::string &progress_label, xml_threads threads) {
	file_facts facts = inspect_path(path);
	xml_source src(path);
	progress_bar bar(progress_label.empty() ? "Reading" : progress_label,
	                 !progress_label.empty() && !src.compressed() && facts.size > 0);
	bool two = threads == xml_threads::two || (threads == xml_threads::automatic && usable_cores() >= 2);
	if (two)
		read_piped(path, src, h, bar, facts.size);
	else
		read_direct(path, src, h, bar, facts.size);
}

} // namespace base
