#include "base/output.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace {

// What an output_sink wrote, through a temporary file.
template <typename F> std::string written(F f) {
	FILE *tmp = std::tmpfile();
	{
		base::output_sink out(fileno(tmp), "tmp");
		f(out);
		out.flush();
	}
	std::string text;
	std::rewind(tmp);
	for (int c; (c = std::fgetc(tmp)) != EOF;)
		text += char(c);
	std::fclose(tmp);
	return text;
}

TEST(OutputSink, NumbersAreWrittenInDecimal) {
	const uint64_t values[] = {0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 12345, 4294967295u, 10000000000000000000u,
	                           UINT64_MAX};
	std::string want;
	for (uint64_t v : values)
		want += std::to_string(v) + " ";
	EXPECT_EQ(written([&](base::output_sink &o) {
		          for (uint64_t v : values)
			          o.put_u64(v).put(' ');
	          }),
	          want);
}

TEST(OutputSink, ANumberAtTheBufferEdgeIsWhole) {
	// Past the 1 MiB buffer: every number still comes out whole and in order.
	std::string want;
	for (uint64_t v = 0; v < 300000; v++)
		want += std::to_string(v * 7919) + ",";
	EXPECT_EQ(written([&](base::output_sink &o) {
		          for (uint64_t v = 0; v < 300000; v++)
			          o.put_u64(v * 7919).put(',');
	          }),
	          want);
}

} // namespace
