// base::read_xml in one thread and in two, with the plain scanner in front
// of expat and with expat alone: the handler must see the same events, and
// every error must read the same, position included.
#include "base/xml_reader.h"

#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filtering_stream.hpp>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

class temp_file {
public:
	// GZ: written gzip-compressed, under a name ending in ".gz".
	explicit temp_file(const std::string &text, bool gz = false) {
		std::string name = gz ? "/tmp/dmpd-xml-XXXXXX.gz" : "/tmp/dmpd-xml-XXXXXX";
		int fd = mkstemps(name.data(), gz ? 3 : 0);
		if (fd < 0)
			throw std::runtime_error("mkstemps");
		::close(fd);
		path = name;
		if (!gz) {
			std::ofstream(path, std::ios::binary) << text;
			return;
		}
		std::ofstream file(path, std::ios::binary);
		boost::iostreams::filtering_ostream out;
		out.push(boost::iostreams::gzip_compressor());
		out.push(file);
		out << text;
	}
	~temp_file() { std::remove(path.c_str()); }
	std::string path;
};

// Records every event as text; throws where told to, as a restore's
// handler rejects what it cannot build.
class recorder : public base::xml_handler {
public:
	void start(const std::string &el, const base::xml_attributes &a) override {
		log += "<" + el;
		for (const char *n : {"n", "v", "bad"})
			if (a.find(n))
				log += std::string(" ") + n + "=" + a.text(n);
		log += ">";
		if (el == "reject")
			throw base::xml_input_error("rejected");
		if (el == "num")
			log += std::to_string(a.number("v", 1000));
		if (el == "bool")
			log += a.boolean("v") ? "T" : "F";
		if (++starts == fail_at)
			throw std::runtime_error("the handler gave up");
		if (starts == foreign_at)
			throw 42; // not a std::exception: it must come out as it is

	}
	void end(const std::string &el) override { log += "</" + el + ">"; }
	void finish() override {
		log += "|finish";
		if (open_at_end)
			throw base::xml_input_error("left open");
	}
	std::string log;
	size_t starts = 0, fail_at = 0, foreign_at = 0;
	bool open_at_end = false;
};

struct outcome {
	std::string log, error;
};

outcome read(const std::string &path, base::xml_threads threads, base::xml_scanner scanner, size_t fail_at = 0,
             bool open_at_end = false) {
	recorder r;
	r.fail_at = fail_at;
	r.open_at_end = open_at_end;
	outcome o;
	try {
		base::read_xml(path, r, "", threads, scanner);
	} catch (const std::exception &e) {
		o.error = e.what();
	}
	o.log = r.log;
	return o;
}

// All four ways, with the same result as expat alone in one thread; that
// outcome.
outcome both(const std::string &text, size_t fail_at = 0, bool open_at_end = false, bool gz = false) {
	temp_file f(text, gz);
	using base::xml_scanner;
	using base::xml_threads;
	auto one = read(f.path, xml_threads::one, xml_scanner::expat, fail_at, open_at_end);
	for (auto threads : {xml_threads::one, xml_threads::two})
		for (auto scanner : {xml_scanner::expat, xml_scanner::fast}) {
			auto other = read(f.path, threads, scanner, fail_at, open_at_end);
			std::string way = std::string(threads == xml_threads::two ? "two threads, " : "one thread, ") +
			                  (scanner == xml_scanner::fast ? "scanner" : "expat");
			EXPECT_EQ(one.error, other.error) << way << ": " << text.substr(0, 200);
			EXPECT_EQ(one.log, other.log) << way << ": " << text.substr(0, 200);
		}
	if (!one.error.empty()) {
		// (Starting with the file's name, which the tests leave out.)
		EXPECT_EQ(one.error.rfind(f.path + ":", 0), 0u) << one.error;
		one.error = one.error.substr(f.path.size());
	}
	return one;
}

TEST(XmlReader, BothWaysGiveTheSameEvents) {
	auto o = both("<a n=\"1\"><b v=\"x&amp;y\"/><num v=\"0042\"/><bool v=\"true\"/></a>");
	EXPECT_EQ(o.error, "");
	EXPECT_EQ(o.log, "<a n=1><b v=x&y></b><num v=0042>42</num><bool v=true>T</bool></a>|finish");
}

TEST(XmlReader, ManyEventsCrossBatchesInOrder) {
	std::string text = "<a>";
	std::string want = "<a>";
	for (int i = 0; i < 100000; i++) {
		text += "<b n=\"" + std::to_string(i) + "\"/>\n";
		want += "<b n=" + std::to_string(i) + "></b>";
	}
	text += "</a>";
	want += "</a>|finish";
	auto o = both(text);
	EXPECT_EQ(o.error, "");
	EXPECT_EQ(o.log, want);
}

TEST(XmlReader, AHandlerErrorNamesTheElementsPosition) {
	// Line 3, column 3 (from 1): the '<' of <reject>, after a two-byte
	// UTF-8 character that counts once.
	auto o = both("<a>\n<b v=\"\xc3\xa9\"/>\n\xc3\xa9 <reject/>\n</a>");
	EXPECT_EQ(o.error, ":3:3: rejected");
	auto crlf = both("<a>\r\n<b/>\r\n  <reject/></a>");
	EXPECT_EQ(crlf.error, ":3:3: rejected");
}

TEST(XmlReader, ACompressedInputReadsAndPlacesErrorsTheSame) {
	// (In two threads the position is found by reading the input again:
	// through the decompressor here.)
	auto o = both("<a>\n<b v=\"1\"/>\n  <reject/>\n</a>", 0, false, true);
	EXPECT_EQ(o.error, ":3:3: rejected");
	auto ok = both("<a><b n=\"7\"/></a>", 0, false, true);
	EXPECT_EQ(ok.error, "");
	EXPECT_EQ(ok.log, "<a><b n=7></b></a>|finish");
}

TEST(XmlReader, BadNumbersAndBooleansAreNamed) {
	EXPECT_EQ(both("<a>\n <num v=\"12x\"/></a>").error,
	          ":2:2: attribute 'v' of <num> is not a natural number: '12x'");
	EXPECT_EQ(both("<num v=\"\"/>").error, ":1:1: attribute 'v' of <num> is not a natural number: ''");
	EXPECT_EQ(both("<num v=\"1001\"/>").error, ":1:1: attribute 'v' of <num> is too large: 1001");
	EXPECT_EQ(both("<num v=\"99999999999999999999\"/>").error,
	          ":1:1: attribute 'v' of <num> is too large: 99999999999999999999");
	EXPECT_EQ(both("<num v=\"-1\"/>").error, ":1:1: attribute 'v' of <num> is not a natural number: '-1'");
	EXPECT_EQ(both("<num/>").error, ":1:1: missing attribute 'v' in <num>");
	EXPECT_EQ(both("<bool v=\"yes\"/>").error, ":1:1: attribute 'v' of <bool> is not true or false: 'yes'");
}

TEST(XmlReader, TheFirstErrorInTheDocumentWins) {
	// The handler fails before the document turns malformed: the handler's
	// error, though in two threads the parser gets further first.
	std::string text = "<a>";
	for (int i = 0; i < 50000; i++)
		text += "<b/>";
	text += "<reject/>";
	for (int i = 0; i < 50000; i++)
		text += "<b/>";
	text += "<unclosed></a>";
	auto o = both(text);
	EXPECT_EQ(o.error, ":1:200004: rejected");
	// Malformed before anything the handler rejects: expat's error.
	auto m = both("<a>\n<b></c><reject/></a>");
	EXPECT_EQ(m.error, ":2:6: mismatched tag");
}

TEST(XmlReader, AnyHandlerExceptionStopsTheRead) {
	auto o = both("<a><b/><b/><b/><b/></a>", 3);
	EXPECT_EQ(o.error, ":1:8: the handler gave up");
	EXPECT_EQ(o.log.find("|finish"), std::string::npos);
}

// The handler throws at the first, a middle and the last element: one and
// two threads, scanner and expat alike, stop there with the error at that
// element's place, and nothing unwinds through expat (a foreign exception
// comes out as it was thrown).
TEST(XmlReader, AHandlerThrowingAnywhereStopsTheReadAtThatElement) {
	std::string text = "<a>\n";
	for (int i = 0; i < 40000; i++)
		text += "  <b n=\"" + std::to_string(i) + "\"/>\n";
	text += "  <c/>\n</a>\n";
	// Element K (from 1) is on line K: <a> on 1, <b n="k-2"> on k, <c/> last.
	for (size_t k : {size_t(1), size_t(20001), size_t(40002)}) {
		auto o = both(text, k);
		EXPECT_EQ(o.error, ":" + std::to_string(k) + ":" + (k == 1 ? "1" : "3") + ": the handler gave up") << k;
		EXPECT_EQ(o.log.find("|finish"), std::string::npos) << k;
		temp_file f(text);
		for (auto threads : {base::xml_threads::one, base::xml_threads::two})
			for (auto scanner : {base::xml_scanner::expat, base::xml_scanner::fast}) {
				recorder r;
				r.foreign_at = k;
				int thrown = 0;
				try {
					base::read_xml(f.path, r, "", threads, scanner);
				} catch (int v) {
					thrown = v;
				}
				EXPECT_EQ(thrown, 42) << k;
				EXPECT_EQ(r.starts, k) << "the read went on past the element that threw";
			}
	}
}

TEST(XmlReader, FinishSpeaksAtTheEnd) {
	EXPECT_EQ(both("<a>\n</a>\n", 0, true).error, ":3:1: left open");
	EXPECT_EQ(both("<a>\n<b>").error, ":2:4: no element found");
}

// What the plain scanner does not take, at the start, in the middle and at
// the end of a document: expat must take over there and judge it as if it
// had read everything, events and errors alike.
TEST(XmlReader, TheScannerHandsWhatItDoesNotTakeToExpat) {
	const std::vector<std::string> tails = {
	    "", "<!-- a comment --><b n=\"1\"/>", "<b v=\"x&amp;y\"/>", "<b v=\"&#65;\"/>", "<b v='single'/>",
	    "<b v=\"tab\there\"/>", "<b v=\"line\nbreak\"/>", "<b\r\nv=\"1\"/>", "text<b/>", "<b v=\"\xc3\xa9\"/>",
	    "<b v=\"\xff\"/>", "<ns:b/>", "<b n=\"1\" n=\"2\"/>", "<b n=\"1\"v=\"2\"/>", "<b n = \"1\" />",
	    "<b n=1/>", "<b></c>", "<b>", "</a></a>", "<b/", "<b n=\"1", "<?pi x?>", "<![CDATA[x]]>", "<b v=\"a>b\"/>",
	    "<b v=\"a<b\"/>", "<b\x01/>", "<reject/>", "< b/>", "<b/ >", "<b\tv=\"1\"\n/>", "<b v=\"\"/>"};
	for (const auto &t : tails) {
		both("<a>" + t + "</a>");
		both("<a><b/>\n  " + t + "\n<b/></a>\n");
		both("<a/>" + t);
		both(t + "<a/>");
		both("<?xml version=\"1.0\"?>\n<a>" + t + "</a>");
		both("  <a>" + t + "</a>");
	}
	both("");
	both("   \n");
	both("<a></a>junk");
	both("<a></a><a></a>");
	both("\xef\xbb\xbf<a/>");
}

// Tags across the scanner's 1 MiB reads, and a tag too long for it.
TEST(XmlReader, TheScannerReadsAcrossItsBuffers) {
	std::string text = "<a>";
	for (int i = 0; text.size() < (3 << 20); i++)
		text += "<b n=\"" + std::to_string(i) + "\" v=\"" + std::string(size_t(i % 97), 'x') + "\"/>\n";
	text += "<b v=\"" + std::string(100000, 'y') + "\"/>";
	text += "<b n=\"1\"/></a>";
	EXPECT_EQ(both(text).error, "");
	EXPECT_NE(both(text.substr(0, text.size() - 2)).error, "");
}

TEST(XmlReader, AMissingFileIsNamed) {
	recorder r;
	try {
		base::read_xml("/nonexistent/x.xml", r);
		FAIL() << "no error";
	} catch (const std::exception &e) {
		EXPECT_NE(std::string(e.what()).find("/nonexistent/x.xml"), std::string::npos) << e.what();
	}
}

} // namespace
