#include "thin-provisioning/metadata_pack.h"

#include "base/endian.h"
#include "base/error.h"
#include "persistent-data/batch_reader.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_reader.h"
#include "thin-provisioning/superblock.h"

#include <boost/iostreams/device/file.hpp>
#include <boost/iostreams/filter/zlib.hpp>
#include <boost/iostreams/filtering_stream.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>

namespace thin {
namespace {

namespace io = boost::iostreams;
using pdata::block_address;

constexpr char MAGIC[8] = {'D', 'M', 'P', 'D', 'P', 'A', 'K', '1'};
constexpr size_t HEADER = 24;

// The blocks the metadata space map counts (and the superblock, whatever
// it says); nullopt when unreadable.
std::optional<std::vector<block_address>> used_blocks(pdata::block_io &dev) {
	std::vector<uint8_t> b(pdata::BLOCK_SIZE);
	dev.read(0, 1, b.data());
	if (!superblock_problems(b.data(), 0, dev.nr_blocks()).empty())
		return std::nullopt;
	auto used = pdata::read_used_blocks(dev, pdata::read_metadata_index(dev, decode_superblock(b.data()).metadata_sm()));
	if (used && (used->empty() || used->front() != 0))
		used->insert(used->begin(), 0);
	return used;
}

} // namespace

pack_stats pack_metadata(pdata::block_io &dev, const std::string &out) {
	pack_stats st;
	st.nr_blocks = dev.nr_blocks();
	auto used = used_blocks(dev);
	st.used_space_map = used.has_value();
	std::vector<block_address> blocks;
	if (used)
		blocks = std::move(*used);
	else
		for (block_address b = 0; b < dev.nr_blocks(); b++)
			blocks.push_back(b); // filtered to non-zero below

	std::ofstream file(out, std::ios::binary | std::ios::trunc);
	if (!file)
		throw base::file_error(out, "cannot create the pack file: " + std::string(std::strerror(errno)));
	// The header's count is written last, once known.
	uint8_t header[HEADER] = {};
	std::memcpy(header, MAGIC, 8);
	base::store_le64(header + 8, st.nr_blocks);
	file.write(reinterpret_cast<const char *>(header), HEADER);
	{
		io::filtering_ostream z;
		z.push(io::zlib_compressor(io::zlib_params(io::zlib::best_speed)));
		z.push(file);
		bool all = used.has_value();
		pdata::read_in_batches(dev, blocks, [&](block_address b, const uint8_t *data) {
			if (!data)
				return;
			if (!all && std::all_of(data, data + pdata::BLOCK_SIZE, [](uint8_t c) { return c == 0; }))
				return;
			uint8_t num[8];
			base::store_le64(num, b);
			z.write(reinterpret_cast<const char *>(num), 8);
			z.write(reinterpret_cast<const char *>(data), pdata::BLOCK_SIZE);
			st.packed++;
		});
		z.flush();
	}
	base::store_le64(header + 16, st.packed);
	file.seekp(0);
	file.write(reinterpret_cast<const char *>(header), HEADER);
	file.flush();
	if (!file)
		throw base::file_error(out, "write failed");
	file.seekp(0, std::ios::end);
	st.bytes_written = uint64_t(file.tellp());
	return st;
}

namespace {

struct header_info {
	uint64_t nr_blocks, nr_packed;
};

header_info read_header(std::ifstream &file, const std::string &path) {
	uint8_t header[HEADER];
	if (!file.read(reinterpret_cast<char *>(header), HEADER) || std::memcmp(header, MAGIC, 8) != 0)
		throw base::file_error(path, "not a thin_metadata_pack file");
	header_info h{base::load_le64(header + 8), base::load_le64(header + 16)};
	if (h.nr_blocks == 0 || h.nr_blocks > (uint64_t(1) << 40) / pdata::BLOCK_SIZE || h.nr_packed > h.nr_blocks)
		throw base::file_error(path, "damaged pack header (" + std::to_string(h.nr_packed) + " blocks of " +
		                                 std::to_string(h.nr_blocks) + ")");
	return h;
}

} // namespace

uint64_t packed_device_blocks(const std::string &path) {
	std::ifstream file(path, std::ios::binary);
	if (!file)
		throw base::file_error(path, std::strerror(errno));
	return read_header(file, path).nr_blocks;
}

pack_stats unpack_metadata(const std::string &in, pdata::block_io &out, bool out_is_zero) {
	std::ifstream file(in, std::ios::binary);
	if (!file)
		throw base::file_error(in, std::strerror(errno));
	header_info h = read_header(file, in);
	if (out.nr_blocks() < h.nr_blocks)
		throw base::file_error(out.name(), "too small for the packed metadata: " + std::to_string(h.nr_blocks) +
		                                       " blocks needed, " + std::to_string(out.nr_blocks()) + " there");
	pack_stats st;
	st.nr_blocks = h.nr_blocks;
	io::filtering_istream z;
	z.push(io::zlib_decompressor());
	z.push(file);
	std::vector<uint8_t> zero(pdata::BLOCK_SIZE * 64, 0), data(pdata::BLOCK_SIZE);
	block_address next = 0; // blocks below this are written
	std::vector<uint8_t> superblock(pdata::BLOCK_SIZE, 0);
	auto zero_until = [&](block_address end) {
		if (out_is_zero)
			next = std::max(next, end);
		while (next < end) {
			size_t n = size_t(std::min<uint64_t>(64, end - next));
			out.write(next, n, zero.data());
			next += n;
		}
	};
	try {
		for (uint64_t i = 0; i < h.nr_packed; i++) {
			uint8_t num[8];
			if (!z.read(reinterpret_cast<char *>(num), 8) ||
			    !z.read(reinterpret_cast<char *>(data.data()), pdata::BLOCK_SIZE))
				throw base::file_error(in, "truncated: " + std::to_string(i) + " of " +
				                               std::to_string(h.nr_packed) + " blocks");
			block_address b = base::load_le64(num);
			if (b >= h.nr_blocks || b < next)
				throw base::file_error(in, "damaged: block number " + std::to_string(b) + " out of order or range");
			zero_until(b);
			if (b == 0)
				superblock = data; // written last
			else
				out.write(b, 1, data.data());
			next = b + 1;
			st.packed++;
		}
	} catch (const io::zlib_error &e) {
		throw base::file_error(in, std::string("damaged compressed data: ") + e.what());
	}
	zero_until(h.nr_blocks);
	out.flush();
	out.write(0, 1, superblock.data());
	out.flush();
	return st;
}

} // namespace thin
