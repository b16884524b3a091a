#include "snapshot/store.h"

#include "base/endian.h"
#include "base/error.h"

#include <algorithm>
#include <cstring>
#include <unistd.h>
#include <unordered_set>

namespace snapshot {

std::vector<uint8_t> encode_header(const header &h, uint32_t chunk_bytes) {
	std::vector<uint8_t> b(chunk_bytes, 0);
	base::store_le32(b.data(), h.magic);
	base::store_le32(b.data() + 4, h.valid);
	base::store_le32(b.data() + 8, h.version);
	base::store_le32(b.data() + 12, h.chunk_size);
	return b;
}

store read_store(const base::file_handle &cow, std::optional<uint64_t> origin_chunks) {
	store s;
	uint64_t size = base::size_of(cow);
	if (size < 512) {
		s.problems.push_back({"the COW device is smaller than a sector", true});
		return s;
	}
	uint8_t h[16];
	base::read_exact(cow, 0, h, 16);
	s.hdr = {base::load_le32(h), base::load_le32(h + 4), base::load_le32(h + 8), base::load_le32(h + 12)};
	if (s.hdr.magic == 0) {
		s.problems.push_back({"no store: the header's magic is 0 (a fresh COW device the kernel has not formatted)",
		                      true});
		return s;
	}
	if (s.hdr.magic != SNAP_MAGIC) {
		s.problems.push_back({"bad magic " + std::to_string(s.hdr.magic) + " in the header (expected " +
		                          std::to_string(SNAP_MAGIC) + ", \"SnAp\")",
		                      true});
		return s;
	}
	if (s.hdr.version != 1)
		s.problems.push_back({"unsupported version " + std::to_string(s.hdr.version), true});
	uint32_t cs = s.hdr.chunk_size;
	if (cs == 0 || (cs & (cs - 1)) || cs > (1u << 21)) {
		s.problems.push_back({"chunk size " + std::to_string(cs) + " sectors is not a power of two up to 1 GiB", true});
		return s;
	}
	geometry g{cs, size / (uint64_t(cs) * 512)};
	s.geo = g;
	if (g.cow_chunks < 2) {
		s.problems.push_back({"the COW device holds fewer than two chunks", true});
		return s;
	}
	if (s.hdr.valid > 1)
		s.problems.push_back({"valid flag is " + std::to_string(s.hdr.valid) + " (0 or 1 expected)", true});

	std::unordered_set<uint64_t> news, olds;
	std::vector<uint8_t> area(g.chunk_bytes());
	bool ended = false;
	size_t dup_lines = 0;
	auto report = [&](const std::string &w) {
		if (dup_lines++ < 100)
			s.problems.push_back({w, true});
	};
	for (uint64_t i = 0; !ended; i++) {
		uint64_t at = g.area_chunk(i);
		if (at >= g.cow_chunks) {
			// Every area so far was full and there is no room for another:
			// the kernel would have invalidated the snapshot at the next write.
			s.problems.push_back({"metadata area " + std::to_string(i) + " would lie at chunk " + std::to_string(at) +
			                          ", beyond the COW device: the store is full",
			                      false});
			break;
		}
		base::read_exact(cow, at * g.chunk_bytes(), area.data(), area.size());
		s.areas = i + 1;
		uint64_t used = 0;
		for (uint64_t k = 0; k < g.per_area(); k++) {
			uint64_t oldc = base::load_le64(area.data() + 16 * k), newc = base::load_le64(area.data() + 16 * k + 8);
			if (ended) {
				if (oldc || newc)
					report("metadata area " + std::to_string(i) + " (chunk " + std::to_string(at) + "): pair " +
					       std::to_string(k) + " {" + std::to_string(oldc) + ", " + std::to_string(newc) +
					       "} follows the end of the store");
				continue;
			}
			if (newc == 0) {
				ended = true;
				continue;
			}
			used++;
			std::string where = "metadata area " + std::to_string(i) + " (chunk " + std::to_string(at) + "), exception " +
			                    std::to_string(s.exceptions.size()) + " {" + std::to_string(oldc) + " -> " +
			                    std::to_string(newc) + "}: ";
			bool ok = true;
			if (newc >= g.cow_chunks)
				report(where + "COW chunk beyond the device (" + std::to_string(g.cow_chunks) + " chunks)"), ok = false;
			else if (g.is_metadata_chunk(newc))
				report(where + "COW chunk is the header or a metadata area"), ok = false;
			else if (!news.insert(newc).second)
				report(where + "COW chunk used twice"), ok = false;
			if (origin_chunks && oldc >= *origin_chunks)
				report(where + "origin chunk beyond the origin (" + std::to_string(*origin_chunks) + " chunks)"), ok = false;
			else if (!olds.insert(oldc).second)
				report(where + "origin chunk remapped twice"), ok = false;
			s.exceptions.push_back({oldc, newc, ok});
		}
		s.per_area_used.push_back(used);
	}
	if (dup_lines > 100)
		s.problems.push_back({"... and " + std::to_string(dup_lines - 100) + " more bad exceptions", true});
	if (s.hdr.valid == 0)
		s.problems.push_back({"the snapshot is marked invalid (the kernel invalidated it, e.g. when it overflowed)",
		                      true});
	return s;
}

uint64_t nth_data_chunk(const geometry &g, uint64_t n) {
	// Area 0's data chunks are 2..E+1, area 1's E+3..2E+2, ...
	uint64_t area = n / g.per_area(), k = n % g.per_area();
	return g.area_chunk(area) + 1 + k;
}

void write_store(const base::file_handle &cow, const geometry &g, const std::vector<exception> &ex, bool valid) {
	uint64_t per = g.per_area();
	uint64_t areas = ex.size() / per + 1; // the last one partly filled (maybe empty): it ends the store
	if (g.area_chunk(areas - 1) >= g.cow_chunks)
		throw base::error(cow.path() + ": " + std::to_string(ex.size()) + " exceptions need " + std::to_string(areas) +
		                  " metadata areas, more than the COW device holds");
	// The header is zeroed first and written last: a store cut short is no store.
	std::vector<uint8_t> zero(g.chunk_bytes(), 0);
	base::write_exact(cow, 0, zero.data(), zero.size());
	std::vector<uint8_t> area(g.chunk_bytes());
	for (uint64_t i = 0; i < areas; i++) {
		std::fill(area.begin(), area.end(), 0);
		for (uint64_t k = 0; k < per && i * per + k < ex.size(); k++) {
			base::store_le64(area.data() + 16 * k, ex[i * per + k].old_chunk);
			base::store_le64(area.data() + 16 * k + 8, ex[i * per + k].new_chunk);
		}
		base::write_exact(cow, g.area_chunk(i) * g.chunk_bytes(), area.data(), area.size());
	}
	if (::fsync(cow.fd()) < 0)
		throw base::file_error(cow.path(), "fsync failed");
	auto h = encode_header({SNAP_MAGIC, valid ? 1u : 0u, 1, g.chunk_size}, uint32_t(g.chunk_bytes()));
	base::write_exact(cow, 0, h.data(), h.size());
	if (::fsync(cow.fd()) < 0)
		throw base::file_error(cow.path(), "fsync failed");
}

} // namespace snapshot
