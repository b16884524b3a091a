// thin_generate_metadata (developer tool): writes pool metadata of a
// requested shape the way the kernel would have written it - devices
// filled with runs and scattered blocks, snapshots that share their
// origin's tree, copy-on-write on both sides afterwards, an optional held
// metadata snapshot - for tests and benchmarks.
#include "base/command_line.h"
#include "base/error.h"
#include "base/output.h"
#include "base/progress.h"
#include "dev-tools/commands.h"
#include "dev-tools/pool.h"
#include "persistent-data/block_manager.h"
#include "thin-provisioning/metadata_dump.h"
#include "thin-provisioning/output_target.h"
#include "thin-provisioning/xml_emitter.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <random>
#include <unistd.h>

namespace thin {
namespace {

const char USAGE[] =
    "Usage: thin_generate_metadata -o <metadata file> [options]\n"
    "Options:\n"
    "  {-h|--help}\n"
    "  {-o|--output} <file>            existing file or device to write\n"
    "  {--data-block-size} <sectors>   (default 128)\n"
    "  {--nr-data-blocks} <n>          (default: enough for everything)\n"
    "  {--devices} <n>                 thin devices filled from scratch (default 2)\n"
    "  {--mappings} <n>                mapped blocks per device (default 1000)\n"
    "  {--run-length} <n>              mean run length; 1 = scattered blocks (default 16)\n"
    "  {--snapshots} <n>               snapshots to take (default 0)\n"
    "  {--snapshot-shape} chain|fan    of the last snapshot or of device 0 (default fan)\n"
    "  {--writes} <n>                  copy-on-write blocks after each snapshot (default 10)\n"
    "  {--metadata-snap}               take a held metadata snapshot half way\n"
    "  {--delete} <n>                  delete the first n devices at the end\n"
    "  {--delete-last} <n>             delete the n devices made last (snapshots)\n"
    "  {--recreate}                    create the deleted device ids again, with\n"
    "                                  new mappings\n"
    "  {--seed} <n>                    (default 1)\n"
    "  {--xml} <file>                  also write the metadata as XML\n"
    "  {-q|--quiet}\n"
    "  {-V|--version}\n";

struct shape {
	uint32_t data_block_size = 128;
	uint64_t nr_data_blocks = 0;
	uint64_t devices = 2, mappings = 1000, run_length = 16, snapshots = 0, writes = 10;
	uint64_t deletes = 0, delete_last = 0, seed = 1;
	bool chain = false, metadata_snap = false, recreate = false;
};

class generator {
public:
	generator(pool &p, const shape &s, bool progress)
	    : p_(p), s_(s), rng_(s.seed), bar_("Generating", progress) {}

	void run() {
		uint64_t total = s_.devices * s_.mappings + s_.snapshots * s_.writes * 2;
		uint64_t done = 0;
		for (uint64_t d = 0; d < s_.devices; d++) {
			p_.create_thin(d);
			fill(d);
			done += s_.mappings;
			bar_.update(done, total);
			p_.commit();
		}
		uint64_t next = s_.devices, last = 0;
		for (uint64_t i = 0; i < s_.snapshots; i++) {
			uint64_t origin = (s_.chain && i) ? last : 0;
			p_.create_snap(next, origin);
			// Writes to both sides shadow only the paths they touch.
			cow_writes(next, s_.writes);
			if (s_.devices)
				cow_writes(origin, s_.writes);
			last = next++;
			done += 2 * s_.writes;
			bar_.update(done, total);
			if (s_.metadata_snap && i == s_.snapshots / 2)
				p_.reserve_metadata_snap();
			p_.commit();
		}
		if (s_.metadata_snap && !p_.sb().metadata_snap) {
			p_.reserve_metadata_snap();
			if (s_.devices)
				cow_writes(0, std::max<uint64_t>(s_.writes, 1));
		}
		std::vector<uint64_t> deleted;
		for (uint64_t d = 0; d < s_.deletes && d < next; d++)
			deleted.push_back(d);
		for (uint64_t d = next; d > 0 && next - d < s_.delete_last; d--)
			if (d - 1 >= s_.deletes)
				deleted.push_back(d - 1);
		for (uint64_t d : deleted)
			p_.delete_device(d);
		if (s_.recreate) {
			// The ids come back as new devices (a held metadata snapshot
			// still has the old ones).
			p_.commit();
			for (uint64_t d : deleted) {
				p_.create_thin(d);
				fill(d);
			}
		}
		p_.set_transaction_id(s_.seed);
		p_.commit();
		bar_.finish();
	}

private:
	// Runs of consecutive blocks with gaps between them, mapped to
	// consecutive data blocks, in ascending order.
	void fill(uint64_t dev) {
		uint64_t vblock = rng_() % 64, mapped = 0;
		while (mapped < s_.mappings) {
			uint64_t len = s_.run_length <= 1 ? 1 : 1 + rng_() % (2 * s_.run_length - 1);
			len = std::min(len, s_.mappings - mapped);
			for (uint64_t i = 0; i < len; i++)
				p_.insert(dev, vblock + i, p_.alloc_data_block());
			mapped += len;
			vblock += len + 1 + rng_() % (s_.run_length <= 1 ? 64 : 4 * s_.run_length);
		}
	}

	// Overwrites N random mapped blocks (or fresh ones near the start) with
	// new data blocks, as writes to a snapshotted device do.
	void cow_writes(uint64_t dev, uint64_t n) {
		uint64_t span = std::max<uint64_t>(s_.mappings * 2, 64);
		for (uint64_t i = 0; i < n; i++)
			p_.insert(dev, rng_() % span, p_.alloc_data_block());
	}

	pool &p_;
	const shape &s_;
	std::mt19937_64 rng_;
	base::progress_bar bar_;
};

} // namespace

int thin_generate_metadata_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()
		("output,o", po::value<std::string>(), "")
		("quiet,q", "")
		("metadata-snap", "")
		("recreate", "")
		("snapshot-shape", po::value<std::string>(), "")
		("xml", po::value<std::string>(), "");
	for (const char *n : {"data-block-size", "nr-data-blocks", "devices", "mappings", "run-length",
	                      "snapshots", "writes", "delete", "delete-last", "seed"})
		opts.add_options()(n, po::value<std::string>(), "");
	po::positional_options_description pos;
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("output"))
		return base::usage_error(cli, "No output file provided.");
	shape s;
	try {
		s.data_block_size = uint32_t(base::natural_option(vm, "data-block-size", 128));
		s.devices = base::natural_option(vm, "devices", 2);
		s.mappings = base::natural_option(vm, "mappings", 1000);
		s.run_length = std::max<uint64_t>(1, base::natural_option(vm, "run-length", 16));
		s.snapshots = base::natural_option(vm, "snapshots", 0);
		s.writes = base::natural_option(vm, "writes", 10);
		s.deletes = base::natural_option(vm, "delete", 0);
		s.delete_last = base::natural_option(vm, "delete-last", 0);
		s.recreate = vm.count("recreate");
		s.seed = base::natural_option(vm, "seed", 1);
		s.metadata_snap = vm.count("metadata-snap");
		if (vm.count("snapshot-shape")) {
			std::string shape_name = vm["snapshot-shape"].as<std::string>();
			if (shape_name != "chain" && shape_name != "fan")
				throw po::error("--snapshot-shape must be chain or fan");
			s.chain = shape_name == "chain";
		}
		uint64_t recreated = s.recreate ? s.deletes + s.delete_last : 0;
		uint64_t needed = (s.devices + recreated) * s.mappings + (s.snapshots + 1) * s.writes * 2 + 1024;
		s.nr_data_blocks = base::natural_option(vm, "nr-data-blocks", needed);
	} catch (const po::error &e) {
		return base::usage_error(cli, e.what());
	}
	if (s.snapshots && !s.devices)
		return base::usage_error(cli, "snapshots need at least one device");

	std::string output = vm["output"].as<std::string>();
	auto io = open_output(output, "", 64);
	pdata::block_manager bm(*io, 16384);
	auto p = pool::format(bm, s.data_block_size, s.nr_data_blocks);
	generator g(*p, s, !vm.count("quiet"));
	g.run();

	if (vm.count("xml")) {
		std::string xml = vm["xml"].as<std::string>();
		int fd = ::open(xml.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (fd < 0)
			throw base::file_error(xml, std::strerror(errno));
		base::file_handle f(fd, xml);
		base::output_sink sink(fd, xml);
		auto em = make_xml_emitter(sink);
		superblock sb = p->sb();
		dump_metadata(bm, sb, sb.data_sm().nr_blocks, {}, *em);
		sink.flush();
	}
	return 0;
}

} // namespace thin
