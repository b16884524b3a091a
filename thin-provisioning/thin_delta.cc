// thin_delta: the differences between two thin devices' mappings
// (doc/tools.md#thin_delta, doc/xml.md#thin_delta-output), for incremental backups.
//
// Both trees are flattened to their lists of leaves (reading only internal
// nodes), then merged.  A leaf the two devices share (the same block at the
// same place, as after a snapshot) is read once and reported as the same,
// without comparing anything; the reference reads and compares it twice.
#include "base/command_line.h"
#include "base/error.h"
#include "base/output.h"
#include "persistent-data/block_manager.h"
#include "persistent-data/btree_node.h"
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
// contiguous virtual blocks, and in verbose mode also contiguous data (on
// the sides that have it: a left_only range has no right data).
class diff_writer {
public:
	diff_writer(base::output_sink &out, bool verbose) : out_(out), verbose_(verbose) {}

	void add(kind k, uint64_t vblock, uint64_t left, uint64_t right) {
		auto data_follows = [&] {
			return (k == kind::right_only || cur_->left + cur_->len == left) &&
			       (k == kind::left_only || cur_->right + cur_->len == right);
		};
		if (cur_ && cur_->k == k && cur_->begin + cur_->len == vblock && (!verbose_ || data_follows())) {
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

// A leaf of a mapping tree, found without reading it.
struct leaf_slot {
	pdata::block_address block;
	uint64_t key_lo;
};

// The leaves of the tree at ROOT, in key order, reading only the internal
// nodes (the height comes from the leftmost path).
std::vector<leaf_slot> leaves_of(pdata::block_manager &bm, pdata::block_address root,
                                 std::vector<std::string> &damage) {
	unsigned height = 0;
	for (pdata::block_address b = root;; height++) {
		auto r = bm.read(b, pdata::btree_node_validator());
		pdata::node_ref n(r->data);
		if (n.is_leaf() || !n.nr_entries() || height > 64)
			break;
		b = n.value64(0);
	}
	std::vector<leaf_slot> out;
	if (height == 0) {
		out.push_back({root, 0});
		return out;
	}
	class visitor : public pdata::btree_visitor {
	public:
		visitor(unsigned height, std::vector<leaf_slot> &out, std::vector<std::string> &damage)
		    : height_(height), out_(out), damage_(damage) {}
		bool visit_internal(const pdata::node_context &c, pdata::node_ref n) override {
			if (c.depth + 1 < height_)
				return true;
			for (uint32_t i = 0; i < n.nr_entries(); i++)
				out_.push_back({n.value64(i), n.key(i)});
			return false;
		}
		void visit_leaf(const pdata::node_context &c, pdata::node_ref) override {
			out_.push_back({c.block, c.key_lo}); // a leaf above the expected depth
		}
		void damage(const pdata::btree_damage &d) override {
			if (d.fatal)
				damage_.push_back(d.reason + " (block " + std::to_string(d.block) + ")");
		}

	private:
		unsigned height_;
		std::vector<leaf_slot> &out_;
		std::vector<std::string> &damage_;
	} v(height, out, damage);
	pdata::walk_btree(bm, root, {MAPPING_VALUE_SIZE, false}, v);
	return out;
}

// The mappings of one leaf (none, with a damage line, if it is unreadable).
std::vector<mapping> read_leaf(pdata::block_manager &bm, pdata::block_address b, std::vector<std::string> &damage) {
	std::vector<mapping> v;
	try {
		auto r = bm.read(b, pdata::btree_node_validator());
		pdata::node_ref n(r->data);
		if (!n.is_leaf()) {
			damage.push_back("block " + std::to_string(b) + " is not a leaf at a leaf's depth");
			return v;
		}
		if (n.value_size() != MAPPING_VALUE_SIZE) {
			damage.push_back("value size mismatch: expected " + std::to_string(MAPPING_VALUE_SIZE) + ", got " +
			                 std::to_string(n.value_size()) + " (block " + std::to_string(b) + ")");
			return v;
		}
		for (uint32_t i = 0; i < n.nr_entries(); i++)
			v.push_back({n.key(i), unpack_block_time(n.value64(i)).data_block});
	} catch (const base::error &e) {
		damage.push_back(e.what());
	}
	return v;
}

// Streams one tree's mappings leaf by leaf.
class leaf_stream {
public:
	leaf_stream(pdata::block_manager &bm, std::vector<leaf_slot> leaves, std::vector<std::string> &damage)
	    : bm_(bm), leaves_(std::move(leaves)), damage_(damage) {}

	// Between leaves: the next leaf has not been read.
	bool at_leaf_boundary() const { return pos_ == buf_.size(); }
	const leaf_slot *next_leaf() const { return next_ < leaves_.size() ? &leaves_[next_] : nullptr; }
	void skip_leaf() { next_++; }

	// The current mapping; nullptr at the end.
	const mapping *head() {
		while (pos_ == buf_.size()) {
			if (next_ == leaves_.size())
				return nullptr;
			buf_ = read_leaf(bm_, leaves_[next_++].block, damage_);
			pos_ = 0;
		}
		return &buf_[pos_];
	}
	void pop() { pos_++; }

private:
	pdata::block_manager &bm_;
	std::vector<leaf_slot> leaves_;
	std::vector<std::string> &damage_;
	std::vector<mapping> buf_;
	size_t pos_ = 0, next_ = 0;
};

void diff_trees(pdata::block_manager &bm, pdata::block_address root1, pdata::block_address root2, diff_writer &w,
                std::vector<std::string> &damage) {
	leaf_stream a(bm, leaves_of(bm, root1, damage), damage), b(bm, leaves_of(bm, root2, damage), damage);
	for (;;) {
		if (a.at_leaf_boundary() && b.at_leaf_boundary() && a.next_leaf() && b.next_leaf() &&
		    a.next_leaf()->block == b.next_leaf()->block) {
			// A shared leaf: the same on both sides, read once.
			for (const auto &m : read_leaf(bm, a.next_leaf()->block, damage))
				w.add(kind::same, m.vblock, m.data, m.data);
			a.skip_leaf();
			b.skip_leaf();
			continue;
		}
		const mapping *x = a.head(), *y = b.head();
		if (!x && !y)
			break;
		if (!y || (x && x->vblock < y->vblock)) {
			w.add(kind::left_only, x->vblock, x->data, 0);
			a.pop();
		} else if (!x || y->vblock < x->vblock) {
			w.add(kind::right_only, y->vblock, 0, y->data);
			b.pop();
		} else {
			w.add(x->data == y->data ? kind::same : kind::different, x->vblock, x->data, y->data);
			a.pop();
			b.pop();
		}
	}
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
	diff_trees(bm, root1, root2, w, damage);
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
