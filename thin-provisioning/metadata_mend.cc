#include "thin-provisioning/metadata_mend.h"

#include "persistent-data/block_manager.h"
#include "persistent-data/space_map_disk.h"
#include "persistent-data/space_map_metadata.h"
#include "persistent-data/transaction_manager.h"

#include <vector>

namespace thin {

mend_outcome mend_metadata(const std::string &path, const check_result &checked,
                           bool clear_needs_check) {
	mend_outcome out;
	bool leaks = checked.space_maps_checked &&
	             (!checked.metadata_leaks.empty() || !checked.data_leaks.empty());
	bool flag = clear_needs_check && checked.sb.needs_check();
	if (!leaks && !flag)
		return out; // nothing to change: nothing is written

	pdata::file_block_io io(path, base::access_mode::read_write);
	superblock sb = checked.sb;
	std::vector<uint8_t> block(pdata::BLOCK_SIZE);
	if (leaks) {
		pdata::block_manager bm(io);
		pdata::transaction_manager tm(bm);
		auto msm = pdata::metadata_space_map::open(tm, sb.metadata_space_map_root.data());
		auto dsm = pdata::disk_space_map::open(tm, sb.data_space_map_root.data());
		for (const auto &l : checked.data_leaks)
			dsm->set_count(l.block, l.expected);
		for (const auto &l : checked.metadata_leaks)
			msm->set_count(l.block, l.expected);
		dsm->commit();
		msm->commit();
		pdata::sm_root_bytes data_root = dsm->root(), meta_root = msm->root();
		std::copy(data_root.begin(), data_root.end(), sb.data_space_map_root.begin());
		std::copy(meta_root.begin(), meta_root.end(), sb.metadata_space_map_root.begin());
		if (flag)
			sb.flags &= ~NEEDS_CHECK_FLAG;
		encode_superblock(sb, block.data());
		tm.commit(block.data());
		out.fixed_leaks = true;
		out.cleared_flag = flag;
		return out;
	}
	sb.flags &= ~NEEDS_CHECK_FLAG;
	encode_superblock(sb, block.data());
	io.write(0, 1, block.data());
	io.flush();
	out.cleared_flag = true;
	return out;
}

} // namespace thin
