// thin_generate_big (developer tool): writes the metadata of a big thin
// pool directly from a shape, for benchmarks: one origin, then chains of
// snapshots of snapshots, each with its own writes, built bottom-up through
// the restore's metadata builder, whose node dictionary shares every leaf
// and internal node a snapshot has in common with its parent (as the kernel
// shares them).  Nothing is replayed write by write, so 16 GiB of metadata
// takes minutes, not the better part of an hour.  A held metadata snapshot
// is then taken the kernel's way (dev-tools/pool.h) and the live pool moved
// on past it: writes to the origin, the last snapshot deleted.
//
// Deterministic from --seed.  The device's size sets how many snapshots
// there are (about 85% of it filled), unless --snapshots says.
#include "base/command_line.h"
#include "base/error.h"
#include "base/progress.h"
#include "dev-tools/commands.h"
#include "dev-tools/pool.h"
#include "persistent-data/block_manager.h"
#include "thin-provisioning/metadata_builder.h"
#include "thin-provisioning/output_target.h"

#include <cmath>
#include <iostream>
#include <random>
#include <vector>

namespace thin {
namespace {

const char USAGE[] =
    "Usage: thin_generate_big -o <metadata file> [options]\n"
    "Options:\n"
    "  {-h|--help}\n"
    "  {-o|--output} <file>            existing file or device to fill (its size sets the pool's)\n"
    "  {--mappings} <n>                mapped blocks of every device (default 100000)\n"
    "  {--writes} <n>                  blocks each snapshot overwrites (default 1000)\n"
    "  {--chain-length} <n>            snapshots of snapshots in a chain (default 100)\n"
    "  {--snapshots} <n>               snapshots in all (default: about 85% of the device filled)\n"
    "  {--no-metadata-snap}            no held metadata snapshot\n"
    "  {--seed} <n>                    (default 1)\n"
    "  {-q|--quiet}\n"
    "  {-V|--version}\n";

struct big_shape {
	uint64_t mappings = 100000, writes = 1000, chain_length = 100, snapshots = 0, seed = 1;
	bool metadata_snap = true;
};

// Metadata blocks a snapshot adds: each leaf its writes land in (a leaf
// holds ~210 mappings: the builder cuts leaves between 168 and 252 entries;
// writes spread at random over L leaves touch L * (1 - e^(-writes/L)) of
// them), about one in eight of those re-cut with a neighbour by the
// builder's content-defined boundaries, and the internal nodes above.
// Measured at 1 GiB with the defaults: 468 blocks a snapshot, this says 471.
double blocks_per_snapshot(uint64_t mappings, uint64_t writes) {
	double leaves = double(mappings) / 210;
	return 1.12 * leaves * (1 - std::exp(-double(writes) / leaves)) + 3;
}

class big_generator {
public:
	big_generator(emitter &out, const big_shape &s, bool progress)
	    : out_(out), s_(s), rng_(s.seed), bar_("Generating", progress) {}

	void run() {
		superblock_info info;
		info.data_block_size = 128;
		info.nr_data_blocks = s_.mappings + (s_.snapshots + 1) * s_.writes + 1024;
		info.time = uint32_t(s_.snapshots);
		info.transaction = s_.snapshots + 1;
		out_.begin_superblock(info);
		// The origin: runs of ~16 blocks with gaps, on consecutive data
		// blocks, written at time 0.
		std::vector<uint64_t> origin_vblocks;
		origin_vblocks.reserve(s_.mappings);
		for (uint64_t v = rng_() % 64; origin_vblocks.size() < s_.mappings; v += 1 + rng_() % 64)
			for (uint64_t run = 1 + rng_() % 31; run && origin_vblocks.size() < s_.mappings; run--)
				origin_vblocks.push_back(v++);
		vblocks_ = origin_vblocks;
		std::vector<uint64_t> origin(s_.mappings);
		for (uint64_t i = 0; i < s_.mappings; i++)
			origin[i] = pack(next_data_++, 0);
		emit(0, origin, {s_.mappings, 0, 0, s_.snapshots ? 1u : 0u});
		// Chains: the first snapshot of each is the origin's; each next one
		// is its predecessor's, and overwrites WRITES blocks of its own.
		std::vector<uint64_t> current;
		for (uint64_t i = 0; i < s_.snapshots; i++) {
			bool chain_start = i % s_.chain_length == 0;
			if (chain_start)
				current = origin;
			uint32_t time = uint32_t(i + 1);
			for (uint64_t w = 0; w < s_.writes; w++)
				current[rng_() % s_.mappings] = pack(next_data_++, time);
			bool last_in_chain = (i + 1) % s_.chain_length == 0 || i + 1 == s_.snapshots;
			emit(i + 1, current, {s_.mappings, i + 1, time, last_in_chain ? time : time + 1});
			bar_.update(i + 1, s_.snapshots);
		}
		out_.end_superblock();
		bar_.finish();
	}

private:
	static uint64_t pack(uint64_t data_block, uint32_t time) { return data_block << 24 | time; }

	void emit(uint64_t dev, const std::vector<uint64_t> &values, const device_details &d) {
		out_.begin_device(dev, d);
		for (uint64_t i = 0; i < values.size(); i++)
			out_.single_map(vblocks_[i], values[i] >> 24, uint32_t(values[i] & 0xffffff));
		out_.end_device();
	}

	emitter &out_;
	const big_shape &s_;
	std::mt19937_64 rng_;
	base::progress_bar bar_;
	std::vector<uint64_t> vblocks_; // every device maps the same virtual blocks
	uint64_t next_data_ = 0;
};

} // namespace

int thin_generate_big_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()("output,o", po::value<std::string>(), "")("quiet,q", "")("no-metadata-snap", "");
	for (const char *n : {"mappings", "writes", "chain-length", "snapshots", "seed"})
		opts.add_options()(n, po::value<std::string>(), "");
	po::positional_options_description pos;
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("output"))
		return base::usage_error(cli, "No output file provided.");
	std::string output = vm["output"].as<std::string>();
	auto io = open_output(output, "", MIN_METADATA_BLOCKS);
	big_shape s;
	try {
		s.mappings = std::max<uint64_t>(1, base::natural_option(vm, "mappings", 100000));
		s.writes = base::natural_option(vm, "writes", 1000);
		s.chain_length = std::max<uint64_t>(1, base::natural_option(vm, "chain-length", 100));
		s.seed = base::natural_option(vm, "seed", 1);
		s.metadata_snap = !vm.count("no-metadata-snap");
		uint64_t blocks = std::min<uint64_t>(io->nr_blocks(), MAX_METADATA_BLOCKS);
		double origin_blocks = double(s.mappings) / 210 + 3;
		double room = double(blocks) * 0.85 - origin_blocks;
		uint64_t fit = room > 0 && s.writes ? uint64_t(room / blocks_per_snapshot(s.mappings, s.writes)) : 0;
		s.snapshots = base::natural_option(vm, "snapshots", fit);
	} catch (const po::error &e) {
		return base::usage_error(cli, e.what());
	}
	bool quiet = vm.count("quiet");
	try {
		{
			pdata::block_manager bm(*io, 16384);
			auto builder = make_metadata_builder(bm, {});
			big_generator g(*builder, s, !quiet);
			g.run();
		}
		if (s.metadata_snap) {
			// Held the kernel's way, then the live pool moves on: the origin
			// written to, the last snapshot deleted.
			pdata::block_manager bm(*io, 16384);
			auto p = pool::open(bm);
			p->reserve_metadata_snap();
			std::mt19937_64 rng(s.seed + 1);
			for (uint64_t w = 0; w < std::min<uint64_t>(s.writes, s.mappings); w++) {
				uint64_t d = p->alloc_data_block();
				p->insert(0, rng() % (s.mappings * 2), d);
			}
			if (s.snapshots)
				p->delete_device(s.snapshots);
			p->set_transaction_id(s.snapshots + 2);
			p->commit();
		}
	} catch (const std::exception &e) {
		// (Mostly: more --snapshots than the file holds.)
		std::cerr << "thin_generate_big: " << output << ": " << e.what() << "\n";
		return 1;
	}
	if (!quiet)
		std::cerr << "thin_generate_big: " << s.snapshots + 1 << " devices, " << s.mappings << " mappings each\n";
	return 0;
}

} // namespace thin
