#include "unit-tests/fuzz_targets.h"

#include "base/error.h"
#include "caching/metadata_checker.h"
#include "caching/metadata_dump.h"
#include "era/metadata.h"
#include "snapshot/store.h"
#include "era/metadata_checker.h"
#include "persistent-data/block_io.h"
#include "persistent-data/block_manager.h"
#include "persistent-data/btree_node.h"
#include "base/check_report.h"
#include "thin-provisioning/metadata_builder.h"
#include "thin-provisioning/metadata_checker.h"
#include "thin-provisioning/metadata_dump.h"
#include "thin-provisioning/superblock.h"
#include "thin-provisioning/superblock_salvage.h"
#include "thin-provisioning/xml_parser.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace fuzz {
namespace {

constexpr size_t MAX_IMAGE_BLOCKS = 256;

std::vector<uint8_t> one_block(const uint8_t *data, size_t size) {
	std::vector<uint8_t> b(pdata::BLOCK_SIZE, 0);
	std::memcpy(b.data(), data, std::min(size, b.size()));
	return b;
}

// Swallows everything the emitter is told.
class null_emitter : public thin::emitter {
public:
	void begin_superblock(const thin::superblock_info &) override {}
	void end_superblock() override {}
	void begin_device(uint64_t, const thin::device_details &) override {}
	void end_device() override {}
	void range_map(uint64_t, uint64_t, uint32_t, uint64_t) override {}
	void single_map(uint64_t, uint64_t, uint32_t) override {}
};

} // namespace

void superblock_decoder(const uint8_t *data, size_t size) {
	auto b = one_block(data, size);
	for (pdata::block_address where : {0ull, 1ull, 130ull})
		thin::superblock_problems(b.data(), where, 1024);
	auto sb = thin::decode_superblock(b.data());
	sb.data_sm();
	sb.metadata_sm();
}

void btree_node_decoder(const uint8_t *data, size_t size) {
	auto b = one_block(data, size);
	pdata::block_address where = size > 8 ? data[size - 1] : 0;
	if (pdata::btree_node_validator().check(b.data(), where))
		return;
	pdata::node_ref n(b.data());
	uint64_t sum = 0;
	for (uint32_t i = 0; i < n.nr_entries(); i++) {
		sum += n.key(i);
		if (n.value_size() >= 8)
			sum += n.value64(i);
	}
	if (n.nr_entries())
		n.lower_bound(sum);
}

void thin_image(const uint8_t *data, size_t size) {
	size_t blocks = std::clamp<size_t>((size + pdata::BLOCK_SIZE - 1) / pdata::BLOCK_SIZE, 1, MAX_IMAGE_BLOCKS);
	std::vector<uint8_t> bytes(blocks * pdata::BLOCK_SIZE, 0);
	std::memcpy(bytes.data(), data, std::min(size, bytes.size()));
	pdata::memory_block_io io(std::move(bytes));
	try {
		thin::check_report quiet(nullptr);
		thin::check_options opts;
		thin::check_metadata(io, opts, quiet);
		opts.metadata_snap = true;
		thin::check_metadata(io, opts, quiet);
	} catch (const base::error &) {
	}
	try {
		auto found = thin::salvage_superblock(io, {});
		pdata::block_manager bm(io, 64);
		thin::dump_options d;
		d.repair = true;
		null_emitter out;
		thin::dump_metadata(bm, found.sb, found.nr_data_blocks, d, out);
	} catch (const base::error &) {
	}
}

void thin_xml(const uint8_t *data, size_t size) {
	int fd = ::memfd_create("fuzz.xml", MFD_CLOEXEC);
	if (fd < 0)
		return;
	if (size && ::write(fd, data, size) != ssize_t(size)) {
		::close(fd);
		return;
	}
	std::string path = "/proc/self/fd/" + std::to_string(fd);
	pdata::memory_block_io io(MAX_IMAGE_BLOCKS);
	try {
		pdata::block_manager bm(io, 64);
		auto builder = thin::make_metadata_builder(bm, {});
		thin::parse_thin_xml(path, *builder, false);
	} catch (const base::error &) {
	}
	::close(fd);
}

namespace {
class null_cache_emitter : public caching::emitter {
public:
	void begin_superblock(const caching::cache_info &) override {}
	void end_superblock() override {}
	void begin_mappings() override {}
	void end_mappings() override {}
	void mapping(uint64_t, uint64_t, bool) override {}
	void begin_hints() override {}
	void end_hints() override {}
	void hint(uint64_t, const std::vector<uint8_t> &) override {}
	void begin_discards() override {}
	void end_discards() override {}
	void discard(uint64_t, uint64_t) override {}
};
} // namespace

void cache_image(const uint8_t *data, size_t size) {
	size_t blocks = std::clamp<size_t>((size + pdata::BLOCK_SIZE - 1) / pdata::BLOCK_SIZE, 1, MAX_IMAGE_BLOCKS);
	std::vector<uint8_t> bytes(blocks * pdata::BLOCK_SIZE, 0);
	std::memcpy(bytes.data(), data, std::min(size, bytes.size()));
	pdata::memory_block_io io(std::move(bytes));
	try {
		base::check_report quiet(nullptr);
		caching::check_cache_metadata(io, {}, quiet);
		std::vector<uint8_t> b(pdata::BLOCK_SIZE);
		io.read(0, 1, b.data());
		if (!caching::superblock_problems(b.data(), io.nr_blocks()).empty())
			return;
		auto sb = caching::decode_superblock(b.data());
		if (sb.cache_blocks > 1u << 20 || sb.discard_nr_blocks > 1u << 24)
			return; // bounded by the image size, as the tools bound it by the device
		pdata::block_manager bm(io, 64);
		null_cache_emitter out;
		caching::dump_cache(bm, sb, out);
	} catch (const base::error &) {
	}
}

namespace {
class null_era_emitter : public era::emitter {
public:
	void begin_superblock(const era::era_info &) override {}
	void end_superblock() override {}
	void begin_writeset(uint32_t, uint32_t) override {}
	void writeset_bit(uint32_t, bool) override {}
	void end_writeset() override {}
	void begin_era_array() override {}
	void era(uint32_t, uint32_t) override {}
	void end_era_array() override {}
};
} // namespace

void era_image(const uint8_t *data, size_t size) {
	size_t blocks = std::clamp<size_t>((size + pdata::BLOCK_SIZE - 1) / pdata::BLOCK_SIZE, 1, MAX_IMAGE_BLOCKS);
	std::vector<uint8_t> bytes(blocks * pdata::BLOCK_SIZE, 0);
	std::memcpy(bytes.data(), data, std::min(size, bytes.size()));
	pdata::memory_block_io io(std::move(bytes));
	try {
		base::check_report quiet(nullptr);
		era::check_era_metadata(io, {}, quiet);
		std::vector<uint8_t> b(pdata::BLOCK_SIZE);
		io.read(0, 1, b.data());
		if (!era::superblock_problems(b.data(), 0, io.nr_blocks()).empty())
			return;
		auto sb = era::decode_superblock(b.data());
		if (sb.nr_blocks > 1u << 20)
			return; // bounded by the image size, as the tools bound it by the device
		pdata::block_manager bm(io, 64);
		null_era_emitter out;
		std::vector<std::string> damage;
		era::dump_era(bm, sb, true, true, out, damage);
		era::written_since(bm, sb, 2, true, damage);
	} catch (const base::error &) {
	}
}

void snap_store(const uint8_t *data, size_t size) {
	int fd = ::memfd_create("fuzz.cow", MFD_CLOEXEC);
	if (fd < 0)
		return;
	base::file_handle cow(fd, "fuzz.cow");
	if (size && ::write(fd, data, size) != ssize_t(size))
		return;
	try {
		snapshot::read_store(cow, uint64_t(1) << 20);
	} catch (const base::error &) {
	}
}

target by_name(const std::string &name) {
	if (name == "snap_store")
		return snap_store;
	if (name == "era_image")
		return era_image;
	if (name == "cache_image")
		return cache_image;
	if (name == "superblock_decoder")
		return superblock_decoder;
	if (name == "btree_node_decoder")
		return btree_node_decoder;
	if (name == "thin_image")
		return thin_image;
	if (name == "thin_xml")
		return thin_xml;
	return nullptr;
}

} // namespace fuzz
