#include "persistent-data/block_manager.h"

#include <algorithm>
#include <cstring>

namespace pdata {

std::shared_ptr<cached_block> block_pool::make() {
	cached_block *b;
	if (free_.empty())
		b = new cached_block;
	else {
		b = free_.back();
		free_.pop_back();
	}
	b->dirty = false;
	b->v = nullptr;
	// The deleter keeps the pool alive for as long as any block is.
	auto self = shared_from_this();
	return std::shared_ptr<cached_block>(b, [self](cached_block *p) { self->free_.push_back(p); });
}

block_pool::~block_pool() {
	for (auto *b : free_)
		delete b;
}

block_manager::block_manager(block_io &io, size_t cache_blocks)
    : io_(io), capacity_(std::max<size_t>(cache_blocks, 16)) {}

block_manager::~block_manager() {
	// Unflushed dirty blocks are dropped on purpose: only an explicit
	// flush/commit may reach the device (a failed writer leaves no half-state
	// that looks committed, and the superblock is never among them).
}

void block_manager::check_in_range(block_address b) const {
	if (b >= io_.nr_blocks())
		throw bad_block(io_.name(), b,
		                "block is beyond the end of the metadata device (" +
		                    std::to_string(io_.nr_blocks()) + " blocks)");
}

std::shared_ptr<cached_block> block_manager::lookup(block_address b) {
	auto it = cache_.find(b);
	if (it == cache_.end())
		return nullptr;
	lru_.splice(lru_.begin(), lru_, it->second.lru_pos);
	return it->second.block;
}

void block_manager::insert(const std::shared_ptr<cached_block> &blk, bool validated) {
	lru_.push_front(blk->location);
	cache_[blk->location] = entry{blk, validated, lru_.begin()};
	evict_if_needed();
}

void block_manager::validate(entry &e, const validator &v) {
	if (e.validated && e.block->v == &v)
		return;
	if (auto problem = v.check(e.block->data, e.block->location))
		throw bad_block(io_.name(), e.block->location, *problem);
	e.block->v = &v;
	e.validated = true;
}

read_ref block_manager::read(block_address b, const validator &v) {
	check_in_range(b);
	if (!lookup(b)) {
		auto blk = pool_->make();
		blk->location = b;
		io_.read(b, 1, blk->data);
		io_reads_++;
		insert(blk, false);
	}
	auto &e = cache_.at(b);
	if (!e.block->dirty)
		validate(e, v);
	return e.block;
}

write_ref block_manager::write(block_address b, const validator &v) {
	check_in_range(b);
	read(b, v);
	auto &e = cache_.at(b);
	e.block->v = &v;
	e.block->dirty = true;
	return e.block;
}

write_ref block_manager::write_zero(block_address b, const validator &v) {
	check_in_range(b);
	auto blk = lookup(b);
	if (!blk) {
		blk = pool_->make();
		blk->location = b;
		insert(blk, true);
	}
	std::memset(blk->data, 0, BLOCK_SIZE);
	blk->v = &v;
	blk->dirty = true;
	cache_.at(b).validated = true;
	return blk;
}

void block_manager::prefetch(std::vector<block_address> blocks) {
	std::sort(blocks.begin(), blocks.end());
	blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
	constexpr size_t max_run = 64; // 256 KiB per read call
	std::vector<uint8_t> buf(max_run * BLOCK_SIZE);
	size_t i = 0;
	while (i < blocks.size()) {
		if (blocks[i] >= io_.nr_blocks() || cache_.count(blocks[i])) {
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < blocks.size() && j - i < max_run && blocks[j] == blocks[j - 1] + 1 &&
		       blocks[j] < io_.nr_blocks() && !cache_.count(blocks[j]))
			j++;
		io_.read(blocks[i], j - i, buf.data());
		io_reads_++;
		for (size_t k = i; k < j; k++) {
			auto blk = pool_->make();
			blk->location = blocks[k];
			std::memcpy(blk->data, buf.data() + (k - i) * BLOCK_SIZE, BLOCK_SIZE);
			insert(blk, false);
		}
		i = j;
	}
}

void block_manager::write_out(cached_block &blk) {
	if (blk.v)
		blk.v->prepare(blk.data, blk.location);
	io_.write(blk.location, 1, blk.data);
	io_writes_++;
	blk.dirty = false;
}

void block_manager::evict_if_needed() {
	auto it = lru_.end();
	while (cache_.size() > capacity_ && it != lru_.begin()) {
		--it;
		auto &e = cache_.at(*it);
		if (e.block.use_count() > 1)
			continue; // a caller still holds it
		if (e.block->dirty)
			write_out(*e.block);
		auto victim = it++;
		cache_.erase(*victim);
		lru_.erase(victim);
	}
}

void block_manager::flush() {
	std::vector<cached_block *> dirty;
	for (auto &[b, e] : cache_)
		if (e.block->dirty)
			dirty.push_back(e.block.get());
	std::sort(dirty.begin(), dirty.end(),
	          [](auto *a, auto *b) { return a->location < b->location; });
	for (auto *blk : dirty)
		write_out(*blk);
	io_.flush();
}

void block_manager::commit_superblock(const uint8_t *superblock) {
	flush();
	auto it = cache_.find(0);
	if (it != cache_.end()) {
		lru_.erase(it->second.lru_pos);
		cache_.erase(it);
	}
	io_.write(0, 1, superblock);
	io_writes_++;
	io_.flush();
}

void block_manager::drop_clean() {
	for (auto it = lru_.begin(); it != lru_.end();) {
		auto &e = cache_.at(*it);
		if (!e.block->dirty && e.block.use_count() == 1) {
			cache_.erase(*it);
			it = lru_.erase(it);
		} else
			++it;
	}
}

} // namespace pdata
