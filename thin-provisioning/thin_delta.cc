// thin_delta: the differences between two thin devices' mappings
// (docs/cli.md 7, xml.md 5), for incremental backups.  Subtrees the two
// devices share (the same block) are skipped without being read.
#include "base/command_line.h"
#include "base/error.h"
#include "base/output.h"
#include "persistent-data/block_manager.h"
#include "persistent-data/btree_walker.h"
#include "thin-provisioning/commands.h"
#include "thin-provisioning/mapping_walk.h"
#include "thin-provisioning/metadata_input.h"

#include <iostream>
#include <optional>
#include <unistd.h>

namespace thin {
namespace {

const char USAGE[] = "Usage: thin_delta [options] <device or file>\n"
                     "Options:\n"
                     "  {--thin1, --snap1}\n"
                     "  {--thin2, --snap2}\n"
                     "  {--root1, --root2} <block>\n"
                     "  {-m, --metadata-snap} [block#]\n"
                     "  {--verbose}\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n";

enum class kind { same, different, left_only, right_only };
const char *kind_name(kind k) {
	switch (k) {
	case kind::same: return "same";
	case kind::different: return "different";
	case kind::left_only: return "left_only";
	default: return "right_only";
	}
}

struct mapping {
	uint64_t vblock, data;
};

// The ranges of one kind, merged as the reference merges them: by
// contiguous virtual blocks, and in verbose mode also contiguous data.
class diff_writer {
public:
	diff_writer(base::output_sink &out, bool verbose) : out_(out), verbose_(verbose) {}

	void add(kind k, uint64_t vblock, uint64_t left, uint64_t right) {
		if (cur_ && cur_->k == k && cur_->begin + cur_->len == vblock &&
		    (!verbose_ || (cur_->left + cur_->len == left && cur_->right + cur_->len == right))) {
			cur_->len++;
			return;
		}
		flush();
		cur_ = range{k, vblock, left, right, 1};
	}

	void flush() {
		if (!cur_)
			return;
		if (!verbose_) {
			out_.put("    <").put(kind_name(cur_->k)).put(" begin=\"").put_u64(cur_->begin);
			out_.put("\" length=\"").put_u64(cur_->len).put("\"/>\n");
		} else {
			if (!open_ || *open_ != cur_->k) {
				close_group();
				out_.put("    <").put(kind_name(cur_->k)).put(">\n");
				open_ = cur_->k;
			}
			out_.put("      <range begin=\"").put_u64(cur_->begin);
			if (cur_->k == kind::different) {
				out_.put("\" left_data_begin=\"").put_u64(cur_->left);
				out_.put("\" right_data_begin=\"").put_u64(cur_->right);
			} else
				out_.put("\" data_begin=\"").put_u64(cur_->k == kind::right_only ? cur_->right : cur_->left);
			out_.put("\" length=\"").put_u64(cur_->len).put("\"/>\n");
		}
		cur_.reset();
	}

	void close_group() {
		if (open_)
			out_.put("    </").put(kind_name(*open_)).put(">\n");
		open_.reset();
	}

private:
	struct range {
		kind k;
		uint64_t begin, left, right, len;
	};
	base::output_sink &out_;
	bool verbose_;
	std::optional<range> cur_;
	std::optional<kind> open_;
};

std::vector<mapping> mappings_of(pdata::block_manager &bm, pdata::block_address root,
                                 std::vector<std::string> &damage) {
	std::vector<mapping> v;
	for_each_mapping(bm, root, [&](uint64_t vb, block_time bt) { v.push_back({vb, bt.data_block}); },
	                 damage);
	return v;
}

} // namespace

int thin_delta_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()
		("thin1", po::value<std::string>(), "")("snap1", po::value<std::string>(), "")
		("thin2", po::value<std::string>(), "")("snap2", po::value<std::string>(), "")
		("root1", po::value<std::string>(), "")("root2", po::value<std::string>(), "")
		("metadata-snap,m", "")("metadata-snap-block", po::value<std::string>(), "")
		("verbose", "")("input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	// "-m N" with an optional block number, as thin_dump takes it.
	std::vector<std::string> args;
	for (int i = 0; i < argc; i++) {
		std::string a = argv[i];
		if ((a == "-m" || a == "--metadata-snap") && i + 1 < argc &&
		    std::string(argv[i + 1]).find_first_not_of("0123456789") == std::string::npos &&
		    argv[i + 1][0]) {
			args.push_back("-m");
			args.push_back(std::string("--metadata-snap-block=") + argv[++i]);
		} else
			args.push_back(a);
	}
	std::vector<char *> av;
	for (auto &a : args)
		av.push_back(a.data());
	po::variables_map vm;
	if (auto rc = base::parse_command_line(int(av.size()), av.data(), cli, opts, pos, vm))
		return *rc;

	auto pick = [&](const char *a, const char *b) -> std::optional<std::string> {
		if (vm.count(a))
			return vm[a].as<std::string>();
		if (vm.count(b))
			return vm[b].as<std::string>();
		return std::nullopt;
	};
	auto dev1 = pick("snap1", "thin1"), dev2 = pick("snap2", "thin2");
	bool by_root = vm.count("root1") || vm.count("root2");
	if (!by_root && !dev1)
		return base::usage_error(cli, "--snap1 not specified.");
	if (!by_root && !dev2)
		return base::usage_error(cli, "--snap2 not specified.");
	if (by_root && (!vm.count("root1") || !vm.count("root2")))
		return base::usage_error(cli, "--root1 and --root2 go together.");
	if (!vm.count("input"))
		return base::usage_error(cli, "No input device provided.");

	auto io = open_metadata(vm["input"].as<std::string>(), "Metadata is not large enough for superblock.");
	superblock live = read_superblock(*io);
	superblock sb = live;
	if (vm.count("metadata-snap")) {
		pdata::block_address where = vm.count("metadata-snap-block")
		                                 ? base::parse_natural("-m", vm["metadata-snap-block"].as<std::string>())
		                                 : live.metadata_snap;
		if (!where) {
			std::cerr << "no current metadata snap\n";
			return 1;
		}
		sb = read_superblock(*io, where);
	}
	pdata::block_manager bm(*io, 1024);
	std::vector<std::string> damage;
	pdata::block_address root1 = 0, root2 = 0;
	uint64_t left = 0, right = 0;
	if (by_root) {
		root1 = base::parse_natural("--root1", vm["root1"].as<std::string>());
		root2 = base::parse_natural("--root2", vm["root2"].as<std::string>());
	} else {
		left = base::parse_natural("--snap1", *dev1);
		right = base::parse_natural("--snap2", *dev2);
		std::optional<pdata::block_address> r1, r2;
		for (auto [dev, root] : device_roots(bm, sb.data_mapping_root, damage)) {
			if (dev == left)
				r1 = root;
			if (dev == right)
				r2 = root;
		}
		if (!r1)
			return base::usage_error(cli, "Unable to find mapping tree for snap1 (" + *dev1 + ")");
		if (!r2)
			return base::usage_error(cli, "Unable to find mapping tree for snap2 (" + *dev2 + ")");
		root1 = *r1;
		root2 = *r2;
	}

	base::output_sink out(STDOUT_FILENO, "stdout");
	out.put("<superblock uuid=\"\" time=\"").put_u64(sb.time);
	out.put("\" transaction=\"").put_u64(sb.trans_id);
	out.put("\" data_block_size=\"").put_u64(sb.data_block_size);
	// A metadata snapshot's superblock has no space-map roots, so the data
	// device's size comes from the live one (the reference prints 0 here).
	// metadata_snap is the field of the superblock read, as the reference.
	out.put("\" nr_data_blocks=\"").put_u64(live.data_sm().nr_blocks);
	if (sb.metadata_snap)
		out.put("\" metadata_snap=\"").put_u64(sb.metadata_snap);
	out.put("\">\n  <diff left=\"").put_u64(by_root ? root1 : left);
	out.put("\" right=\"").put_u64(by_root ? root2 : right).put("\">\n");

	diff_writer w(out, vm.count("verbose"));
	if (root1 == root2) {
		// One tree: everything is the same, nothing needs comparing.
		for (const auto &m : mappings_of(bm, root1, damage))
			w.add(kind::same, m.vblock, m.data, m.data);
	} else {
		auto a = mappings_of(bm, root1, damage), b = mappings_of(bm, root2, damage);
		size_t i = 0, j = 0;
		while (i < a.size() || j < b.size()) {
			if (j == b.size() || (i < a.size() && a[i].vblock < b[j].vblock)) {
				w.add(kind::left_only, a[i].vblock, a[i].data, 0);
				i++;
			} else if (i == a.size() || b[j].vblock < a[i].vblock) {
				w.add(kind::right_only, b[j].vblock, 0, b[j].data);
				j++;
			} else {
				w.add(a[i].data == b[j].data ? kind::same : kind::different, a[i].vblock, a[i].data,
				      b[j].data);
				i++, j++;
			}
		}
	}
	w.flush();
	w.close_group();
	out.put("  </diff>\n</superblock>\n");
	out.flush();
	if (!damage.empty()) {
		std::cerr << "metadata contains errors (run thin_check for details): " << damage.front() << "\n";
		return 1;
	}
	return 0;
}

} // namespace thin
