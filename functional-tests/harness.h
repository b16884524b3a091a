// Running the built tools (and the reference tools) from tests.
//
// DMPD_BIN names the directory of our binaries and DMPD_SRC the source tree
// (set by `make test`).  The reference tools are expected in /usr/sbin:
// tests that compare with them fail, rather than skip, when they are absent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ft {

struct result {
	int status = -1; // exit code; 128+N when killed by signal N
	std::string out, err;
};

// Runs ARGV (argv[0] is looked up in PATH when it has no slash), feeding
// INPUT to its stdin.  Never throws on a non-zero exit.
result run(const std::vector<std::string> &argv, const std::string &input = "");

// Our tool NAME (a symlink in DMPD_BIN) and the reference's.
std::string tool(const std::string &name);
std::string reference(const std::string &name);

// A path under functional-tests/fixtures/.
std::string fixture(const std::string &rel);

// A fresh directory, removed with everything in it on destruction.
class scratch {
public:
	scratch();
	~scratch();
	scratch(const scratch &) = delete;
	scratch &operator=(const scratch &) = delete;
	std::string path(const std::string &name) const { return dir_ + "/" + name; }
	const std::string &dir() const { return dir_; }

private:
	std::string dir_;
};

std::string read_file(const std::string &path);
void write_file(const std::string &path, const std::string &contents);
// A file of SIZE zero bytes (sparse).
void make_zero_file(const std::string &path, uint64_t size);
// gzip -dc SRC > DST
void gunzip(const std::string &src, const std::string &dst);
// SRC (.gz or .bz2, by its name) uncompressed into DST, written sparse (a
// large cache or era device is mostly holes).
void unpack(const std::string &src, const std::string &dst);

// The SHA-256 of DATA in hex (OpenSSL's libcrypto, which uses the CPU's SHA
// instructions: the kernel fixtures' devices add up to gigabytes).
std::string sha256_hex(const std::string &data);

} // namespace ft
