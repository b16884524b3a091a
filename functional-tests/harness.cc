#include "functional-tests/harness.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace ft {
namespace {

std::string env_or_fail(const char *name) {
	const char *v = std::getenv(name);
	if (!v || !*v)
		throw std::runtime_error(std::string(name) + " is not set: run the tests with `make test`");
	return v;
}

} // namespace

result run(const std::vector<std::string> &argv, const std::string &input) {
	int in[2], out[2], err[2];
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		throw std::runtime_error("pipe failed");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	std::vector<char *> args;
	for (const auto &a : argv)
		args.push_back(const_cast<char *>(a.c_str()));
	args.push_back(nullptr);
	pid_t pid;
	int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (rc != 0) {
		close(in[1]);
		close(out[0]);
		close(err[0]);
		throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
	}

	result r;
	size_t written = 0;
	if (input.empty()) {
		close(in[1]);
		in[1] = -1;
	}
	signal(SIGPIPE, SIG_IGN);
	bool out_open = true, err_open = true;
	char buf[65536];
	while (out_open || err_open) {
		pollfd fds[3];
		int n = 0;
		if (out_open)
			fds[n++] = {out[0], POLLIN, 0};
		if (err_open)
			fds[n++] = {err[0], POLLIN, 0};
		if (in[1] >= 0)
			fds[n++] = {in[1], POLLOUT, 0};
		if (poll(fds, nfds_t(n), -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			if (!fds[i].revents)
				continue;
			if (fds[i].fd == in[1]) {
				ssize_t w = write(in[1], input.data() + written, input.size() - written);
				if (w > 0)
					written += size_t(w);
				if (w < 0 || written == input.size()) {
					close(in[1]);
					in[1] = -1;
				}
				continue;
			}
			ssize_t got = read(fds[i].fd, buf, sizeof(buf));
			if (got <= 0) {
				if (fds[i].fd == out[0])
					out_open = false;
				else
					err_open = false;
				continue;
			}
			(fds[i].fd == out[0] ? r.out : r.err).append(buf, size_t(got));
		}
	}
	if (in[1] >= 0)
		close(in[1]);
	close(out[0]);
	close(err[0]);
	int status;
	waitpid(pid, &status, 0);
	r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return r;
}

std::string tool(const std::string &name) { return env_or_fail("DMPD_BIN") + "/" + name; }

std::string reference(const std::string &name) {
	std::string p = "/usr/sbin/" + name;
	if (access(p.c_str(), X_OK) != 0)
		throw std::runtime_error("the reference tool " + p +
		                         " is missing: install thin-provisioning-tools");
	return p;
}

std::string fixture(const std::string &rel) {
	return env_or_fail("DMPD_SRC") + "/functional-tests/fixtures/" + rel;
}

scratch::scratch() {
	char tmpl[] = "/tmp/dmpd-test-XXXXXX";
	if (!mkdtemp(tmpl))
		throw std::runtime_error("mkdtemp failed");
	dir_ = tmpl;
}

scratch::~scratch() { run({"rm", "-rf", dir_}); }

std::string read_file(const std::string &path) {
	std::ifstream f(path, std::ios::binary);
	if (!f)
		throw std::runtime_error("cannot read " + path);
	std::ostringstream s;
	s << f.rdbuf();
	return s.str();
}

void write_file(const std::string &path, const std::string &contents) {
	std::ofstream f(path, std::ios::binary | std::ios::trunc);
	f << contents;
	if (!f)
		throw std::runtime_error("cannot write " + path);
}

void make_zero_file(const std::string &path, uint64_t size) {
	int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, off_t(size)) != 0)
		throw std::runtime_error("cannot create " + path);
	close(fd);
}

void gunzip(const std::string &src, const std::string &dst) {
	auto r = run({"sh", "-c", "gzip -dc '" + src + "' > '" + dst + "'"});
	if (r.status != 0)
		throw std::runtime_error("gunzip " + src + " failed: " + r.err);
}

void unpack(const std::string &src, const std::string &dst) {
	auto ends_with = [&](const std::string &suffix) {
		return src.size() >= suffix.size() && src.compare(src.size() - suffix.size(), suffix.size(), suffix) == 0;
	};
	std::string decompress = ends_with(".gz") ? "gzip" : ends_with(".bz2") ? "bzip2" : "";
	if (decompress.empty())
		throw std::runtime_error("unpack " + src + ": neither .gz nor .bz2");
	auto r = run({"bash", "-c", "set -o pipefail; " + decompress + " -dc '" + src +
	                              "' | cp --sparse=always /dev/stdin '" + dst + "'"});
	if (r.status != 0)
		throw std::runtime_error("unpack " + src + " failed: " + r.err);
}

std::string sha256_hex(const std::string &data) {
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (!EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr))
		throw std::runtime_error("EVP_Digest failed");
	static const char hex[] = "0123456789abcdef";
	std::string s;
	for (unsigned i = 0; i < len; i++) {
		s += hex[md[i] >> 4];
		s += hex[md[i] & 15];
	}
	return s;
}

} // namespace ft
