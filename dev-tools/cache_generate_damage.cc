// cache_generate_damage (developer tool): makes one named kind of damage in
// cache metadata, with checksums resealed where only the content should be
// wrong, and says which block it hit.  The damage tests drive it.
#include "base/command_line.h"
#include "base/endian.h"
#include "base/error.h"
#include "caching/superblock.h"
#include "dev-tools/commands.h"
#include "persistent-data/block_io.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_bitmap.h"

#include <iostream>

namespace caching {
namespace {

const char USAGE[] = "Usage: cache_generate_damage <metadata file> --kind <kind> [--target <what>]\n"
                     "Kinds:\n"
                     "  bad-checksum --target superblock|mapping|hint|discard|dirty|mapping-index\n"
                     "  count-high, count-low     the metadata space map's count of the first\n"
                     "                            mapping array block, one off (resealed)\n"
                     "  bad-mapping-flags         an unknown flag in the first valid mapping\n"
                     "  duplicate-origin          two valid mappings of one origin block\n"
                     "  needs-check               set the superblock's needs-check flag\n"
                     "Options:\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n";

class image {
public:
	explicit image(const std::string &path) : io_(path, base::access_mode::read_write) {
		auto b = read(0);
		auto p = superblock_problems(b.data(), io_.nr_blocks());
		if (!p.empty())
			throw base::error(path + ": " + p.front());
		sb = decode_superblock(b.data());
	}
	std::vector<uint8_t> read(pdata::block_address b) {
		if (b >= io_.nr_blocks())
			throw base::error("block " + std::to_string(b) + " is beyond the device");
		std::vector<uint8_t> d(pdata::BLOCK_SIZE);
		io_.read(b, 1, d.data());
		return d;
	}
	void write(pdata::block_address b, const std::vector<uint8_t> &d) {
		io_.write(b, 1, d.data());
		io_.flush();
	}
	// The first array block of the dm-array at ROOT.
	pdata::block_address first_array_block(pdata::block_address root) {
		pdata::block_address b = root;
		for (int depth = 0; depth < 16; depth++) {
			auto d = read(b);
			pdata::node_ref n(d.data());
			if (!n.nr_entries())
				throw base::error("the array at block " + std::to_string(root) + " is empty");
			if (n.is_leaf())
				return n.value64(0);
			b = n.value64(0);
		}
		throw base::error("array index too deep");
	}
	superblock sb;

private:
	pdata::file_block_io io_;
};

void report(pdata::block_address b, const std::string &what) {
	std::cout << "damaged block " << b << ": " << what << "\n";
}

} // namespace

int cache_generate_damage_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()("kind", po::value<std::string>(), "")("target", po::value<std::string>(), "")(
	    "input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input") || !vm.count("kind"))
		return base::usage_error(cli, "Give the metadata file and --kind.");
	image img(vm["input"].as<std::string>());
	std::string kind = vm["kind"].as<std::string>();
	const superblock &sb = img.sb;

	if (kind == "bad-checksum") {
		std::string t = vm.count("target") ? vm["target"].as<std::string>() : "";
		pdata::block_address b;
		if (t == "superblock")
			b = 0;
		else if (t == "mapping")
			b = img.first_array_block(sb.mapping_root);
		else if (t == "mapping-index")
			b = sb.mapping_root;
		else if (t == "hint")
			b = img.first_array_block(sb.hint_root);
		else if (t == "discard")
			b = img.first_array_block(sb.discard_root);
		else if (t == "dirty" && sb.version >= 2)
			b = img.first_array_block(sb.dirty_root);
		else
			return base::usage_error(cli, "unknown --target '" + t + "'");
		auto d = img.read(b);
		d[200] ^= 0x08;
		img.write(b, d);
		report(b, t + ": bad checksum");
		return 0;
	}
	if (kind == "count-high" || kind == "count-low") {
		pdata::block_address victim = img.first_array_block(sb.mapping_root);
		pdata::sm_root root = sb.metadata_sm();
		auto index = img.read(root.bitmap_root);
		uint64_t i = victim / pdata::ENTRIES_PER_BITMAP;
		pdata::block_address bm = pdata::decode_index_entry(index.data() + pdata::METADATA_INDEX_OFFSET +
		                                                    pdata::INDEX_ENTRY_SIZE * i)
		                              .blocknr;
		auto bits = img.read(bm);
		pdata::bitmap_block view(bits.data());
		uint32_t k = uint32_t(victim % pdata::ENTRIES_PER_BITMAP), now = view.get(k);
		if (now != 1)
			throw base::error("block " + std::to_string(victim) + " has count " + std::to_string(now));
		view.set(k, kind == "count-high" ? 2 : 0);
		pdata::seal_checksum(bits.data(), pdata::salt::bitmap);
		img.write(bm, bits);
		report(victim, std::string("stored count ") + (kind == "count-high" ? "2" : "0") + " (was 1), in bitmap " +
		                   std::to_string(bm));
		return 0;
	}
	if (kind == "bad-mapping-flags" || kind == "duplicate-origin") {
		pdata::block_address b = img.first_array_block(sb.mapping_root);
		auto d = img.read(b);
		uint32_t n = base::load_le32(d.data() + 8);
		std::vector<uint32_t> valid;
		for (uint32_t i = 0; i < n && valid.size() < 2; i++)
			if (base::load_le64(d.data() + 24 + 8 * i) & M_VALID)
				valid.push_back(i);
		if (valid.size() < 2)
			throw base::error("fewer than two valid mappings in the first array block");
		uint8_t *first = d.data() + 24 + 8 * valid[0], *second = d.data() + 24 + 8 * valid[1];
		if (kind == "bad-mapping-flags")
			base::store_le64(first, base::load_le64(first) | 0x40);
		else
			base::store_le64(second, (base::load_le64(first) & ~uint64_t(0xffff)) | (base::load_le64(second) & 0xffff));
		pdata::seal_checksum(d.data(), pdata::salt::array);
		img.write(b, d);
		report(b, kind + " (cache block " + std::to_string(valid[0]) + ")");
		return 0;
	}
	if (kind == "needs-check") {
		auto d = img.read(0);
		superblock s = decode_superblock(d.data());
		s.flags |= NEEDS_CHECK;
		encode_superblock(s, d.data());
		img.write(0, d);
		report(0, "needs_check flag set");
		return 0;
	}
	return base::usage_error(cli, "unknown --kind '" + kind + "'");
}

} // namespace caching
