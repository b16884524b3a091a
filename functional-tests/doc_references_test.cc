// Every reference the sources make to a document or to another source file
// must resolve, so a reader who follows one lands somewhere:
//   - doc/<name>.md exists and its #anchor (if any) names one of its headings;
//   - a relative markdown link in a .md file reaches a file (and heading);
//   - a path like dir/<name>.h or dir/<name>.cc in a comment names a real
//     file;
//   - none of the old forms remain: the specification's file names
//     (formats, cli and xml, with .md) anywhere but doc/xml.md, or paths
//     under a docs directory,
//     which point outside the repository.
// Paths are relative to the repository root, DMPD_SRC.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// Build output, VCS data and binary fixtures: nothing there is ours to
// keep in step (top-level names are the build directories .gitignore
// lists).
const std::set<std::string> SKIPPED_DIRS = {".git", "obj", "bin", "asan", "tsan", "static", "fuzz", "deb",
                                            "functional-tests/fixtures"};

// GitHub's heading anchor: lowercase, spaces to '-', punctuation other than
// '-' and '_' dropped (bytes of non-ASCII letters are kept).
std::string slug(const std::string &heading) {
	std::string s;
	for (unsigned char c : heading) {
		if (std::isalnum(c) || c == '-' || c == '_' || c >= 0x80)
			s += static_cast<char>(std::tolower(c));
		else if (c == ' ')
			s += '-';
	}
	return s;
}

// The anchors of a markdown text's headings, outside fenced code blocks;
// a repeated heading gets -1, -2, ... as on GitHub.
std::set<std::string> anchors_of(const std::string &markdown) {
	static const std::regex heading(R"(^#{1,6}[ \t]+(.*?)[ \t#]*$)");
	std::set<std::string> anchors;
	std::map<std::string, int> seen;
	std::istringstream in(markdown);
	bool fenced = false;
	for (std::string line; std::getline(in, line);) {
		if (line.rfind("```", 0) == 0) {
			fenced = !fenced;
			continue;
		}
		std::smatch m;
		if (fenced || !std::regex_match(line, m, heading))
			continue;
		std::string a = slug(m[1]);
		int n = seen[a]++;
		anchors.insert(n ? a + "-" + std::to_string(n) : a);
	}
	return anchors;
}

// Reads files of the repository at ROOT (anchors cached per document).
class repository {
public:
	explicit repository(fs::path root) : root_(std::move(root)) {}

	bool has_file(const std::string &rel) const { return fs::is_regular_file(root_ / rel); }

	// The anchors of markdown file REL (which must exist).
	const std::set<std::string> &anchors(const std::string &rel) {
		auto it = anchors_.find(rel);
		if (it == anchors_.end())
			it = anchors_.emplace(rel, anchors_of(read(rel))).first;
		return it->second;
	}

	std::string read(const std::string &rel) const {
		std::ifstream f(root_ / rel, std::ios::binary);
		return std::string(std::istreambuf_iterator<char>(f), {});
	}

	const fs::path &root() const { return root_; }

private:
	fs::path root_;
	std::map<std::string, std::set<std::string>> anchors_;
};

enum class file_kind { cpp, hash_comments, prose };

// TEXT with everything but its comments blanked (newlines kept, so offsets
// and line numbers still match).  C++: // and /* */ outside string, char
// and raw-string literals; shell and make: from a '#' that starts a word.
std::string comments_only(const std::string &text, file_kind kind) {
	if (kind == file_kind::prose)
		return text;
	std::string out(text.size(), ' ');
	auto keep = [&](size_t from, size_t to) {
		for (size_t i = from; i < to && i < text.size(); ++i)
			out[i] = text[i];
	};
	for (size_t i = 0; i < text.size(); ++i)
		if (text[i] == '\n')
			out[i] = '\n';
	size_t i = 0, n = text.size();
	auto line_end = [&](size_t from) {
		size_t e = text.find('\n', from);
		return e == std::string::npos ? n : e;
	};
	if (kind == file_kind::hash_comments) {
		while (i < n) {
			size_t e = line_end(i);
			for (size_t j = i; j < e; ++j)
				if (text[j] == '#' && (j == i || std::isspace(static_cast<unsigned char>(text[j - 1])))) {
					keep(j, e);
					break;
				}
			i = e + 1;
		}
		return out;
	}
	while (i < n) {
		char c = text[i];
		if (c == '/' && i + 1 < n && text[i + 1] == '/') {
			size_t e = line_end(i);
			keep(i, e);
			i = e;
		} else if (c == '/' && i + 1 < n && text[i + 1] == '*') {
			size_t e = text.find("*/", i + 2);
			e = e == std::string::npos ? n : e + 2;
			keep(i, e);
			i = e;
		} else if (c == 'R' && i + 1 < n && text[i + 1] == '"' &&
		           (i == 0 || !(std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '_'))) {
			size_t open = text.find('(', i + 2);
			if (open == std::string::npos)
				return out;
			std::string close = ")" + text.substr(i + 2, open - i - 2) + "\"";
			size_t e = text.find(close, open);
			i = e == std::string::npos ? n : e + close.size();
		} else if (c == '"' || (c == '\'' && (i == 0 || !std::isxdigit(static_cast<unsigned char>(text[i - 1]))))) {
			// (A quote after a hex digit is a digit separator: 1'000.)
			size_t j = i + 1;
			while (j < n && text[j] != c && text[j] != '\n')
				j += text[j] == '\\' ? 2 : 1;
			i = j + 1;
		} else {
			++i;
		}
	}
	return out;
}

struct problem {
	std::string where; // file:line
	std::string reference;
	std::string why;
};

std::ostream &operator<<(std::ostream &os, const problem &p) {
	return os << p.where << ": " << p.reference << ": " << p.why;
}

// The old forms, spelt in pieces so that this file does not contain them.
const std::string MD = ".md";
const std::string OLD_DOCS_DIR = std::string("doc") + "s/";
const std::set<std::string> OLD_SPEC_FILES = {"formats" + MD, "cli" + MD, "xml" + MD};

bool is_path_char(char c) {
	return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '/' || c == '#';
}

// A path with a component in capitals (DOMAIN/TOOL.cc, doc/NAME.md) is a
// pattern for the reader to fill in, not a reference - except README,
// a real file's conventional name.
bool is_placeholder(const std::string &path) {
	static const std::regex capitals(R"((^|/)[A-Z][A-Z_]*(/|\.|$))");
	return std::regex_search(path, capitals) && path.find("README") == std::string::npos;
}

// Whether PATH, written in file NAME, is doc/xml.md relative to NAME's
// directory (a link between the pages of doc/).
bool is_doc_xml_from(const std::string &name, const std::string &path) {
	return (fs::path(name).parent_path() / path).lexically_normal().generic_string() == "doc/xml.md";
}

bool ends_with(const std::string &s, const std::string &suffix) {
	return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The problems with the references in TEXT, the contents of file NAME
// (relative to REPO's root).
std::vector<problem> scan_text(const std::string &name, const std::string &text, repository &repo) {
	static const std::regex doc_ref(R"(doc/[\w.-]+\.md(#[\w-]*)?)");
	static const std::regex source_path(R"(([\w-][\w.-]*/)+[\w.-]+\.(h|cc))");
	static const std::regex md_link(R"(\]\(([^()\s]+)\))");

	file_kind kind = ends_with(name, ".cc") || ends_with(name, ".h") ? file_kind::cpp
	                 : ends_with(name, ".md") || ends_with(name, ".8") ? file_kind::prose
	                                                                   : file_kind::hash_comments;
	std::string comments = comments_only(text, kind);
	std::vector<problem> found;
	auto where = [&](size_t at) {
		return name + ":" + std::to_string(1 + std::count(text.begin(), text.begin() + at, '\n'));
	};
	// A markdown file's path (relative to the root) with its anchor
	// checked, or why it does not resolve.
	auto check_target = [&](const std::string &file, const std::string &anchor) -> std::string {
		if (!repo.has_file(file))
			return "no such file";
		if (!anchor.empty() && ends_with(file, ".md") && !repo.anchors(file).count(anchor))
			return "no heading with anchor #" + anchor + " in " + file;
		return "";
	};

	for (size_t i = 0; i < text.size();) {
		if (!is_path_char(text[i])) {
			++i;
			continue;
		}
		size_t start = i;
		while (i < text.size() && is_path_char(text[i]))
			++i;
		std::string token = text.substr(start, i - start);
		while (!token.empty() && (token.back() == '.' || token.back() == '#'))
			token.pop_back(); // the sentence's full stop, not the path's
		size_t hash = token.find('#');
		std::string path = token.substr(0, hash);
		std::string anchor = hash == std::string::npos ? "" : token.substr(hash + 1);
		std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);

		if (is_placeholder(path)) {
			continue;
		} else if (path.rfind(OLD_DOCS_DIR, 0) == 0) {
			found.push_back({where(start), token, "not in the repository; use doc/"});
		} else if (OLD_SPEC_FILES.count(base) && path != "doc/xml.md" && !is_doc_xml_from(name, path)) {
			found.push_back({where(start), token, "the specification's file, not in the repository; use doc/"});
		} else if (std::regex_match(token, doc_ref)) {
			std::string why = check_target(path, anchor);
			if (!why.empty())
				found.push_back({where(start), token, why});
		} else if (std::regex_match(token, source_path) && comments[start] != ' ' &&
		           !(start > 0 && text[start - 1] == '<') && !repo.has_file(path)) {
			// (After '<' it names a system header: <linux/fs.h>.)
			found.push_back({where(start), token, "no such file"});
		}
	}

	if (kind == file_kind::prose && ends_with(name, ".md")) {
		fs::path dir = fs::path(name).parent_path();
		for (std::sregex_iterator it(text.begin(), text.end(), md_link), end; it != end; ++it) {
			std::string target = (*it)[1];
			if (target.find("://") != std::string::npos || target.rfind("mailto:", 0) == 0)
				continue;
			size_t hash = target.find('#');
			std::string anchor = hash == std::string::npos ? "" : target.substr(hash + 1);
			std::string file =
			    hash == 0 ? name : (dir / target.substr(0, hash)).lexically_normal().generic_string();
			std::string why = file.rfind("..", 0) == 0 ? "outside the repository" : check_target(file, anchor);
			if (!why.empty())
				found.push_back({where(it->position(1)), target, why});
		}
	}
	return found;
}

bool is_scanned(const fs::path &rel) {
	std::string name = rel.filename().string();
	std::string ext = rel.extension().string();
	return name == "Makefile" || ext == ".cc" || ext == ".h" || ext == ".sh" || ext == ".md" || ext == ".8";
}

// The problems in every scanned file under the repository's root.
std::vector<problem> scan_repository(repository &repo) {
	std::vector<problem> found;
	std::vector<std::string> files;
	for (auto it = fs::recursive_directory_iterator(repo.root()); it != fs::recursive_directory_iterator(); ++it) {
		std::string rel = fs::relative(it->path(), repo.root()).generic_string();
		if (it->is_directory() && (SKIPPED_DIRS.count(rel) || SKIPPED_DIRS.count(it->path().filename().string()))) {
			it.disable_recursion_pending();
			continue;
		}
		if (it->is_regular_file() && is_scanned(rel))
			files.push_back(rel);
	}
	std::sort(files.begin(), files.end());
	for (const auto &rel : files) {
		auto p = scan_text(rel, repo.read(rel), repo);
		found.insert(found.end(), p.begin(), p.end());
	}
	return found;
}

fs::path source_root() {
	const char *s = std::getenv("DMPD_SRC");
	return s ? fs::path(s) : fs::path();
}

TEST(DocReferences, EveryReferenceResolves) {
	ASSERT_FALSE(source_root().empty()) << "DMPD_SRC must name the source tree";
	repository repo(source_root());
	ASSERT_TRUE(repo.has_file("Makefile")) << source_root() << " is not the source tree";
	auto found = scan_repository(repo);
	for (const auto &p : found)
		ADD_FAILURE() << p;
	EXPECT_TRUE(found.empty()) << found.size() << " dangling reference(s)";
}

// The scanner reports what it should, so the test above can fail.  (The
// bad names are split into pieces so this file's own text stays clean.)
TEST(DocReferences, SelfCheckReportsDanglingReferences) {
	ASSERT_FALSE(source_root().empty()) << "DMPD_SRC must name the source tree";
	repository repo(source_root());
	std::string doc = "doc/";
	std::string text = "// Good: (" + doc + "tools.md#thin_check), persistent-data/btree_node.h.\n"
	                   "// Missing file: (" + doc + "nowhere.md#superblock).\n"
	                   "// Missing heading: (" + doc + "tools.md#no-such-tool).\n"
	                   "// Old forms: (formats" + MD + " 3), (" + OLD_DOCS_DIR + "cli" + MD + " 1), (/work/shared/" +
	                   OLD_DOCS_DIR + "xml" + MD + ").\n"
	                   "// Missing source: (see persistent-data/" "damage.h).\n"
	                   "const char *s = \"persistent-data/" "not_a_comment.h\"; // not a comment: ignored\n"
	                   "// A system header: <linux/" "fs.h>.\n";
	auto found = scan_text("example.cc", text, repo);
	std::vector<std::string> got;
	for (const auto &p : found)
		got.push_back(p.where + " " + p.reference);
	EXPECT_EQ(got, (std::vector<std::string>{
	                   "example.cc:2 " + doc + "nowhere.md#superblock",
	                   "example.cc:3 " + doc + "tools.md#no-such-tool",
	                   "example.cc:4 formats" + MD,
	                   "example.cc:4 " + OLD_DOCS_DIR + "cli" + MD,
	                   "example.cc:4 /work/shared/" + OLD_DOCS_DIR + "xml" + MD,
	                   "example.cc:5 persistent-data/" "damage.h",
	               }));
	for (const auto &p : found)
		std::cout << "  reported as expected: " << p << "\n";

	// Links between the pages of doc/ resolve from the page's directory.
	const std::string page = doc + "example.md";
	auto links = scan_text(page,
	                       "[good](tools.md#thin_check), [bad](thin-format.md#no-such-heading),\n"
	                       "[missing](nowhere.md), [here](#nor-here)\n"
	                       "# A heading\n",
	                       repo);
	std::vector<std::string> link_refs;
	for (const auto &p : links)
		link_refs.push_back(p.where + " " + p.reference);
	EXPECT_EQ(link_refs, (std::vector<std::string>{page + ":1 thin-format.md#no-such-heading", page + ":2 nowhere.md",
	                                               page + ":2 #nor-here"}));
}

} // namespace
