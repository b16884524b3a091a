// A bounded cache of validated blocks over a block_io.
//
// read() validates a block once when it enters the cache and throws
// bad_block if it is unacceptable.  Writable blocks are kept dirty in the
// cache until flush() or eviction; a dirty block is prepared (own location,
// checksum) by its validator just before it reaches the device.  The
// superblock is never cached dirty: commit writes it explicitly and last.
#pragma once

#include "base/error.h"
#include "persistent-data/block_io.h"
#include "persistent-data/checksum.h"

#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

namespace pdata {

// A block that failed validation (damage found while a writer or an
// exact-reading tool needed it).  Walkers catch it and report damage.
class bad_block : public base::file_error {
public:
	bad_block(const std::string &device, block_address b, std::string reason)
	    : base::file_error(device, reason, b), where_(b), reason_(std::move(reason)) {}
	block_address where() const { return where_; }
	const std::string &reason() const { return reason_; }

private:
	block_address where_;
	std::string reason_;
};

struct cached_block {
	block_address location = 0;
	const validator *v = nullptr;
	bool dirty = false;
	alignas(64) uint8_t data[BLOCK_SIZE];
};

using read_ref = std::shared_ptr<const cached_block>;
using write_ref = std::shared_ptr<cached_block>;

// Recycles block buffers.  Thousands of 4 KiB allocations freed and made
// again between small ones fragment the heap badly (the process kept three
// times the memory it used); reusing the same buffers keeps it flat.
class block_pool : public std::enable_shared_from_this<block_pool> {
public:
	std::shared_ptr<cached_block> make();
	~block_pool();

private:
	std::vector<cached_block *> free_;
};

class block_manager {
public:
	// CACHE_BLOCKS bounds the clean+dirty blocks kept in memory; a block in
	// use by a caller is never evicted, so the bound can be exceeded briefly.
	explicit block_manager(block_io &io, size_t cache_blocks = 4096);
	~block_manager();
	block_manager(const block_manager &) = delete;
	block_manager &operator=(const block_manager &) = delete;

	block_address nr_blocks() const { return io_.nr_blocks(); }
	const std::string &device_name() const { return io_.name(); }
	block_io &io() { return io_; }

	// Validated read; throws bad_block naming the block and reason.
	read_ref read(block_address b, const validator &v);
	// Validated read for modification in place (the block becomes dirty).
	write_ref write(block_address b, const validator &v);
	// A zeroed block for new contents (nothing is read).
	write_ref write_zero(block_address b, const validator &v);

	// Reads the listed blocks in large sorted runs and keeps them (still
	// unvalidated) in the cache, so a walker that knows what comes next
	// avoids one read call per block.
	void prefetch(std::vector<block_address> blocks);

	// Writes every dirty block, then syncs the device.
	void flush();
	// Writes every dirty block and syncs, then writes SUPERBLOCK (already
	// sealed by the caller) at block 0 and syncs again: the commit point.
	void commit_superblock(const uint8_t *superblock);

	// Drops every clean cached block (tests use it to force re-reads).
	void drop_clean();

	// Statistics for tests and benchmarks.
	unsigned long io_reads() const { return io_reads_; }
	unsigned long io_writes() const { return io_writes_; }

private:
	struct entry {
		std::shared_ptr<cached_block> block;
		bool validated;
		std::list<block_address>::iterator lru_pos;
	};

	std::shared_ptr<cached_block> lookup(block_address b);
	void insert(const std::shared_ptr<cached_block> &blk, bool validated);
	void validate(entry &e, const validator &v);
	void write_out(cached_block &blk);
	void evict_if_needed();
	void check_in_range(block_address b) const;

	block_io &io_;
	std::shared_ptr<block_pool> pool_ = std::make_shared<block_pool>();
	size_t capacity_;
	std::unordered_map<block_address, entry> cache_;
	std::list<block_address> lru_; // front = most recently used
	unsigned long io_reads_ = 0, io_writes_ = 0;
};

} // namespace pdata
