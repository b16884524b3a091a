#include "base/file.h"

#include "base/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace base {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

} // namespace

file_facts inspect_path(const std::string &path) {
	struct stat st;
	if (::stat(path.c_str(), &st) < 0)
		throw file_error(path, errno_text(errno));
	if (S_ISREG(st.st_mode))
		return {file_kind::regular, uint64_t(st.st_size)};
	if (S_ISBLK(st.st_mode)) {
		file_handle f = open_path(path, access_mode::read_only);
		return {file_kind::block_device, size_of(f)};
	}
	throw file_error(path, "Not a block device or regular file");
}

file_handle::~file_handle() {
	if (fd_ >= 0)
		::close(fd_);
}

file_handle::file_handle(file_handle &&other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)) {
	other.fd_ = -1;
}

file_handle &file_handle::operator=(file_handle &&other) noexcept {
	if (this != &other) {
		if (fd_ >= 0)
			::close(fd_);
		fd_ = other.fd_;
		path_ = std::move(other.path_);
		other.fd_ = -1;
	}
	return *this;
}

file_handle open_path(const std::string &path, access_mode mode) {
	struct stat st;
	if (::stat(path.c_str(), &st) < 0)
		throw file_error(path, errno_text(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		throw file_error(path, "Not a block device or regular file");

	int flags = O_CLOEXEC;
	if (mode == access_mode::read_only)
		flags |= O_RDONLY;
	else {
		flags |= O_RDWR;
		if (S_ISBLK(st.st_mode))
			flags |= O_EXCL; // refused by the kernel while the device is in use
	}
	int fd = ::open(path.c_str(), flags);
	if (fd < 0) {
		int err = errno;
		if (err == EBUSY)
			throw file_error(path, "device is in use (busy); refusing to write to it");
		throw file_error(path, errno_text(err));
	}
	return file_handle(fd, path);
}

uint64_t size_of(const file_handle &f) {
	struct stat st;
	if (::fstat(f.fd(), &st) < 0)
		throw io_error(f.path(), errno_text(errno));
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes = 0;
		if (::ioctl(f.fd(), BLKGETSIZE64, &bytes) < 0)
			throw io_error(f.path(), "BLKGETSIZE64: " + errno_text(errno));
		return bytes;
	}
	return uint64_t(st.st_size);
}

bool same_file(const std::string &a, const std::string &b) {
	struct stat sa, sb;
	if (::stat(a.c_str(), &sa) < 0 || ::stat(b.c_str(), &sb) < 0)
		return false;
	if (S_ISBLK(sa.st_mode) && S_ISBLK(sb.st_mode))
		return sa.st_rdev == sb.st_rdev;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void read_exact(const file_handle &f, uint64_t offset, void *buf, size_t len) {
	auto p = static_cast<uint8_t *>(buf);
	while (len) {
		ssize_t n = ::pread(f.fd(), p, len, off_t(offset));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			throw io_error(f.path(), "read at byte " + std::to_string(offset) + " failed: " +
			                             errno_text(errno));
		}
		if (n == 0)
			throw io_error(f.path(), "unexpected end of file at byte " + std::to_string(offset));
		p += n;
		offset += uint64_t(n);
		len -= size_t(n);
	}
}

void write_exact(const file_handle &f, uint64_t offset, const void *buf, size_t len) {
	auto p = static_cast<const uint8_t *>(buf);
	while (len) {
		ssize_t n = ::pwrite(f.fd(), p, len, off_t(offset));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			throw io_error(f.path(), "write at byte " + std::to_string(offset) + " failed: " +
			                             errno_text(errno));
		}
		p += n;
		offset += uint64_t(n);
		len -= size_t(n);
	}
}

void sync_file(const file_handle &f) {
	if (::fsync(f.fd()) < 0 && errno != EINVAL)
		throw io_error(f.path(), "fsync failed: " + errno_text(errno));
}

void discard(const file_handle &f, uint64_t offset, uint64_t len) {
	struct stat st;
	if (::fstat(f.fd(), &st) < 0)
		throw io_error(f.path(), "fstat: " + errno_text(errno));
	int rc;
	if (S_ISBLK(st.st_mode)) {
		uint64_t range[2] = {offset, len};
		rc = ::ioctl(f.fd(), BLKDISCARD, range);
	} else
		rc = ::fallocate(f.fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off_t(offset), off_t(len));
	if (rc < 0)
		throw io_error(f.path(), "discard of " + std::to_string(len) + " bytes at " + std::to_string(offset) +
		                             " failed: " + errno_text(errno));
}

} // namespace base
