// thin_read_floor (developer tool): reads and checksums every metadata
// block in use once, in large sorted reads - the floor a checker's time is
// measured against in `make bench`.  --count prints the number of blocks.
#include "base/command_line.h"
#include "base/crc32c.h"
#include "persistent-data/batch_reader.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_bitmap.h"
#include "thin-provisioning/commands.h"
#include "thin-provisioning/metadata_input.h"

#include <iostream>

namespace thin {

int thin_read_floor_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], "Usage: thin_read_floor [options] <metadata file>\n"
	                                "Reads every metadata block in use once, in large sorted reads.\n"
	                                "Options:\n"
	                                "  {--count}      print the number of blocks read\n"
	                                "  {-h|--help}\n"
	                                "  {-V|--version}\n"};
	po::options_description opts;
	opts.add_options()("count", "")("input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	auto io = open_metadata(vm["input"].as<std::string>(), "Metadata device/file too small.");
	superblock sb = read_superblock(*io);
	pdata::sm_root root = sb.metadata_sm();

	// The used blocks, from the metadata space map's bitmaps.
	std::vector<uint8_t> index(pdata::BLOCK_SIZE);
	io->read(root.bitmap_root, 1, index.data());
	std::vector<pdata::block_address> bitmaps, used;
	for (uint64_t i = 0; i * pdata::ENTRIES_PER_BITMAP < root.nr_blocks; i++)
		bitmaps.push_back(pdata::decode_index_entry(index.data() + pdata::METADATA_INDEX_OFFSET +
		                                            pdata::INDEX_ENTRY_SIZE * i)
		                      .blocknr);
	for (size_t i = 0; i < bitmaps.size(); i++) {
		std::vector<uint8_t> bm(pdata::BLOCK_SIZE);
		io->read(bitmaps[i], 1, bm.data());
		for (uint32_t k = 0; k < pdata::ENTRIES_PER_BITMAP; k++) {
			uint64_t b = i * pdata::ENTRIES_PER_BITMAP + k;
			if (b < root.nr_blocks && pdata::bitmap_block::get(bm.data(), k))
				used.push_back(b);
		}
	}
	if (vm.count("count")) {
		std::cout << used.size() << "\n";
		return 0;
	}
	uint32_t acc = 0;
	pdata::read_in_batches(*io, used, [&](pdata::block_address, const uint8_t *d) {
		if (d)
			acc ^= base::crc32c_raw(0xffffffffu, d + 4, pdata::BLOCK_SIZE - 4);
	});
	std::cout << used.size() << " blocks, checksum xor " << acc << "\n";
	return 0;
}

} // namespace thin
