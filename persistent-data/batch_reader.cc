#include "persistent-data/batch_reader.h"

#include <algorithm>

namespace pdata {

namespace {
constexpr size_t MAX_RUN = 64;   // blocks per read call (256 KiB)
constexpr block_address MAX_GAP = 4; // unwanted blocks read through rather than skipped
} // namespace

void read_in_batches(block_io &io, std::vector<block_address> blocks,
                     const std::function<void(block_address, const uint8_t *)> &fn,
                     batch_stats *stats) {
	std::sort(blocks.begin(), blocks.end());
	blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
	std::vector<uint8_t> buf(MAX_RUN * BLOCK_SIZE);
	const block_address end = io.nr_blocks();
	size_t i = 0;
	while (i < blocks.size()) {
		block_address first = blocks[i];
		if (first >= end) {
			fn(first, nullptr);
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < blocks.size() && blocks[j] < end && blocks[j] - blocks[j - 1] <= MAX_GAP + 1 &&
		       blocks[j] - first < MAX_RUN)
			j++;
		block_address last = blocks[j - 1];
		size_t count = size_t(last - first + 1);
		io.read(first, count, buf.data());
		if (stats) {
			stats->read_calls++;
			stats->blocks_read += count;
		}
		for (size_t k = i; k < j; k++)
			fn(blocks[k], buf.data() + (blocks[k] - first) * BLOCK_SIZE);
		i = j;
	}
}

} // namespace pdata
