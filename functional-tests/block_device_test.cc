// Writers and block devices: a loop device stands in for a metadata LV.
// Writers open it O_EXCL, so a device someone holds (a mounted or active
// device, here: this test holding it exclusively) is refused with a clear
// message; a free one is written, its size taken from the device.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

namespace {

// A loop device over a scratch file, detached at the end.
class loop_device {
public:
	explicit loop_device(const std::string &file) {
		auto r = ft::run({"losetup", "-f", "--show", file});
		if (r.status == 0)
			path_ = r.out.substr(0, r.out.find('\n'));
		else
			why_ = r.err;
	}
	~loop_device() {
		if (!path_.empty())
			ft::run({"losetup", "-d", path_});
	}
	const std::string &path() const { return path_; }
	const std::string &why_not() const { return why_; }

private:
	std::string path_, why_;
};

TEST(BlockDevice, WritersRefuseADeviceInUseAndWriteAFreeOne) {
	ft::scratch dir;
	std::string backing = dir.path("lv.img"), meta = dir.path("meta.img"), xml = dir.path("meta.xml");
	ft::make_zero_file(backing, 8 << 20);
	ft::make_zero_file(meta, 8 << 20);
	ASSERT_EQ(ft::run({ft::tool("thin_generate_metadata"), "-q", "-o", meta, "--devices", "2", "--mappings",
	                   "500", "--xml", xml})
	              .status,
	          0);
	loop_device lv(backing);
	if (lv.path().empty())
		GTEST_SKIP() << "no loop device here (losetup: " << lv.why_not() << "); needs root and /dev/loop*";

	{
		int held = ::open(lv.path().c_str(), O_RDONLY | O_EXCL);
		ASSERT_GE(held, 0);
		auto r = ft::run({ft::tool("thin_restore"), "-i", xml, "-o", lv.path()});
		EXPECT_EQ(r.status, 1);
		EXPECT_NE(r.err.find(lv.path() + ": device is in use"), std::string::npos) << r.err;
		auto p = ft::run({ft::tool("thin_repair"), "-i", meta, "-o", lv.path()});
		EXPECT_EQ(p.status, 1);
		EXPECT_NE(p.err.find("in use"), std::string::npos) << p.err;
		::close(held);
	}
	auto r = ft::run({ft::tool("thin_restore"), "-i", xml, "-o", lv.path()});
	EXPECT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(ft::run({ft::tool("thin_check"), lv.path()}).status, 0);
	EXPECT_EQ(ft::run({ft::tool("thin_dump"), lv.path()}).out, ft::read_file(xml));
	// The whole device is the metadata: 8 MiB = 2048 blocks.
	EXPECT_NE(ft::run({ft::tool("thin_check"), lv.path()}).out.find("METADATA_FREE_BLOCKS=2047"),
	          std::string::npos);
}

} // namespace
