#include "thin-provisioning/mapping_walk.h"

#include "persistent-data/btree_walker.h"

namespace thin {
namespace {

class prefetching_visitor : public pdata::btree_visitor {
public:
	prefetching_visitor(pdata::block_manager &bm, std::vector<std::string> &damage,
	                    std::function<void(pdata::node_ref)> leaf)
	    : bm_(bm), damage_(damage), leaf_(std::move(leaf)) {}

	bool visit_internal(const pdata::node_context &, pdata::node_ref n) override {
		std::vector<pdata::block_address> kids;
		for (uint32_t i = 0; i < n.nr_entries(); i++)
			kids.push_back(n.value64(i));
		bm_.prefetch(std::move(kids));
		return true;
	}
	void visit_leaf(const pdata::node_context &, pdata::node_ref n) override { leaf_(n); }
	void damage(const pdata::btree_damage &d) override {
		if (d.fatal)
			damage_.push_back(d.reason + " (block " + std::to_string(d.block) + ")");
	}

private:
	pdata::block_manager &bm_;
	std::vector<std::string> &damage_;
	std::function<void(pdata::node_ref)> leaf_;
};

} // namespace

void for_each_mapping(pdata::block_manager &bm, pdata::block_address root,
                      const std::function<void(uint64_t, block_time)> &fn,
                      std::vector<std::string> &damage) {
	prefetching_visitor v(bm, damage, [&](pdata::node_ref n) {
		for (uint32_t i = 0; i < n.nr_entries(); i++)
			fn(n.key(i), unpack_block_time(n.value64(i)));
	});
	pdata::walk_btree(bm, root, {MAPPING_VALUE_SIZE, false}, v);
}

std::vector<std::pair<uint64_t, pdata::block_address>>
device_roots(pdata::block_manager &bm, pdata::block_address mapping_root, std::vector<std::string> &damage) {
	std::vector<std::pair<uint64_t, pdata::block_address>> out;
	prefetching_visitor v(bm, damage, [&](pdata::node_ref n) {
		for (uint32_t i = 0; i < n.nr_entries(); i++)
			out.emplace_back(n.key(i), n.value64(i));
	});
	pdata::walk_btree(bm, mapping_root, {MAPPING_VALUE_SIZE, false}, v);
	return out;
}

} // namespace thin
