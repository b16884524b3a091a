#include "functional-tests/kernel_corpus.h"

#include "functional-tests/harness.h"

#include <dirent.h>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace ft {
namespace {

std::vector<std::string> split(const std::string &line) {
	std::istringstream in(line);
	std::vector<std::string> w;
	for (std::string s; in >> s;)
		w.push_back(s);
	return w;
}

std::string kind_of(const std::string &fixture) { return fixture.substr(0, fixture.find('-')); }

bool exists(const std::string &path) { return access(path.c_str(), R_OK) == 0; }

} // namespace

const std::vector<kernel_image> &kernel_corpus() {
	static const std::vector<kernel_image> corpus = [] {
		std::vector<std::pair<std::string, std::string>> names{
		    {"thin-basic", "meta"},   {"thin-many", "held"},      {"thin-many", "deleted"},
		    {"thin-many", "meta"},    {"thin-discard", "meta"},   {"thin-meta-grow", "meta"},
		    {"thin-no-space", "meta"}, {"cache-basic", "meta"},   {"cache-v1", "meta"},
		    {"cache-v2", "meta"},     {"era-basic", "meta"},      {"era-snap", "meta"},
		};
		std::vector<kernel_image> v;
		for (const auto &[f, s] : names)
			v.push_back({f, s, kind_of(f)});
		return v;
	}();
	return corpus;
}

std::string kernel_disk(const std::string &fixture, const std::string &serial) {
	std::string base = ft::fixture("kernel/" + fixture + "/" + serial + ".img");
	for (const char *ext : {".gz", ".bz2"})
		if (exists(base + ext))
			return base + ext;
	throw std::runtime_error("no image " + base + ".gz or .bz2");
}

std::vector<kernel_image> kernel_images_on_disk() {
	std::vector<kernel_image> found;
	std::string top = ft::fixture("kernel");
	DIR *d = opendir(top.c_str());
	if (!d)
		throw std::runtime_error("cannot list " + top);
	while (dirent *e = readdir(d)) {
		std::string f = e->d_name;
		std::string kind = kind_of(f);
		if (kind != "thin" && kind != "cache" && kind != "era")
			continue;
		std::string list = top + "/" + f + "/images.txt";
		if (!exists(list)) {
			found.push_back({f, "meta", kind});
			continue;
		}
		std::istringstream in(read_file(list));
		for (std::string line; std::getline(in, line);) {
			auto w = split(line);
			if (w.size() >= 2 && w[0][0] != '#' && w[1] == "meta")
				found.push_back({f, w[0], kind});
		}
	}
	closedir(d);
	return found;
}

kernel_manifest::kernel_manifest(const kernel_image &image) {
	std::istringstream in(read_file(ft::fixture("kernel/" + image.fixture + "/manifest.txt")));
	for (std::string line; std::getline(in, line);) {
		auto w = split(line);
		if (w.empty())
			continue;
		if (w[0] == "image" && w.size() >= 3) {
			if (w[1] == image.serial)
				own_.insert({w[2], std::vector<std::string>(w.begin() + 3, w.end())});
			continue;
		}
		general_.insert({w[0], std::vector<std::string>(w.begin() + 1, w.end())});
		if (w[0] == "thin" && w.size() >= 3)
			thin_sectors_[std::stoull(w[1])] = std::stoull(w[2]);
		else if (w[0] == "snapshot" && w.size() == 4)
			snapshots_.push_back({std::stoull(w[1]), std::stoull(w[3])});
		else if (w[0] == "sha256" && w.size() == 5 && w[2] == "0")
			hashes_[w[1]] = w[4];
		else if (w[0] == "status" && w.size() >= 3)
			status_[{w[1], w[2]}] = std::vector<std::string>(w.begin() + 3, w.end());
	}
}

std::optional<std::vector<std::string>> kernel_manifest::words(const std::string &key) const {
	for (const auto *m : {&own_, &general_})
		if (auto it = m->find(key); it != m->end())
			return it->second;
	return std::nullopt;
}

std::string kernel_manifest::word(const std::string &key) const {
	auto w = words(key);
	return w && !w->empty() ? w->front() : "";
}

std::string kernel_manifest::sha256(const std::string &label) const {
	auto it = hashes_.find(label);
	return it == hashes_.end() ? "" : it->second;
}

std::vector<std::string> kernel_manifest::status(const std::string &tag, const std::string &target) const {
	auto it = status_.find({tag, target});
	return it == status_.end() ? std::vector<std::string>() : it->second;
}

std::vector<uint64_t> kernel_manifest::ids(const std::string &key) const {
	std::vector<uint64_t> v;
	if (auto w = words(key))
		for (const auto &s : *w)
			v.push_back(std::stoull(s));
	return v;
}

} // namespace ft
