// snap_restore: writes a dm-snapshot exception store from snap_dump's XML
// (header last).  Only the metadata is written: the data chunks the
// exceptions name must already be on the COW device.
#include "base/command_line.h"
#include "base/error.h"
#include "base/file.h"
#include "base/xml_reader.h"
#include "snapshot/commands.h"
#include "snapshot/store.h"

#include <iostream>
#include <sys/stat.h>
#include <unordered_set>

namespace snapshot {
namespace {
const char USAGE[] = "Usage: snap_restore [options]\n"
                     "Options:\n"
                     "  {-i|--input} <input xml file>\n"
                     "  {-o|--output} <COW device or file>\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n";

class reader : public base::xml_handler {
public:
	explicit reader(uint64_t cow_bytes) : cow_bytes_(cow_bytes) {}
	void start(const std::string &el, const base::xml_attributes &a) override {
		using base::xml_input_error;
		if (el == "snapshot_store") {
			if (geo_)
				throw xml_input_error("a second <snapshot_store>");
			uint64_t cs = a.number("chunk_size", 1u << 21);
			if (cs == 0 || (cs & (cs - 1)))
				throw xml_input_error("chunk_size " + std::to_string(cs) + " is not a power of two");
			geo_ = geometry{uint32_t(cs), cow_bytes_ / (cs * 512)};
			valid = a.boolean("valid");
			if (a.number("version") != 1)
				throw xml_input_error("version must be 1");
		} else if (el == "exception") {
			if (!geo_)
				throw xml_input_error("<exception> outside <snapshot_store>");
			uint64_t oldc = a.number("old_chunk"), newc = a.number("new_chunk");
			if (newc >= geo_->cow_chunks)
				throw xml_input_error("new_chunk " + std::to_string(newc) + " is beyond the COW device (" +
				                      std::to_string(geo_->cow_chunks) + " chunks)");
			if (geo_->is_metadata_chunk(newc))
				throw xml_input_error("new_chunk " + std::to_string(newc) + " is the header or a metadata area");
			if (!news_.insert(newc).second)
				throw xml_input_error("new_chunk " + std::to_string(newc) + " is used twice");
			if (!olds_.insert(oldc).second)
				throw xml_input_error("old_chunk " + std::to_string(oldc) + " is remapped twice");
			exceptions.push_back({oldc, newc, true});
		} else
			throw xml_input_error("unknown element <" + el + ">");
	}
	void end(const std::string &) override {}
	void finish() override {
		if (!geo_)
			throw base::xml_input_error("no <snapshot_store>");
	}
	const geometry &geo() const { return *geo_; }
	std::vector<exception> exceptions;
	bool valid = true;

private:
	uint64_t cow_bytes_;
	std::optional<geometry> geo_;
	std::unordered_set<uint64_t> news_, olds_;
};
} // namespace

int snap_restore_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()("input,i", po::value<std::string>(), "")("output,o", po::value<std::string>(), "");
	po::positional_options_description pos;
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	if (!vm.count("output"))
		return base::usage_error(cli, "No output file provided.");
	const std::string input = vm["input"].as<std::string>(), output = vm["output"].as<std::string>();
	struct stat st;
	if (::stat(output.c_str(), &st) < 0) {
		std::cerr << "Output file does not exist.\n";
		return 1;
	}
	if (base::same_file(input, output))
		throw base::error(output + ": is the input; refusing to overwrite it");
	base::file_handle cow = base::open_path(output, base::access_mode::read_write);
	reader r(base::size_of(cow));
	base::read_xml(input, r); // (all of it read before anything is written)
	write_store(cow, r.geo(), r.exceptions, r.valid);
	return 0;
}

} // namespace snapshot
