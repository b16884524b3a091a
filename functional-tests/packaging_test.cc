// Distribution integration: the Debian package (fields, contents, and tools
// that answer LVM's calls once unpacked), the dracut module's install step,
// and the initramfs-tools hook in a real mkinitramfs image.
#include "functional-tests/harness.h"

#include "base/version.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

namespace {

std::string src(const std::string &rel) {
	const char *s = std::getenv("DMPD_SRC");
	return std::string(s ? s : ".") + "/" + rel;
}

TEST(Packaging, DebianPackageReplacesTheReferenceAndItsToolsWork) {
	ft::scratch dir;
	auto b = ft::run({src("build-aux/make-deb.sh"), ft::tool(""), dir.path("out")});
	ASSERT_EQ(b.status, 0) << b.err;
	std::string deb = b.out.substr(0, b.out.find('\n'));
	auto field = [&](const char *f) {
		auto r = ft::run({"dpkg-deb", "-f", deb, f});
		return r.out.substr(0, r.out.find('\n'));
	};
	EXPECT_EQ(field("Package"), "dmpd");
	EXPECT_EQ(field("Version"), std::string(base::VERSION));
	// (A versioned Provides: packages that depend on a minimum version of
	// thin-provisioning-tools accept ours.)
	EXPECT_EQ(field("Provides"), "thin-provisioning-tools (= " + std::string(base::VERSION) + ")");
	for (const char *f : {"Conflicts", "Replaces"})
		EXPECT_EQ(field(f), "thin-provisioning-tools") << f;
	auto contents = ft::run({"dpkg-deb", "-c", deb}).out;
	for (const char *path : {"./usr/sbin/pdata_tools", "./usr/sbin/thin_check -> pdata_tools",
	                         "./usr/sbin/cache_check -> pdata_tools", "./usr/share/man/man8/thin_check.8",
	                         "./usr/share/initramfs-tools/hooks/dmpd", "./usr/lib/dracut/modules.d/90dmpd/module-setup.sh",
	                         "./usr/share/bash-completion/completions/thin_check -> dmpd"})
		EXPECT_NE(contents.find(path), std::string::npos) << path << "\n" << contents;

	std::string root = dir.path("root");
	ASSERT_EQ(ft::run({"dpkg", "-x", deb, root}).status, 0);
	std::string sbin = root + "/usr/sbin/";
	struct stat st;
	ASSERT_EQ(::stat((sbin + "pdata_tools").c_str(), &st), 0);
	EXPECT_LT(st.st_size, 3 << 20) << "the stripped binary is over 3 MB";
	auto ldd = ft::run({"ldd", sbin + "pdata_tools"}).out;
	for (const char *unwanted : {"boost", "expat", "libz", "bz2"})
		EXPECT_EQ(ldd.find(unwanted), std::string::npos) << ldd;
	// LVM's calls.
	auto v = ft::run({sbin + "thin_check", "-V"});
	EXPECT_EQ(v.out, std::string(base::VERSION) + "\n");
	std::string img = dir.path("meta.img");
	ft::gunzip(ft::fixture("kernel/thin-basic/meta.img.gz"), img);
	auto c = ft::run({sbin + "thin_check", "-q", "--clear-needs-check-flag", img});
	EXPECT_EQ(c.status, 0) << c.err;
	EXPECT_EQ(c.out + c.err, "");
	auto d = ft::run({sbin + "thin_dump", img});
	EXPECT_EQ(d.out.rfind("<superblock uuid=\"\" time=\"2\" transaction=\"2\"", 0), 0u) << d.out.substr(0, 200);
	EXPECT_EQ(ft::run({sbin + "cache_check", "-V"}).status, 0);
}

TEST(Packaging, DracutModuleInstallsTheBinaryAndTheLinksLvmCalls) {
	std::string script = "require_binaries() { echo \"require $*\"; return 0; }\n"
	                     "inst_binary() { echo \"binary $*\"; }\n"
	                     "inst_symlink() { echo \"symlink $*\"; }\n"
	                     ". " + src("contrib/dracut/90dmpd/module-setup.sh") + "\n"
	                     "check; echo \"check=$?\"\n"
	                     "install\n";
	auto r = ft::run({"bash", "-c", script});
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_NE(r.out.find("require pdata_tools\ncheck=255\n"), std::string::npos) << r.out;
	EXPECT_NE(r.out.find("binary pdata_tools\n"), std::string::npos) << r.out;
	for (const char *t : {"thin_check", "thin_repair", "thin_dump", "thin_restore", "cache_check", "cache_repair",
	                      "cache_dump", "cache_restore"})
		EXPECT_NE(r.out.find(std::string("symlink /usr/sbin/") + t + " /usr/sbin/pdata_tools\n"), std::string::npos)
		    << t << "\n" << r.out;
	// Without the binary the module declines.
	auto none = ft::run({"bash", "-c", "require_binaries() { return 1; }\n. " +
	                                      src("contrib/dracut/90dmpd/module-setup.sh") + "\ncheck; echo $?"});
	EXPECT_EQ(none.out, "1\n");
}

// A real initramfs: mkinitramfs with our hook, for a stand-in kernel
// version (an empty module tree and a config saying gzip is supported);
// then the checker runs inside the unpacked image under chroot.
TEST(Packaging, InitramfsToolsHookPutsTheCheckerInTheImage) {
	if (::geteuid() != 0)
		GTEST_SKIP() << "needs root: mkinitramfs for a stand-in kernel and chroot";
	ASSERT_EQ(::access("/usr/sbin/mkinitramfs", X_OK), 0) << "initramfs-tools is not installed (build-aux/deps.sh test)";
	ft::scratch dir;
	const std::string version = "0.0-dmpd-test", modules = "/lib/modules/" + version, config = "/boot/config-" + version;
	ft::run({"mkdir", "-p", modules, "/boot"});
	ft::write_file(modules + "/modules.order", "");
	ft::write_file(modules + "/modules.builtin", "");
	ft::write_file(config, "CONFIG_RD_GZIP=y\n");
	struct cleanup {
		std::string m, c;
		~cleanup() {
			ft::run({"rm", "-rf", m, c});
		}
	} remove_stand_in{modules, config};

	// The tools as installed, and a configuration that asks for them.
	std::string sbin = dir.path("sbin"), conf = dir.path("conf");
	ASSERT_EQ(ft::run({"mkdir", "-p", sbin, conf + "/hooks", conf + "/conf.d", conf + "/scripts"}).status, 0);
	ASSERT_EQ(ft::run({"cp", ft::tool("pdata_tools"), sbin + "/pdata_tools"}).status, 0);
	ft::run({"cp", "-r", "/etc/initramfs-tools/.", conf});
	ASSERT_EQ(ft::run({"cp", src("contrib/initramfs-tools/hooks/dmpd"), conf + "/hooks/dmpd"}).status, 0);
	ft::write_file(conf + "/conf.d/dmpd", "DMPD_ALWAYS=y\nexport DMPD_ALWAYS\n");
	std::string image = dir.path("initrd.img");
	auto mk = ft::run({"env", "DMPD_SBIN=" + sbin, "DMPD_ALWAYS=y", "mkinitramfs", "-d", conf, "-o", image, version});
	ASSERT_EQ(mk.status, 0) << mk.err;

	auto list = ft::run({"lsinitramfs", image}).out;
	for (const char *f : {"usr/sbin/pdata_tools", "usr/sbin/thin_check", "usr/sbin/thin_repair", "usr/sbin/cache_check"})
		EXPECT_NE(list.find(f), std::string::npos) << f;
	std::string unpacked = dir.path("unpacked");
	ASSERT_EQ(ft::run({"unmkinitramfs", image, unpacked}).status, 0);
	std::string root = ::access((unpacked + "/main").c_str(), F_OK) == 0 ? unpacked + "/main" : unpacked;
	auto v = ft::run({"chroot", root, "/usr/sbin/thin_check", "-V"});
	EXPECT_EQ(v.status, 0) << v.err;
	EXPECT_EQ(v.out, std::string(base::VERSION) + "\n");
	ft::gunzip(ft::fixture("kernel/thin-basic/meta.img.gz"), root + "/meta.img");
	auto c = ft::run({"chroot", root, "/usr/sbin/thin_check", "/meta.img"});
	EXPECT_EQ(c.status, 0) << c.err;
	EXPECT_NE(c.out.find("TRANSACTION_ID=2"), std::string::npos) << c.out;
}

} // namespace
