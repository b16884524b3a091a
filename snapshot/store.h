// dm-snapshot's persistent exception store on a COW device (doc/snapshot-format.md;
// kernel dm-snap-persistent.c).  All little-endian; sizes in chunks of
// chunk_size 512-byte sectors.
//
//   chunk 0               header: magic "SnAp" (0x70416e53), valid, version 1,
//                         chunk_size; the rest zero
//   chunk 1 + i*(E+1)     metadata area i: E = chunk bytes / 16 pairs of
//                         {old_chunk, new_chunk} (origin chunk -> COW chunk)
//   the E chunks after    data chunks
//
// The first pair whose new_chunk is 0 ends the store; only the last area is
// partly filled.  Reading never throws on damage: what is wrong is listed
// and the reader goes on where it can.
#pragma once

#include "base/file.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace snapshot {

constexpr uint32_t SNAP_MAGIC = 0x70416e53;

struct header {
	uint32_t magic = SNAP_MAGIC;
	uint32_t valid = 1;
	uint32_t version = 1;
	uint32_t chunk_size = 0; // sectors
};

struct exception {
	uint64_t old_chunk, new_chunk;
	bool ok = true; // passed every check (repair and export use only these)
};

// The layout that follows from a chunk size.
struct geometry {
	uint32_t chunk_size;  // sectors
	uint64_t cow_chunks;  // the COW device's size in chunks
	uint64_t chunk_bytes() const { return uint64_t(chunk_size) * 512; }
	uint64_t per_area() const { return chunk_bytes() / 16; }
	uint64_t area_chunk(uint64_t i) const { return 1 + i * (per_area() + 1); }
	bool is_metadata_chunk(uint64_t c) const { return c == 0 || (c - 1) % (per_area() + 1) == 0; }
};

struct problem {
	std::string what;
	bool fatal;
};

struct store {
	header hdr;
	std::optional<geometry> geo; // when the header is sane
	std::vector<exception> exceptions; // in store order, as recorded
	uint64_t areas = 0;                // metadata areas holding the store
	std::vector<uint64_t> per_area_used;
	std::vector<problem> problems;
};

std::vector<uint8_t> encode_header(const header &h, uint32_t chunk_bytes);

// Reads the store on COW.  ORIGIN_CHUNKS: the origin's size in chunks, when
// known, to check old_chunk against.  Checks every exception: new_chunk on
// the device, not the header or a metadata area, used once; old_chunk used
// once (and on the origin).
store read_store(const base::file_handle &cow, std::optional<uint64_t> origin_chunks);

// Writes a fresh store of GEO's chunk size holding EXCEPTIONS (whose
// new_chunk values must already be data chunks): header last.
void write_store(const base::file_handle &cow, const geometry &geo, const std::vector<exception> &exceptions,
                 bool valid);

// The data chunks a fresh store hands out, in order (skipping the header and
// the metadata areas).
uint64_t nth_data_chunk(const geometry &geo, uint64_t n);

} // namespace snapshot
