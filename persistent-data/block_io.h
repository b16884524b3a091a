// Raw block I/O: the one place where metadata bytes meet a file or device.
//
// Everything above talks to this interface, so tests substitute an in-memory
// device or one that fails on purpose (see memory_block_io and
// faulty_block_io below).
#pragma once

#include "base/file.h"
#include "persistent-data/block.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace pdata {

class block_io {
public:
	virtual ~block_io() = default;

	virtual block_address nr_blocks() const = 0;
	// Reads COUNT consecutive blocks starting at FIRST into BUF.
	virtual void read(block_address first, size_t count, uint8_t *buf) = 0;
	virtual void write(block_address first, size_t count, const uint8_t *buf) = 0;
	virtual void flush() = 0;
	virtual bool writable() const = 0;
	// Name used in error messages (the path for files).
	virtual const std::string &name() const = 0;
	// May read() be called from other threads, two at once, while nobody
	// writes?  (Lets the batch reader read ahead, and its caller read
	// beside it; devices that count or fail calls in order say no.)
	virtual bool thread_safe_reads() const { return false; }
	// The blocks that may hold data, as ascending half-open ranges: a
	// sparse file's holes read as zeros, so a scan for metadata may skip
	// them.  By default, the whole device.
	using extent = std::pair<block_address, block_address>;
	virtual std::vector<extent> written_extents() const { return {{0, nr_blocks()}}; }
};

// A regular file or block device.
class file_block_io : public block_io {
public:
	file_block_io(const std::string &path, base::access_mode mode);

	block_address nr_blocks() const override { return nr_blocks_; }
	void read(block_address first, size_t count, uint8_t *buf) override;
	void write(block_address first, size_t count, const uint8_t *buf) override;
	void flush() override;
	bool writable() const override { return mode_ == base::access_mode::read_write; }
	const std::string &name() const override { return file_.path(); }
	bool thread_safe_reads() const override { return true; } // pread
	// From SEEK_DATA/SEEK_HOLE; the whole device where those fail (block
	// devices, file systems without them).
	std::vector<extent> written_extents() const override;
	const base::file_handle &handle() const { return file_; }

private:
	void check_range(block_address first, size_t count) const;

	base::file_handle file_;
	base::access_mode mode_;
	block_address nr_blocks_;
};

// A device held in memory (tests, fuzzing).  Copies share nothing.
class memory_block_io : public block_io {
public:
	explicit memory_block_io(block_address nr_blocks, std::string name = "memory");
	memory_block_io(std::vector<uint8_t> bytes, std::string name = "memory");

	block_address nr_blocks() const override { return bytes_.size() / BLOCK_SIZE; }
	void read(block_address first, size_t count, uint8_t *buf) override;
	void write(block_address first, size_t count, const uint8_t *buf) override;
	void flush() override { flushes_++; }
	bool writable() const override { return true; }
	const std::string &name() const override { return name_; }

	std::vector<uint8_t> &bytes() { return bytes_; }
	const std::vector<uint8_t> &bytes() const { return bytes_; }
	unsigned long reads() const { return reads_.load(); }
	unsigned long writes() const { return writes_; }
	unsigned long flushes() const { return flushes_; }

private:
	void check_range(block_address first, size_t count) const;

	std::vector<uint8_t> bytes_;
	std::string name_;
	std::atomic<unsigned long> reads_ = 0; // (tests read on two threads)
	unsigned long writes_ = 0, flushes_ = 0;
};

// Wraps another device and fails the Nth read or write call (counting from
// 1) with an io_error, and every call after it, as a dying disk would.
// Used to prove that a crash mid-commit leaves the last committed state.
class faulty_block_io : public block_io {
public:
	faulty_block_io(block_io &inner, unsigned long fail_read_at, unsigned long fail_write_at);

	block_address nr_blocks() const override { return inner_.nr_blocks(); }
	void read(block_address first, size_t count, uint8_t *buf) override;
	void write(block_address first, size_t count, const uint8_t *buf) override;
	void flush() override;
	bool writable() const override { return inner_.writable(); }
	const std::string &name() const override { return inner_.name(); }
	bool failed() const { return failed_; }

private:
	block_io &inner_;
	unsigned long fail_read_at_, fail_write_at_;
	unsigned long reads_ = 0, writes_ = 0;
	bool failed_ = false;
};

} // namespace pdata
