// The kernel-written corpus (fixtures/kernel/): the metadata images the real
// kernel wrote, and what the VM recorded of them in each fixture's
// manifest.txt (functional-tests/kernel-scenarios/ made them; the lab's
// README describes the manifest's lines).
//
// A fixture may hold several metadata images of one pool (thin-many keeps
// the pool at three moments).  Manifest lines of the form
// "image SERIAL KEY WORDS..." say KEY of that image alone; a plain
// "KEY WORDS..." line holds for every image that has no line of its own.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ft {

struct kernel_image {
	std::string fixture; // folder under fixtures/kernel/
	std::string serial;  // the metadata disk: "meta", "held", ...
	std::string kind;    // thin, cache or era (the fixture's name says)

	std::string name() const { return fixture + "/" + serial; }
};

// Every metadata image of the corpus, in a fixed order.
const std::vector<kernel_image> &kernel_corpus();

// The compressed file of disk SERIAL of FIXTURE (SERIAL.img.gz or .bz2).
std::string kernel_disk(const std::string &fixture, const std::string &serial);

// The serials of the metadata disks each fixture's images.txt lists (role
// "meta"); a fixture without images.txt (copied from the lab) has "meta".
std::vector<kernel_image> kernel_images_on_disk();

class kernel_manifest {
public:
	kernel_manifest(const kernel_image &image);

	// The words after KEY on its line (the image's own first), if any.
	std::optional<std::vector<std::string>> words(const std::string &key) const;
	std::string word(const std::string &key) const; // the first, or ""
	bool has(const std::string &key) const { return words(key).has_value(); }

	// "thin ID SECTORS NAME": each device's size in sectors.
	const std::map<uint64_t, uint64_t> &thin_sectors() const { return thin_sectors_; }
	// "snapshot NEW of ORIGIN", in the order taken.
	const std::vector<std::pair<uint64_t, uint64_t>> &snapshots() const { return snapshots_; }
	// The hash the kernel's view of a whole device had, "sha256 LABEL 0 LEN HEX"
	// (LABEL is STATE:DEVICE); "" when none was recorded.
	std::string sha256(const std::string &label) const;
	// The kernel's status line of TARGET in state TAG, split into words
	// after the target's name ("0 LEN TYPE ..."); empty when none.
	std::vector<std::string> status(const std::string &tag, const std::string &target) const;
	// The numbers of the ids listed on KEY's line (live_thins, ...).
	std::vector<uint64_t> ids(const std::string &key) const;

private:
	std::multimap<std::string, std::vector<std::string>> general_, own_;
	std::map<uint64_t, uint64_t> thin_sectors_;
	std::vector<std::pair<uint64_t, uint64_t>> snapshots_;
	std::map<std::string, std::string> hashes_;
	std::map<std::pair<std::string, std::string>, std::vector<std::string>> status_;
};

} // namespace ft
