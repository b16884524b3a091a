#include "dev-tools/era_metadata_editor.h"

#include "base/error.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_bitmap.h"

#include <algorithm>

namespace era {

metadata_editor::metadata_editor(const std::string &path) : io_(path, base::access_mode::read_write) {
	auto b = read(0);
	auto p = superblock_problems(b.data(), 0, io_.nr_blocks());
	if (!p.empty())
		throw base::error(path + ": " + p.front());
	sb_ = decode_superblock(b.data());
}

std::vector<uint8_t> metadata_editor::read(block_address b) {
	if (b >= io_.nr_blocks())
		throw base::error("block " + std::to_string(b) + " is beyond the device");
	std::vector<uint8_t> d(pdata::BLOCK_SIZE);
	io_.read(b, 1, d.data());
	return d;
}

void metadata_editor::write(block_address b, const std::vector<uint8_t> &d) {
	io_.write(b, 1, d.data());
	io_.flush();
}

void metadata_editor::write_superblock(const superblock &sb) {
	std::vector<uint8_t> d(pdata::BLOCK_SIZE);
	encode_superblock(sb, d.data());
	write(0, d);
	sb_ = sb;
}

block_address metadata_editor::first_leaf(block_address root) {
	block_address b = root;
	for (int depth = 0; depth < 16; depth++) {
		auto d = read(b);
		pdata::node_ref n(d.data());
		if (n.is_leaf())
			return b;
		if (!n.nr_entries())
			throw base::error("btree node " + std::to_string(b) + " is empty");
		b = n.value64(0);
	}
	throw base::error("btree at block " + std::to_string(root) + " is too deep");
}

block_address metadata_editor::first_array_block(block_address root) {
	auto d = read(first_leaf(root));
	pdata::node_ref n(d.data());
	if (!n.nr_entries())
		throw base::error("the array at block " + std::to_string(root) + " is empty");
	return n.value64(0);
}

metadata_editor::bitmap_slot metadata_editor::locate(block_address b) {
	pdata::sm_root root = sb_.metadata_sm();
	// (The index block has room for MAX_METADATA_BLOCKS' bitmaps only.)
	if (b >= root.nr_blocks || b >= pdata::MAX_METADATA_BLOCKS)
		throw base::error("block " + std::to_string(b) + " is beyond the metadata space map");
	auto index = read(root.bitmap_root);
	uint64_t i = b / pdata::ENTRIES_PER_BITMAP;
	auto e = pdata::decode_index_entry(index.data() + pdata::METADATA_INDEX_OFFSET + pdata::INDEX_ENTRY_SIZE * i);
	return {e.blocknr, uint32_t(b % pdata::ENTRIES_PER_BITMAP), i};
}

uint32_t metadata_editor::count(block_address b) {
	auto s = locate(b);
	return pdata::bitmap_block::get(read(s.bitmap).data(), s.entry);
}

void metadata_editor::set_count_raw(block_address b, uint32_t c) {
	auto s = locate(b);
	auto bits = read(s.bitmap);
	pdata::bitmap_block(bits.data()).set(s.entry, c);
	pdata::seal_checksum(bits.data(), pdata::salt::bitmap);
	write(s.bitmap, bits);
}

void metadata_editor::adjust_count(block_address b, int delta) {
	uint32_t old = count(b);
	int64_t now = int64_t(old) + delta;
	if (old == 3 || now < 0 || now > 2)
		throw base::error("block " + std::to_string(b) + " has count " + (old == 3 ? ">2" : std::to_string(old)) +
		                  ": moving it by " + std::to_string(delta) + " needs the overflow tree");
	set_count_raw(b, uint32_t(now));
	if ((old == 0) == (now == 0))
		return;
	// Allocation state changed: the kernel moves these counters with it.
	pdata::sm_root root = sb_.metadata_sm();
	auto s = locate(b);
	auto index = read(root.bitmap_root);
	uint8_t *slot = index.data() + pdata::METADATA_INDEX_OFFSET + pdata::INDEX_ENTRY_SIZE * s.index;
	auto e = pdata::decode_index_entry(slot);
	if (now) {
		root.nr_allocated++;
		e.nr_free--;
		if (e.none_free_before == s.entry)
			e.none_free_before = s.entry + 1;
	} else {
		root.nr_allocated--;
		e.nr_free++;
		e.none_free_before = std::min(e.none_free_before, s.entry);
	}
	pdata::encode_index_entry(e, slot);
	pdata::seal_checksum(index.data(), pdata::salt::index);
	write(root.bitmap_root, index);
	superblock sb = sb_;
	pdata::encode_sm_root(root, sb.metadata_space_map_root.data());
	write_superblock(sb);
}

block_address metadata_editor::find_free() {
	pdata::sm_root root = sb_.metadata_sm();
	block_address end = std::min<block_address>({root.nr_blocks, io_.nr_blocks(), pdata::MAX_METADATA_BLOCKS});
	auto index = read(root.bitmap_root);
	for (uint64_t i = 0; i * pdata::ENTRIES_PER_BITMAP < end; i++) {
		auto e = pdata::decode_index_entry(index.data() + pdata::METADATA_INDEX_OFFSET + pdata::INDEX_ENTRY_SIZE * i);
		auto bits = read(e.blocknr);
		for (uint32_t k = 0; k < pdata::ENTRIES_PER_BITMAP && i * pdata::ENTRIES_PER_BITMAP + k < end; k++)
			if (!pdata::bitmap_block::get(bits.data(), k))
				return i * pdata::ENTRIES_PER_BITMAP + k;
	}
	throw base::error("no free metadata block");
}

} // namespace era
