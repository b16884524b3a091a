#include "thin-provisioning/output_target.h"

#include "base/error.h"

#include <sys/stat.h>
#include <vector>

namespace thin {

const char OUTPUT_EXPLANATION[] = "\n"
                                  "The output file should either be a block device,\n"
                                  "or an existing file.  The file needs to be large\n"
                                  "enough to hold the metadata.";

std::unique_ptr<pdata::file_block_io> open_output(const std::string &output,
                                                  const std::string &input, uint64_t min_blocks) {
	struct stat st;
	if (::stat(output.c_str(), &st) < 0)
		throw base::error("Output file does not exist.\n" + std::string(OUTPUT_EXPLANATION));
	if (!input.empty() && base::same_file(input, output))
		throw base::error("The output '" + output +
		                  "' is the input: refusing to overwrite the metadata being read.");
	auto io = std::make_unique<pdata::file_block_io>(output, base::access_mode::read_write);
	if (io->nr_blocks() < min_blocks)
		throw base::error("Output file too small.\n" + std::string(OUTPUT_EXPLANATION) +
		                  "\n'" + output + "' holds " + std::to_string(io->nr_blocks()) +
		                  " blocks of 4096 bytes; at least " + std::to_string(min_blocks) +
		                  " are needed.");
	invalidate_superblock(*io);
	return io;
}

void invalidate_superblock(pdata::block_io &io) {
	std::vector<uint8_t> zero(pdata::BLOCK_SIZE, 0);
	io.write(0, 1, zero.data());
	io.flush();
}

} // namespace thin
