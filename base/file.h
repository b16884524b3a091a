// Opening metadata files and block devices.
//
// Tools that only read open their input O_RDONLY.  Writers open block
// devices with O_EXCL, so a device that is in use (mounted, held by
// device-mapper) is refused by the kernel instead of being overwritten.
#pragma once

#include <cstdint>
#include <string>

namespace base {

enum class file_kind { regular, block_device };

struct file_facts {
	file_kind kind;
	uint64_t size; // bytes
};

// Stats PATH.  Throws file_error with the reference tools' wording:
//   "<path>: No such file or directory" style errno text when it is missing,
//   "<path>: Not a block device or regular file" for anything else.
file_facts inspect_path(const std::string &path);

// An open file descriptor, closed on destruction.
class file_handle {
public:
	file_handle() = default;
	file_handle(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
	~file_handle();
	file_handle(file_handle &&other) noexcept;
	file_handle &operator=(file_handle &&other) noexcept;
	file_handle(const file_handle &) = delete;
	file_handle &operator=(const file_handle &) = delete;

	int fd() const { return fd_; }
	const std::string &path() const { return path_; }
	bool is_open() const { return fd_ >= 0; }

private:
	int fd_ = -1;
	std::string path_;
};

enum class access_mode { read_only, read_write };

// Opens PATH (regular file or block device).  read_write on a block device
// adds O_EXCL.  Throws file_error naming the path on failure.
file_handle open_path(const std::string &path, access_mode mode);

// Size in bytes of an open file or block device (BLKGETSIZE64 for devices).
uint64_t size_of(const file_handle &f);

// Tells the storage that bytes [OFFSET, OFFSET+LEN) are unused: BLKDISCARD
// on a block device, a hole punched in a regular file (its size kept).
void discard(const file_handle &f, uint64_t offset, uint64_t len);

// True when both paths name the same file or device (same st_dev/st_ino,
// or the same device number for block devices).  False if either is missing.
bool same_file(const std::string &a, const std::string &b);

// Full-length positional I/O; throws io_error (with the errno text) on
// failure or a short transfer.
void read_exact(const file_handle &f, uint64_t offset, void *buf, size_t len);
void write_exact(const file_handle &f, uint64_t offset, const void *buf, size_t len);
void sync_file(const file_handle &f);

} // namespace base
