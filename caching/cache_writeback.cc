// cache_writeback (doc/tools.md#cache_writeback): with the cache offline, copies every
// dirty cache block from the fast device to its place on the origin, then
// (unless --no-metadata-update) clears the dirty flags of the blocks copied,
// in a normal metadata transaction (shadowed blocks, superblock last).
#include "base/command_line.h"
#include "base/error.h"
#include "base/file.h"
#include "caching/cache_io.h"
#include "caching/commands.h"
#include "caching/superblock.h"
#include "persistent-data/array.h"
#include "persistent-data/bitset.h"
#include "persistent-data/space_map_metadata.h"
#include "persistent-data/transaction_manager.h"

#include <iostream>
#include <unistd.h>

namespace caching {
namespace {

const char USAGE[] = "Usage: cache_writeback [options]\n"
                     "Options:\n"
                     "  {-h|--help}\n"
                     "  {--metadata-device} <metadata device or file>\n"
                     "  {--origin-device} <origin device or file>\n"
                     "  {--fast-device} <fast (cache) device or file>\n"
                     "  {--buffer-size-meg} <size>\n"
                     "  {--list-failed-blocks}\n"
                     "  {--update-metadata}      (the default)\n"
                     "  {--no-metadata-update}\n"
                     "  {-q|--quiet}\n"
                     "  {-V|--version}\n";

struct dirty_block {
	uint64_t cache_block, origin_block;
};

} // namespace

int cache_writeback_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()
		("metadata-device", po::value<std::string>(), "")
		("origin-device", po::value<std::string>(), "")
		("fast-device", po::value<std::string>(), "")
		("buffer-size-meg", po::value<std::string>(), "")
		("list-failed-blocks", "")
		("update-metadata", "")
		("no-metadata-update", "")
		("quiet,q", "");
	po::positional_options_description pos;
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("metadata-device"))
		return base::usage_error(cli, "No metadata device provided.");
	if (!vm.count("origin-device"))
		return base::usage_error(cli, "No origin device provided.");
	if (!vm.count("fast-device"))
		return base::usage_error(cli, "No fast device provided.");
	if (vm.count("update-metadata") && vm.count("no-metadata-update"))
		return base::usage_error(cli, "--update-metadata and --no-metadata-update contradict each other.");
	if (vm.count("buffer-size-meg"))
		base::parse_natural("--buffer-size-meg", vm["buffer-size-meg"].as<std::string>()); // accepted, checked
	bool update = !vm.count("no-metadata-update");
	bool quiet = vm.count("quiet");
	const std::string meta_path = vm["metadata-device"].as<std::string>();

	pdata::file_block_io meta(meta_path,
	                          update ? base::access_mode::read_write : base::access_mode::read_only);
	superblock sb = read_cache_superblock(meta);
	pdata::block_manager bm(meta, 256);
	auto tm = std::make_unique<pdata::transaction_manager>(bm);
	auto msm = pdata::metadata_space_map::open(*tm, sb.metadata_space_map_root.data());
	pdata::array mappings(*tm, sb.mapping_root, 8, sb.cache_blocks);
	std::optional<pdata::bitset> dirty_bits;
	if (sb.version >= 2)
		dirty_bits.emplace(*tm, sb.dirty_root, sb.cache_blocks);

	std::vector<dirty_block> dirty;
	mappings.for_each([&](uint64_t cb, const uint8_t *v) {
		uint64_t m = 0;
		for (int i = 7; i >= 0; i--)
			m = m << 8 | v[i];
		if (!(mapping_flags(m) & M_VALID))
			return;
		bool d = dirty_bits ? dirty_bits->test(cb) : bool(mapping_flags(m) & M_DIRTY);
		if (d)
			dirty.push_back({cb, mapping_origin(m)});
	});

	base::file_handle fast = base::open_path(vm["fast-device"].as<std::string>(), base::access_mode::read_only);
	base::file_handle origin = base::open_path(vm["origin-device"].as<std::string>(), base::access_mode::read_write);
	uint64_t bytes = uint64_t(sb.data_block_size) * 512;
	std::vector<uint8_t> buf(bytes);
	std::vector<dirty_block> failed, copied;
	for (const auto &d : dirty) {
		try {
			base::read_exact(fast, d.cache_block * bytes, buf.data(), bytes);
			base::write_exact(origin, d.origin_block * bytes, buf.data(), bytes);
			copied.push_back(d);
		} catch (const base::error &e) {
			if (!quiet)
				std::cerr << e.what() << "\n";
			failed.push_back(d);
		}
	}
	if (::fsync(origin.fd()) < 0)
		throw base::file_error(origin.path(), "fsync failed");

	if (update && !copied.empty()) {
		for (const auto &d : copied) {
			if (dirty_bits)
				dirty_bits->clear(d.cache_block);
			else
				mappings.set64(d.cache_block, pack_mapping(d.origin_block, false));
		}
		sb.mapping_root = mappings.root();
		if (dirty_bits)
			sb.dirty_root = dirty_bits->root();
		msm->commit();
		std::copy(msm->root().begin(), msm->root().end(), sb.metadata_space_map_root.begin());
		std::vector<uint8_t> block(pdata::BLOCK_SIZE);
		encode_superblock(sb, block.data());
		tm->commit(block.data());
	}
	if (vm.count("list-failed-blocks"))
		for (const auto &f : failed)
			std::cout << "cache block " << f.cache_block << " -> origin block " << f.origin_block << " failed\n";
	if (!quiet)
		std::cerr << "wrote back " << copied.size() << " of " << dirty.size() << " dirty blocks"
		          << (update ? "" : " (metadata not updated)") << "\n";
	return failed.empty() ? 0 : 1;
}

} // namespace caching
