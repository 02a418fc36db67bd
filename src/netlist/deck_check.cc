// SPDX-License-Identifier: MIT
#include "gaincell/netlist/deck_check.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/strings.h"

namespace gaincell::netlist {
namespace fs = std::filesystem;
namespace {

bool is_regular(const fs::path& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool exists_at_all(const fs::path& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0;
}

fs::path canonical_or_normal(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  return ec ? fs::absolute(p).lexically_normal() : c;
}

bool is_under(const fs::path& file, const fs::path& root) {
  auto f = file.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++f) {
    if (r->empty()) continue;  // a trailing '/'
    if (f == file.end() || *f != *r) return false;
  }
  return true;
}

}  // namespace

std::string IncludeLine::trim_tail() const { return std::string(trim(tail)); }

std::optional<IncludeLine> parse_include_line(std::string_view raw) {
  const std::string_view line = trim(raw);
  IncludeLine inc;
  inc.word = first_word(line);
  if (inc.word != ".include" && inc.word != ".inc" && inc.word != ".lib") return std::nullopt;
  const std::string_view rest = trim(line.substr(inc.word.size()));
  if (!rest.empty() && (rest[0] == '"' || rest[0] == '\'')) {
    const auto close = rest.find(rest[0], 1);
    inc.unterminated = close == std::string_view::npos;
    if (inc.unterminated) return inc;
    inc.target = std::string(rest.substr(1, close - 1));
    inc.tail = std::string(rest.substr(close + 1));
  } else {
    std::size_t space = 0;
    while (space < rest.size() && !std::isspace(static_cast<unsigned char>(rest[space]))) ++space;
    inc.target = std::string(rest.substr(0, space));
    inc.tail = std::string(rest.substr(space));
  }
  return inc;
}

fs::path expand_home(const std::string& target) {
  if (target.empty() || target[0] != '~') return target;
  const char* home = std::getenv("HOME");
  const std::string rest = target.size() > 1 && target[1] == '/' ? target.substr(2) : target.substr(1);
  return fs::path(home != nullptr && *home != '\0' ? home : "/") / rest;
}

void check_script_free(std::string_view text, const std::string& file) {
  const std::vector<std::string> lines = text_lines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const int line_no = static_cast<int>(i) + 1;
    const std::string_view line = trim(lines[i]);
    const std::string low = lower(line.substr(0, std::min<std::size_t>(line.size(), 16)));
    std::string why;
    if (line_no == 1 && low.rfind("*ng_script", 0) == 0) {
      why = "a first line '*ng_script' makes ngspice run the whole file as a command script";
    } else if (low.rfind("*#", 0) == 0) {
      why = "ngspice runs a line starting '*#' as a command";
    } else {
      const std::string word = first_word(low);
      // ngspice matches these cards by prefix: ".controlx" opens a block too.
      if (word.rfind(".control", 0) == 0 || word.rfind(".endc", 0) == 0) {
        why = "a .control block holds ngspice commands (ngspice reads any line starting '.control' as one)";
      } else if (word == "shell") {
        why = "'shell' is ngspice's command to run a program";
      } else if ((word.rfind(".inc", 0) == 0 && word != ".inc" && word != ".include") ||
                 (word.rfind(".lib", 0) == 0 && word != ".lib")) {
        throw InputError("GC-1105",
                          "'" + word + "': ngspice reads any card starting '" + word.substr(0, 4) + "' as " +
                              (word[1] == 'i' ? ".include" : ".lib") + ", which gaincell would not check",
                          "spell it .include, .inc or .lib").at({file, line_no, 1, ""});
      }
    }
    if (!why.empty()) {
      throw InputError("GC-1103", why + "; netlists read by gaincell must be data only",
                        "gaincell drives ngspice itself: put analyses and measures in the sweep spec, and remove "
                        "this line").at({file, line_no, 1, ""});
    }
  }
}

std::vector<fs::path> include_roots(const std::vector<fs::path>& given) {
  std::vector<fs::path> candidates = given;
  const BuildInfo& b = build_info();
  if (!b.source_dir.empty()) candidates.emplace_back(fs::path(b.source_dir) / "netlists");
  if (!b.data_dir.empty()) candidates.emplace_back(fs::path(b.data_dir) / "netlists");
  if (const char* env = std::getenv("GAINCELL_INCLUDE_PATH"); env != nullptr) {
    std::string list(env);
    std::size_t start = 0;
    while (start <= list.size()) {
      const auto colon = list.find(':', start);
      const std::string dir = list.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      if (!dir.empty()) candidates.emplace_back(dir);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  std::vector<fs::path> roots;
  for (const auto& c : candidates) {
    if (c.empty()) continue;
    const fs::path r = canonical_or_normal(c);
    if (std::find(roots.begin(), roots.end(), r) == roots.end()) roots.push_back(r);
  }
  return roots;
}

std::vector<IncludedFile> included_files(std::string_view text, const fs::path& origin) {
  const fs::path top = fs::absolute(origin).parent_path();
  std::vector<IncludedFile> out;
  // Files still to read, each with the text that names its includes.
  struct Pending {
    fs::path file;     // absolute, for resolving relative paths
    fs::path display;  // as messages name it (the top as the caller gave it)
    std::string text;
  };
  std::vector<Pending> todo{{fs::absolute(origin).lexically_normal(), origin, std::string(text)}};
  std::vector<fs::path> seen{todo.front().file};
  while (!todo.empty()) {
    Pending cur = std::move(todo.back());
    todo.pop_back();
    std::vector<Pending> nested;
    const std::vector<std::string> lines = text_lines(cur.text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const int line_no = static_cast<int>(i) + 1;
      const auto include = parse_include_line(lines[i]);
      if (!include || !include->reads_file()) continue;
      fs::path p = expand_home(include->target);
      if (p.is_relative()) {
        const fs::path beside = (cur.file.parent_path() / p).lexically_normal();
        const fs::path from_top = (top / p).lexically_normal();
        p = (!exists_at_all(beside) && exists_at_all(from_top)) ? from_top : beside;
      }
      p = p.lexically_normal();
      if (std::find(seen.begin(), seen.end(), p) != seen.end()) continue;
      seen.push_back(p);
      IncludedFile f{p, cur.display, line_no, is_regular(p)};
      out.push_back(f);
      if (f.exists) nested.push_back({p, p, read_text_file(p)});
    }
    // Depth first, in the order the lines name them.
    todo.insert(todo.end(), std::make_move_iterator(nested.rbegin()), std::make_move_iterator(nested.rend()));
  }
  return out;
}

void check_deck(std::string_view text, const fs::path& origin, const std::vector<fs::path>& roots) {
  check_script_free(text, origin.string());
  for (const auto& f : included_files(text, origin)) {
    const SourceLocation at{f.from.string(), f.line, 1, ""};
    if (!f.exists) {
      struct stat st{};
      if (::stat(f.file.c_str(), &st) == 0) {
        throw InputError("GC-1108", f.file.string() + " is not a regular file (a device, FIFO or directory)",
                          "name a netlist or model file").at(at);
      }
      throw InputError("GC-1108", "file " + f.file.string() + " does not exist",
                        "a relative path is relative to the file that names it").at(at);
    }
    const fs::path real = canonical_or_normal(f.file);
    if (std::none_of(roots.begin(), roots.end(), [&](const fs::path& r) { return is_under(real, r); })) {
      std::string list;
      for (const auto& r : roots) list += (list.empty() ? "" : ", ") + r.string();
      throw InputError("GC-1111",
                        f.file.string() + (real != f.file ? " (" + real.string() + ")" : "") +
                            " is outside the directories a deck may read: " + list,
                        "add its directory to the spec's \"include_roots\" (or the card's, or GAINCELL_INCLUDE_PATH)").at(at);
    }
    check_script_free(read_text_file(f.file), f.file.string());
  }
}

}  // namespace gaincell::netlist
