#include "dev-tools/field_table.h"

#include "base/endian.h"
#include "base/error.h"
#include "caching/superblock.h"
#include "era/superblock.h"
#include "persistent-data/array.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_bitmap.h"
#include "thin-provisioning/metadata_checker.h"
#include "thin-provisioning/superblock.h"

#include <algorithm>
#include <optional>
#include <random>
#include <tuple>

namespace devtools {
namespace {

using pdata::block_address;
namespace salt = pdata::salt;

std::vector<uint8_t> read_block(pdata::block_io &io, block_address b) {
	std::vector<uint8_t> d(pdata::BLOCK_SIZE);
	io.read(b, 1, d.data());
	return d;
}

// Collects the fields of one kind of image.
class table {
public:
	explicit table(pdata::block_io &io, std::string kind) : io_(io), kind_(std::move(kind)) {}

	void add(const std::string &structure, const std::string &name, block_address b, size_t off, size_t width,
	         uint32_t salt) {
		fields_.push_back({kind_ + "." + structure + "." + name, b, off, width, salt});
	}

	// The space-map root at OFF of a superblock.
	void sm_root(const std::string &structure, const std::string &which, block_address b, size_t off,
	             uint32_t salt) {
		add(structure, which + ".nr_blocks", b, off, 8, salt);
		add(structure, which + ".nr_allocated", b, off + 8, 8, salt);
		add(structure, which + ".bitmap_root", b, off + 16, 8, salt);
		add(structure, which + ".ref_count_root", b, off + 24, 8, salt);
	}

	// A btree node's header, first key and first value (VALUE_FIELDS splits
	// the value: name, offset, width; empty for the value as one field).
	void node(const std::string &structure, block_address b,
	          const std::vector<std::tuple<std::string, size_t, size_t>> &value_fields = {}) {
		auto data = read_block(io_, b);
		pdata::node_ref n(data.data());
		add(structure, "header.flags", b, 4, 4, salt::btree_node);
		add(structure, "header.blocknr", b, 8, 8, salt::btree_node);
		add(structure, "header.nr_entries", b, 16, 4, salt::btree_node);
		add(structure, "header.max_entries", b, 20, 4, salt::btree_node);
		add(structure, "header.value_size", b, 24, 4, salt::btree_node);
		if (!n.nr_entries())
			return;
		add(structure, "key0", b, pdata::NODE_HEADER_SIZE, 8, salt::btree_node);
		size_t value0 = pdata::NODE_HEADER_SIZE + 8 * size_t(n.max_entries());
		if (value_fields.empty() || !n.is_leaf())
			add(structure, "value0", b, value0, n.is_leaf() ? n.value_size() : 8, salt::btree_node);
		else
			for (const auto &[name, off, width] : value_fields)
				add(structure, "value0." + name, b, value0 + off, width, salt::btree_node);
	}

	// The metadata space map's index block and its first bitmap.
	void metadata_sm(const pdata::sm_root &r) {
		if (r.bitmap_root >= io_.nr_blocks())
			return;
		block_address index = r.bitmap_root;
		add("metadata-sm-index", "header.blocknr", index, 8, 8, salt::index);
		size_t e = pdata::METADATA_INDEX_OFFSET;
		add("metadata-sm-index", "entry0.blocknr", index, e, 8, salt::index);
		add("metadata-sm-index", "entry0.nr_free", index, e + 8, 4, salt::index);
		add("metadata-sm-index", "entry0.none_free_before", index, e + 12, 4, salt::index);
		auto data = read_block(io_, index);
		bitmap("metadata-sm-bitmap", base::load_le64(data.data() + e));
	}

	void bitmap(const std::string &structure, block_address b) {
		if (b >= io_.nr_blocks())
			return;
		add(structure, "header.blocknr", b, 8, 8, salt::bitmap);
		add(structure, "word0", b, 16, 8, salt::bitmap);
	}

	// The first array block of the dm-array whose btree is at ROOT: its
	// header and first value.
	void array(const std::string &structure, block_address root) {
		auto b = first_leaf_value(root);
		if (!b)
			return;
		auto data = read_block(io_, *b);
		uint32_t vs = base::load_le32(data.data() + 12);
		add(structure, "header.max_entries", *b, 4, 4, salt::array);
		add(structure, "header.nr_entries", *b, 8, 4, salt::array);
		add(structure, "header.value_size", *b, 12, 4, salt::array);
		add(structure, "header.blocknr", *b, 16, 8, salt::array);
		if (vs && vs <= 64)
			add(structure, "value0", *b, pdata::ARRAY_BLOCK_HEADER, vs, salt::array);
	}

	// The btree at ROOT, as a structure of its own (its root node).
	void tree(const std::string &structure, block_address root,
	          const std::vector<std::tuple<std::string, size_t, size_t>> &value_fields = {}) {
		if (is_node(root))
			node(structure, root, value_fields);
	}

	// The first value of the first leaf below ROOT, read as a block number.
	std::optional<block_address> first_leaf_value(block_address root) {
		block_address b = root;
		for (int depth = 0; depth < 16; depth++) {
			if (!is_node(b))
				return std::nullopt;
			auto data = read_block(io_, b);
			pdata::node_ref n(data.data());
			if (!n.nr_entries())
				return std::nullopt;
			block_address v = n.value64(0);
			if (n.is_leaf())
				return v < io_.nr_blocks() ? std::optional<block_address>(v) : std::nullopt;
			b = v;
		}
		return std::nullopt;
	}

	bool is_node(block_address b) {
		if (b >= io_.nr_blocks())
			return false;
		auto data = read_block(io_, b);
		return !pdata::btree_node_validator().check(data.data(), b);
	}

	std::vector<field> take() { return std::move(fields_); }

private:
	pdata::block_io &io_;
	std::string kind_;
	std::vector<field> fields_;
};

const std::vector<std::tuple<std::string, size_t, size_t>> DETAILS_VALUE{
    {"mapped_blocks", 0, 8}, {"transaction_id", 8, 8}, {"creation_time", 16, 4}, {"snapshotted_time", 20, 4}};
const std::vector<std::tuple<std::string, size_t, size_t>> INDEX_ENTRY_VALUE{
    {"blocknr", 0, 8}, {"nr_free", 8, 4}, {"none_free_before", 12, 4}};

void thin_superblock(table &t, const std::string &structure, block_address b, bool with_space_maps) {
	const uint32_t s = salt::thin_superblock;
	t.add(structure, "flags", b, 4, 4, s);
	t.add(structure, "blocknr", b, 8, 8, s);
	t.add(structure, "uuid", b, 16, 16, s);
	t.add(structure, "magic", b, 32, 8, s);
	t.add(structure, "version", b, 40, 4, s);
	t.add(structure, "time", b, 44, 4, s);
	t.add(structure, "trans_id", b, 48, 8, s);
	t.add(structure, "metadata_snap", b, 56, 8, s);
	if (with_space_maps) {
		t.sm_root(structure, "data_sm", b, 64, s);
		t.sm_root(structure, "metadata_sm", b, 192, s);
	}
	t.add(structure, "data_mapping_root", b, 320, 8, s);
	t.add(structure, "device_details_root", b, 328, 8, s);
	t.add(structure, "data_block_size", b, 336, 4, s);
	t.add(structure, "metadata_block_size", b, 340, 4, s);
	t.add(structure, "metadata_nr_blocks", b, 344, 8, s);
	t.add(structure, "compat_flags", b, 352, 4, s);
	t.add(structure, "compat_ro_flags", b, 356, 4, s);
	t.add(structure, "incompat_flags", b, 360, 4, s);
}

std::vector<field> thin_fields(pdata::block_io &io) {
	table t(io, "thin");
	base::check_report quiet(nullptr);
	thin::check_options o;
	o.record_roles = true;
	auto r = thin::check_metadata(io, o, quiet);
	if (!r.superblock_ok)
		throw base::error(io.name() + ": the superblock is damaged");
	thin_superblock(t, "superblock", 0, true);
	if (r.sb.metadata_snap)
		thin_superblock(t, "snapshot-superblock", r.sb.metadata_snap, false);
	// The first block of each role (a leaf with entries where leaves count).
	auto first = [&](thin::block_role role, bool leaf) -> std::optional<block_address> {
		for (block_address b = 0; b < r.roles.size(); b++) {
			if (r.roles[b] != role)
				continue;
			auto data = read_block(io, b);
			pdata::node_ref n(data.data());
			if (!leaf || (n.is_leaf() && n.nr_entries()))
				return b;
		}
		return std::nullopt;
	};
	using thin::block_role;
	if (auto b = first(block_role::details_node, true))
		t.node("details-node", *b, DETAILS_VALUE);
	if (auto b = first(block_role::top_level_node, true))
		t.node("top-level-node", *b);
	if (auto b = first(block_role::mapping_internal, false))
		t.node("mapping-internal", *b);
	if (auto b = first(block_role::mapping_leaf, true))
		t.node("mapping-leaf", *b);
	if (auto b = first(block_role::metadata_sm_ref_counts, true))
		t.node("metadata-sm-ref-counts", *b);
	if (auto b = first(block_role::data_sm_index, true))
		t.node("data-sm-index", *b, INDEX_ENTRY_VALUE);
	if (auto b = first(block_role::data_sm_ref_counts, true))
		t.node("data-sm-ref-counts", *b);
	t.metadata_sm(r.sb.metadata_sm());
	if (auto b = first(block_role::data_sm_bitmap, false))
		t.bitmap("data-sm-bitmap", *b);
	return t.take();
}

std::vector<field> cache_fields(pdata::block_io &io) {
	table t(io, "cache");
	auto data = read_block(io, 0);
	auto sb = caching::decode_superblock(data.data());
	const uint32_t s = salt::cache_superblock;
	t.add("superblock", "flags", 0, 4, 4, s);
	t.add("superblock", "blocknr", 0, 8, 8, s);
	t.add("superblock", "uuid", 0, 16, 16, s);
	t.add("superblock", "magic", 0, 32, 8, s);
	t.add("superblock", "version", 0, 40, 4, s);
	t.add("superblock", "policy_name", 0, 44, 16, s);
	t.add("superblock", "policy_hint_size", 0, 60, 4, s);
	t.sm_root("superblock", "metadata_sm", 0, 64, s);
	t.add("superblock", "mapping_root", 0, 192, 8, s);
	t.add("superblock", "hint_root", 0, 200, 8, s);
	t.add("superblock", "discard_root", 0, 208, 8, s);
	t.add("superblock", "discard_block_size", 0, 216, 8, s);
	t.add("superblock", "discard_nr_blocks", 0, 224, 8, s);
	t.add("superblock", "data_block_size", 0, 232, 4, s);
	t.add("superblock", "metadata_block_size", 0, 236, 4, s);
	t.add("superblock", "cache_blocks", 0, 240, 4, s);
	t.add("superblock", "compat_flags", 0, 244, 4, s);
	t.add("superblock", "compat_ro_flags", 0, 248, 4, s);
	t.add("superblock", "incompat_flags", 0, 252, 4, s);
	t.add("superblock", "read_hits", 0, 256, 4, s);
	t.add("superblock", "write_misses", 0, 268, 4, s);
	t.add("superblock", "policy_version", 0, 272, 12, s);
	if (sb.version >= 2)
		t.add("superblock", "dirty_root", 0, 284, 8, s);
	t.tree("mapping-tree", sb.mapping_root);
	t.array("mapping-array", sb.mapping_root);
	t.array("hint-array", sb.hint_root);
	t.array("discard-bitset", sb.discard_root);
	if (sb.version >= 2)
		t.array("dirty-bitset", sb.dirty_root);
	t.metadata_sm(sb.metadata_sm());
	return t.take();
}

std::vector<field> era_fields(pdata::block_io &io) {
	table t(io, "era");
	auto data = read_block(io, 0);
	auto sb = era::decode_superblock(data.data());
	const uint32_t s = salt::era_superblock;
	t.add("superblock", "flags", 0, 4, 4, s);
	t.add("superblock", "blocknr", 0, 8, 8, s);
	t.add("superblock", "uuid", 0, 16, 16, s);
	t.add("superblock", "magic", 0, 32, 8, s);
	t.add("superblock", "version", 0, 40, 4, s);
	t.sm_root("superblock", "metadata_sm", 0, 44, s);
	t.add("superblock", "data_block_size", 0, 172, 4, s);
	t.add("superblock", "metadata_block_size", 0, 176, 4, s);
	t.add("superblock", "nr_blocks", 0, 180, 4, s);
	t.add("superblock", "current_era", 0, 184, 4, s);
	t.add("superblock", "current_writeset.nr_bits", 0, 188, 4, s);
	t.add("superblock", "current_writeset.root", 0, 192, 8, s);
	t.add("superblock", "writeset_tree_root", 0, 200, 8, s);
	t.add("superblock", "era_array_root", 0, 208, 8, s);
	t.add("superblock", "metadata_snap", 0, 216, 8, s);
	t.tree("writeset-tree", sb.writeset_tree_root, {{"nr_bits", 0, 4}, {"root", 4, 8}});
	// The first archived writeset's bitset, and the current one's.
	if (t.is_node(sb.writeset_tree_root)) {
		auto node = read_block(io, sb.writeset_tree_root);
		pdata::node_ref n(node.data());
		if (n.is_leaf() && n.nr_entries())
			t.array("writeset-bitset", era::decode_writeset(n.value(0)).root);
	}
	t.array("current-writeset-bitset", sb.current_writeset_root);
	t.tree("era-array-tree", sb.era_array_root);
	t.array("era-array", sb.era_array_root);
	t.metadata_sm(sb.metadata_sm());
	return t.take();
}

} // namespace

std::string metadata_kind(pdata::block_io &io) {
	auto data = read_block(io, 0);
	uint64_t magic = base::load_le64(data.data() + 32);
	if (magic == thin::SUPERBLOCK_MAGIC)
		return "thin";
	if (magic == caching::CACHE_MAGIC)
		return "cache";
	if (magic == era::ERA_MAGIC)
		return "era";
	throw base::error(io.name() + ": not thin, cache or era metadata (magic " + std::to_string(magic) + ")");
}

std::vector<field> fields_of(pdata::block_io &io) {
	std::string kind = metadata_kind(io);
	return kind == "thin" ? thin_fields(io) : kind == "cache" ? cache_fields(io) : era_fields(io);
}

const std::vector<mutation> &all_mutations() {
	static const std::vector<mutation> all{mutation::zeroes,   mutation::ones,      mutation::flip,
	                                       mutation::plus_one, mutation::minus_one, mutation::random};
	return all;
}

std::string mutation_name(mutation m) {
	switch (m) {
	case mutation::zeroes: return "zeroes";
	case mutation::ones: return "ones";
	case mutation::flip: return "flip";
	case mutation::plus_one: return "plus1";
	case mutation::minus_one: return "minus1";
	case mutation::random: return "random";
	}
	return "?";
}

mutation parse_mutation(const std::string &s) {
	for (mutation m : all_mutations())
		if (s == mutation_name(m))
			return m;
	throw base::error("unknown mutation '" + s + "' (zeroes, ones, flip, plus1, minus1, random)");
}

std::vector<uint8_t> mutate(const std::vector<uint8_t> &bytes, mutation m, uint64_t seed) {
	std::vector<uint8_t> out = bytes;
	size_t n = std::min<size_t>(out.size(), 8);
	auto as_int = [&] {
		uint64_t v = 0;
		for (size_t i = n; i-- > 0;)
			v = v << 8 | out[i];
		return v;
	};
	auto store = [&](uint64_t v) {
		for (size_t i = 0; i < n; i++, v >>= 8)
			out[i] = uint8_t(v);
	};
	switch (m) {
	case mutation::zeroes: std::fill(out.begin(), out.end(), 0); break;
	case mutation::ones: std::fill(out.begin(), out.end(), 0xff); break;
	case mutation::flip: out[0] ^= 1; break;
	case mutation::plus_one: store(as_int() + 1); break;
	case mutation::minus_one: store(as_int() - 1); break;
	case mutation::random: {
		std::mt19937_64 rng(seed);
		for (auto &b : out)
			b = uint8_t(rng());
		break;
	}
	}
	return out;
}

} // namespace devtools
