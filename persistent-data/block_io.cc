#include "persistent-data/block_io.h"

#include "base/error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <unistd.h>

namespace pdata {

file_block_io::file_block_io(const std::string &path, base::access_mode mode)
    : file_(base::open_path(path, mode)), mode_(mode),
      nr_blocks_(base::size_of(file_) / BLOCK_SIZE) {}

void file_block_io::check_range(block_address first, size_t count) const {
	if (first > nr_blocks_ || count > nr_blocks_ - first)
		throw base::io_error(file_.path(),
		                     "access beyond the end of the device (" +
		                         std::to_string(nr_blocks_) + " blocks)",
		                     first);
}

void file_block_io::read(block_address first, size_t count, uint8_t *buf) {
	check_range(first, count);
	base::read_exact(file_, first * BLOCK_SIZE, buf, count * BLOCK_SIZE);
}

void file_block_io::write(block_address first, size_t count, const uint8_t *buf) {
	check_range(first, count);
	base::write_exact(file_, first * BLOCK_SIZE, buf, count * BLOCK_SIZE);
}

std::vector<block_io::extent> file_block_io::written_extents() const {
	const off_t end = off_t(nr_blocks_ * BLOCK_SIZE);
	std::vector<extent> out;
	off_t pos = 0;
	while (pos < end) {
		off_t data = lseek(file_.fd(), pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; // nothing but a hole to the end
		off_t hole = data < 0 ? -1 : lseek(file_.fd(), data, SEEK_HOLE);
		if (data < 0 || hole < 0)
			return {{0, nr_blocks_}};
		block_address first = block_address(data) / BLOCK_SIZE;
		block_address last = std::min<block_address>((block_address(hole) + BLOCK_SIZE - 1) / BLOCK_SIZE, nr_blocks_);
		if (first >= last)
			break;
		if (!out.empty() && out.back().second >= first)
			out.back().second = last;
		else
			out.push_back({first, last});
		pos = hole;
	}
	return out;
}

void file_block_io::flush() {
	if (writable())
		base::sync_file(file_);
}

memory_block_io::memory_block_io(block_address nr_blocks, std::string name)
    : bytes_(nr_blocks * BLOCK_SIZE, 0), name_(std::move(name)) {}

memory_block_io::memory_block_io(std::vector<uint8_t> bytes, std::string name)
    : bytes_(std::move(bytes)), name_(std::move(name)) {
	bytes_.resize(bytes_.size() / BLOCK_SIZE * BLOCK_SIZE);
}

void memory_block_io::check_range(block_address first, size_t count) const {
	if (first > nr_blocks() || count > nr_blocks() - first)
		throw base::io_error(name_, "access beyond the end of the device", first);
}

void memory_block_io::read(block_address first, size_t count, uint8_t *buf) {
	check_range(first, count);
	reads_++;
	std::memcpy(buf, bytes_.data() + first * BLOCK_SIZE, count * BLOCK_SIZE);
}

void memory_block_io::write(block_address first, size_t count, const uint8_t *buf) {
	check_range(first, count);
	writes_++;
	std::memcpy(bytes_.data() + first * BLOCK_SIZE, buf, count * BLOCK_SIZE);
}

faulty_block_io::faulty_block_io(block_io &inner, unsigned long fail_read_at,
                                 unsigned long fail_write_at)
    : inner_(inner), fail_read_at_(fail_read_at), fail_write_at_(fail_write_at) {}

void faulty_block_io::read(block_address first, size_t count, uint8_t *buf) {
	if (failed_ || (fail_read_at_ && ++reads_ >= fail_read_at_)) {
		failed_ = true;
		throw base::io_error(name(), "injected read failure", first);
	}
	inner_.read(first, count, buf);
}

void faulty_block_io::write(block_address first, size_t count, const uint8_t *buf) {
	if (failed_ || (fail_write_at_ && ++writes_ >= fail_write_at_)) {
		failed_ = true;
		throw base::io_error(name(), "injected write failure", first);
	}
	inner_.write(first, count, buf);
}

void faulty_block_io::flush() {
	if (failed_)
		throw base::io_error(name(), "injected failure: device is gone");
	inner_.flush();
}

} // namespace pdata
