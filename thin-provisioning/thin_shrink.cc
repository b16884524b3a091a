// thin_shrink: makes a pool fit a smaller data device (doc/tools.md#thin_shrink, as
// the newer line has it).  Every data block at or above the new size that
// is in use moves to a free block below it: the data is copied on the data
// device first (unless --no-copy), then the new metadata is written with
// the mappings changed to match.  A block several devices share moves once
// and stays shared.  When the blocks in use do not fit below the new size,
// nothing is written.
//
// Two passes over the input (XML, or binary metadata with --binary): the
// first finds the blocks in use, the second writes the output through the
// remapping.
#include "base/command_line.h"
#include "base/error.h"
#include "base/file.h"
#include "base/output.h"
#include "persistent-data/block_manager.h"
#include "persistent-data/count_array.h"
#include "thin-provisioning/commands.h"
#include "thin-provisioning/metadata_builder.h"
#include "thin-provisioning/metadata_dump.h"
#include "thin-provisioning/metadata_input.h"
#include "thin-provisioning/output_target.h"
#include "thin-provisioning/xml_emitter.h"
#include "thin-provisioning/xml_parser.h"

#include <fcntl.h>
#include <iostream>
#include <unistd.h>
#include <unordered_map>

namespace thin {
namespace {

const char USAGE[] = "Usage: thin_shrink [options]\n"
                     "Options:\n"
                     "  {-i|--input} <input metadata: xml, or binary with --binary>\n"
                     "  {-o|--output} <output metadata: xml, or binary with --binary>\n"
                     "  {--data} <data device or file>\n"
                     "  {--nr-blocks} <new number of data blocks>\n"
                     "  {--no-copy}            change the metadata only\n"
                     "  {--binary}             binary metadata in and out\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n";

// Pass 1: which data blocks are in use, and the pool's sizes.
class usage_scan : public emitter {
public:
	void begin_superblock(const superblock_info &sb) override {
		info = sb;
		used.resize(sb.nr_data_blocks);
	}
	void end_superblock() override {}
	void begin_device(uint64_t, const device_details &) override {}
	void end_device() override {}
	void range_map(uint64_t, uint64_t data_begin, uint32_t, uint64_t len) override {
		for (uint64_t i = 0; i < len; i++)
			mark(data_begin + i);
	}
	void single_map(uint64_t, uint64_t data_block, uint32_t) override { mark(data_block); }

	superblock_info info;
	pdata::count_array used;
	uint64_t highest = 0;
	bool any = false;

private:
	void mark(uint64_t b) {
		if (b >= used.size())
			throw base::error("data block " + std::to_string(b) + " is mapped but beyond nr_data_blocks (" +
			                  std::to_string(used.size()) + ")");
		if (!used.get(b))
			used.set(b, 1);
		highest = std::max(highest, b);
		any = true;
	}
};

// Pass 2: the input again, every moved block replaced by its new home.
class remapper : public emitter {
public:
	remapper(emitter &out, const std::unordered_map<uint64_t, uint64_t> &moves, uint64_t nr_blocks)
	    : out_(out), moves_(moves), nr_blocks_(nr_blocks) {}
	void begin_superblock(const superblock_info &sb) override {
		superblock_info s = sb;
		s.nr_data_blocks = nr_blocks_;
		out_.begin_superblock(s);
	}
	void end_superblock() override { out_.end_superblock(); }
	void begin_device(uint64_t dev, const device_details &d) override {
		out_.begin_device(dev, d);
		runs_.emplace(out_);
	}
	void end_device() override {
		runs_->flush();
		runs_.reset();
		out_.end_device();
	}
	void range_map(uint64_t origin, uint64_t data, uint32_t time, uint64_t len) override {
		for (uint64_t i = 0; i < len; i++)
			single_map(origin + i, data + i, time);
	}
	void single_map(uint64_t origin, uint64_t data, uint32_t time) override {
		auto it = moves_.find(data);
		runs_->add(origin, it == moves_.end() ? data : it->second, time);
	}

private:
	emitter &out_;
	const std::unordered_map<uint64_t, uint64_t> &moves_;
	uint64_t nr_blocks_;
	std::optional<run_joiner> runs_;
};

} // namespace

int thin_shrink_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()
		("input,i", po::value<std::string>(), "")
		("output,o", po::value<std::string>(), "")
		("data", po::value<std::string>(), "")
		("nr-blocks", po::value<std::string>(), "")
		("no-copy", "")
		("binary", "");
	po::positional_options_description pos;
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	if (!vm.count("output"))
		return base::usage_error(cli, "No output file provided.");
	bool copy = !vm.count("no-copy");
	if (copy && !vm.count("data"))
		return base::usage_error(cli, "No data device provided (--data, or --no-copy).");
	if (!vm.count("nr-blocks"))
		return base::usage_error(cli, "No new size provided (--nr-blocks).");
	uint64_t new_size;
	try {
		new_size = base::parse_natural("--nr-blocks", vm["nr-blocks"].as<std::string>());
	} catch (const po::error &e) {
		return base::usage_error(cli, e.what());
	}
	const std::string input = vm["input"].as<std::string>(), output = vm["output"].as<std::string>();
	bool binary = vm.count("binary");
	if (::access(output.c_str(), F_OK) == 0 && base::same_file(input, output))
		throw base::error(output + ": is the input; refusing to overwrite it");

	// Reads the whole input into EMITTER.
	auto read_input = [&](emitter &e) {
		if (!binary) {
			parse_thin_xml(input, e, false);
			return;
		}
		auto io = open_metadata(input, "Metadata is not large enough for superblock.");
		superblock sb = read_superblock(*io);
		pdata::block_manager bm(*io, 1024);
		dump_options d;
		dump_result r = dump_metadata(bm, sb, sb.data_sm().nr_blocks, d, e);
		if (!r.damage.empty())
			throw base::error(input + ": metadata contains errors (run thin_check): " + r.damage.front());
	};

	usage_scan scan;
	read_input(scan);
	uint64_t old_size = scan.info.nr_data_blocks;
	if (new_size == 0 || new_size > old_size)
		throw base::error("--nr-blocks " + std::to_string(new_size) + ": must be between 1 and the current " +
		                  std::to_string(old_size) + " blocks");

	// Moves: the used blocks at or above the new size, lowest first, into
	// the free blocks below it, lowest first.
	std::unordered_map<uint64_t, uint64_t> moves;
	uint64_t free_cursor = 0, used_below = 0;
	for (uint64_t b = 0; b < new_size; b++)
		used_below += scan.used.get(b) != 0;
	std::vector<uint64_t> to_move;
	for (uint64_t b = new_size; b < old_size; b++)
		if (scan.used.get(b))
			to_move.push_back(b);
	if (to_move.size() > new_size - used_below)
		throw base::error("insufficient space: " + std::to_string(to_move.size()) + " blocks in use at or above " +
		                  std::to_string(new_size) + ", only " + std::to_string(new_size - used_below) +
		                  " free below it; nothing changed");
	for (uint64_t b : to_move) {
		while (scan.used.get(free_cursor))
			free_cursor++;
		moves[b] = free_cursor++;
	}

	if (copy && !moves.empty()) {
		const std::string data_path = vm["data"].as<std::string>();
		base::file_handle data = base::open_path(data_path, base::access_mode::read_write);
		uint64_t bytes = uint64_t(scan.info.data_block_size) * 512;
		if (base::size_of(data) < (scan.highest + 1) * bytes)
			throw base::error(data_path + ": smaller than the data the metadata maps (" +
			                  std::to_string((scan.highest + 1) * bytes) + " bytes)");
		std::vector<uint8_t> buf(bytes);
		for (uint64_t b : to_move) {
			base::read_exact(data, b * bytes, buf.data(), buf.size());
			base::write_exact(data, moves[b] * bytes, buf.data(), buf.size());
		}
		if (::fsync(data.fd()) < 0)
			throw base::file_error(data_path, "fsync failed");
	}

	// The new metadata, written only now that the data is in place.
	if (binary) {
		auto io = open_output(output, input, MIN_METADATA_BLOCKS);
		try {
			pdata::block_manager bm(*io, 1024);
			auto builder = make_metadata_builder(bm, {});
			remapper r(*builder, moves, new_size);
			read_input(r);
		} catch (...) {
			invalidate_superblock(*io);
			throw;
		}
	} else {
		int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (fd < 0)
			throw base::file_error(output, std::strerror(errno));
		base::file_handle out_file(fd, output);
		base::output_sink sink(fd, output);
		auto xml = make_xml_emitter(sink);
		remapper r(*xml, moves, new_size);
		read_input(r);
		sink.flush();
	}
	std::cerr << "moved " << moves.size() << " data blocks below " << new_size << "\n";
	return 0;
}

} // namespace thin
