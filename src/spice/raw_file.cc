// SPDX-License-Identifier: MIT
#include "raw_file.h"

#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <system_error>

#include "gaincell/core/error.h"
#include "gaincell/core/strings.h"

namespace gaincell::spice {
namespace {

constexpr std::string_view kRawError = "GC-1401";
constexpr std::size_t kMaxShown = 80;  // longest excerpt of a bad line in a message

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (to_lower(text[i]) != to_lower(prefix[i])) return false;
  }
  return true;
}

bool equals_ci(std::string_view a, std::string_view b) { return a.size() == b.size() && starts_with_ci(a, b); }

// Quotes a line for a message. A rawfile may hold binary data, so anything
// unprintable is escaped and long lines are cut.
std::string quote_text(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool cut = text.size() > kMaxShown;
  if (cut) text = text.substr(0, kMaxShown);
  std::string out = "\"";
  for (const char ch : text) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u >= 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += ch;
    }
  }
  out += cut ? "...\"" : "\"";
  return out;
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    const std::size_t begin = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > begin) words.push_back(line.substr(begin, i - begin));
  }
  return words;
}

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  // ngspice writes "%.15e", but a diverged run prints nan/inf; from_chars
  // accepts those, and binary files carry them anyway, so keep them: judging
  // a point is the caller's business, not the reader's.
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

double little_endian_double(const char* p) {
  // Assemble the integer byte by byte so the result does not depend on the
  // host byte order (ngspice writes the host's order; every host it runs on
  // in practice is little-endian).
  std::uint64_t bits = 0;
  for (int i = 7; i >= 0; --i) bits = (bits << 8) | static_cast<unsigned char>(p[i]);
  return std::bit_cast<double>(bits);
}

class Parser {
 public:
  Parser(std::string_view content, const std::string& origin) : data_(content), origin_(origin) {}

  std::vector<RawPlot> run() {
    std::vector<RawPlot> plots;
    std::string_view line;
    while (true) {
      // Plots follow each other directly; `write` separates ASCII points (and
      // so the last point from the next plot) with blank lines.
      bool found = false;
      while (next_line(line)) {
        if (!trim(line).empty()) {
          found = true;
          break;
        }
      }
      if (!found) break;
      plots.push_back(read_plot(line));
    }
    if (plots.empty()) {
      fail(1, 0, "expected \"Title: <text>\", found an empty file");
    }
    return plots;
  }

 private:
  // Reads the line starting at pos_ (without '\n' and a trailing '\r').
  bool next_line(std::string_view& line) {
    line_start_ = pos_;
    line_no_at_start_ = line_no_;
    if (pos_ >= data_.size()) return false;
    const auto nl = data_.find('\n', pos_);
    const std::size_t end = nl == std::string_view::npos ? data_.size() : nl;
    line = data_.substr(pos_, end - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos_ = nl == std::string_view::npos ? data_.size() : nl + 1;
    if (nl != std::string_view::npos) ++line_no_;
    return true;
  }

  // Reports at a line, or at a byte offset once binary data has been seen
  // (counting '\n' bytes inside doubles would give a meaningless line number).
  [[noreturn]] void fail(int line, std::size_t offset, const std::string& message) const {
    if (after_binary_) {
      throw InputError(std::string(kRawError),
                        "at byte offset " + std::to_string(offset) + ": " + message).at({origin_, 0, 0, ""});
    }
    throw InputError(std::string(kRawError), message).at({origin_, line, 0, ""});
  }

  [[noreturn]] void fail_here(const std::string& message) const {
    fail(line_no_at_start_, line_start_, message);
  }

  std::string_view expect_key(std::string_view key, std::string_view placeholder) {
    std::string_view line;
    const std::string expected = "expected \"" + std::string(key) + ": " + std::string(placeholder) + "\"";
    if (!next_line(line)) fail_here(expected + ", found end of file");
    return value_of(line, key, expected);
  }

  std::string_view value_of(std::string_view line, std::string_view key, const std::string& expected) const {
    if (!starts_with_ci(line, key) || line.size() <= key.size() || line[key.size()] != ':') {
      fail_here(expected + ", found " + quote_text(line));
    }
    return trim(line.substr(key.size() + 1));
  }

  std::uint64_t expect_count(std::string_view key) {
    const std::string expected = "expected \"" + std::string(key) + ": <count>\"";
    std::string_view line;
    if (!next_line(line)) fail_here(expected + ", found end of file");
    const auto count = parse_count(value_of(line, key, expected));
    if (!count) fail_here(expected + ", found " + quote_text(line));
    return *count;
  }

  RawPlot read_plot(std::string_view first_line) {
    RawPlot plot;
    plot.title = std::string(value_of(first_line, "Title", "expected \"Title: <text>\""));
    plot.date = std::string(expect_key("Date", "<text>"));
    plot.plot_name = std::string(expect_key("Plotname", "<name>"));
    plot.is_complex = read_flags();
    const std::uint64_t nvars = expect_count("No. Variables");
    if (nvars == 0) fail_here("expected \"No. Variables: <count>\" with a count of at least 1, found 0");
    const std::uint64_t npoints = expect_count("No. Points");
    skip_to_variables();
    read_variables(plot, nvars);
    plot.columns.resize(nvars);
    if (plot.is_complex) plot.imag_columns.resize(nvars);
    read_values(plot, nvars, npoints);
    return plot;
  }

  // "Flags: real" or "Flags: complex" (padded); true if complex.
  bool read_flags() {
    const std::string_view flags = expect_key("Flags", "real|complex");
    bool real = false, complex = false;
    for (const auto word : split_words(flags)) {
      if (equals_ci(word, "real")) {
        real = true;
      } else if (equals_ci(word, "complex")) {
        complex = true;
      } else if (equals_ci(word, "unpadded")) {
        // Unpadded files leave out the missing tail of shorter vectors, so
        // the point-major layout no longer lines up; ngspice -r never writes it.
        fail_here("\"Flags: unpadded\" is not supported (written after `set nopadding`); expected padded data");
      } else if (!equals_ci(word, "padded")) {
        fail_here("unknown flag " + quote_text(word) + " in \"Flags:\"; expected \"real\" or \"complex\"");
      }
    }
    if (real == complex) {
      fail_here("expected \"Flags: real\" or \"Flags: complex\", found \"Flags: " + std::string(flags) + "\"");
    }
    return complex;
  }

  // Optional lines written by `write` describe the session, not the data.
  void skip_to_variables() {
    std::string_view line;
    while (true) {
      if (!next_line(line)) fail_here("expected \"Variables:\", found end of file");
      if (starts_with_ci(line, "Dimensions:") || starts_with_ci(line, "Command:") ||
          starts_with_ci(line, "Option:")) {
        continue;
      }
      if (!equals_ci(trim(line), "Variables:")) fail_here("expected \"Variables:\", found " + quote_text(line));
      return;
    }
  }

  void read_variables(RawPlot& plot, std::uint64_t nvars) {
    // A corrupt count must not make us allocate gigabytes of variable names:
    // each variable line takes at least 6 bytes ("\t0\tx\tt\n").
    if (nvars > (data_.size() - pos_) / 6 + 1) {
      fail_here("\"No. Variables: " + std::to_string(nvars) + "\" is more than the rest of the file can hold");
    }
    std::string_view line;
    for (std::uint64_t i = 0; i < nvars; ++i) {
      const std::string expected =
          "expected \"<index> <name> <type>\" for variable " + std::to_string(i) + " of " + std::to_string(nvars);
      if (!next_line(line)) fail_here(expected + ", found end of file");
      const auto words = split_words(line);
      if (words.size() < 3 || parse_count(words[0]) != i) fail_here(expected + ", found " + quote_text(line));
      plot.names.emplace_back(words[1]);
      plot.types.emplace_back(words[2]);
      // Further words (grid=3, dims=1, color=...) only matter to ngspice's plotting.
    }
  }

  // "Binary:" and the data, or "Values:" and the data as text.
  void read_values(RawPlot& plot, std::uint64_t nvars, std::uint64_t npoints) {
    std::string_view line;
    if (!next_line(line)) fail_here("expected \"Binary:\" or \"Values:\", found end of file");
    const std::string_view marker = trim(line);
    if (equals_ci(marker, "Binary:")) {
      read_binary(plot, nvars, npoints);
    } else if (equals_ci(marker, "Values:")) {
      read_ascii(plot, nvars, npoints);
    } else {
      fail_here("expected \"Binary:\" or \"Values:\", found " + quote_text(line));
    }
  }

  void read_binary(RawPlot& plot, std::uint64_t nvars, std::uint64_t npoints) {
    const std::uint64_t value_size = plot.is_complex ? 16 : 8;
    const std::uint64_t available = data_.size() - pos_;
    const std::uint64_t row = nvars * value_size;  // nvars is bounded by the file size above
    const bool fits = npoints <= available / row;
    const std::uint64_t needed = fits ? npoints * row : 0;
    if (!fits || needed > available) {
      const std::string expected =
          npoints <= std::numeric_limits<std::uint64_t>::max() / row ? std::to_string(npoints * row) : "too many";
      // The offset is in the message itself; a line number means nothing here.
      throw InputError(std::string(kRawError),
           "truncated binary data in plot " + quote_text(plot.plot_name) + ": expected " + expected + " bytes (" +
               std::to_string(npoints) + " points x " + std::to_string(nvars) + " variables x " +
               std::to_string(value_size) + " bytes) at byte offset " + std::to_string(pos_) + ", found " +
               std::to_string(available)).at({origin_, 0, 0, ""});
    }
    for (auto& column : plot.columns) column.resize(npoints);
    for (auto& column : plot.imag_columns) column.resize(npoints);
    const char* p = data_.data() + pos_;
    for (std::uint64_t point = 0; point < npoints; ++point) {
      for (std::uint64_t var = 0; var < nvars; ++var) {
        plot.columns[var][point] = little_endian_double(p);
        p += 8;
        if (plot.is_complex) {
          plot.imag_columns[var][point] = little_endian_double(p);
          p += 8;
        }
      }
    }
    pos_ += needed;
    after_binary_ = true;
  }

  // Next whitespace-separated token of the ASCII value section; empty at end of file.
  std::string_view next_token() {
    while (pos_ < data_.size() && is_space(data_[pos_])) {
      if (data_[pos_] == '\n') ++line_no_;
      ++pos_;
    }
    line_start_ = pos_;
    line_no_at_start_ = line_no_;
    const std::size_t begin = pos_;
    while (pos_ < data_.size() && !is_space(data_[pos_])) ++pos_;
    return data_.substr(begin, pos_ - begin);
  }

  static std::string found(std::string_view token) {
    return token.empty() ? std::string("end of file") : quote_text(token);
  }

  void read_ascii(RawPlot& plot, std::uint64_t nvars, std::uint64_t npoints) {
    // Reserve only what the remaining text could possibly hold (at least two
    // bytes per value), so a corrupt count fails as "end of file", not bad_alloc.
    if (npoints <= (data_.size() - pos_) / (2 * nvars + 2)) {
      for (auto& column : plot.columns) column.reserve(npoints);
      for (auto& column : plot.imag_columns) column.reserve(npoints);
    }
    for (std::uint64_t point = 0; point < npoints; ++point) {
      const std::string_view index = next_token();
      if (parse_count(index) != point) {
        fail_here("expected point index " + std::to_string(point) + " (of " + std::to_string(npoints) +
                  " points) in plot " + quote_text(plot.plot_name) + ", found " + found(index));
      }
      for (std::uint64_t var = 0; var < nvars; ++var) {
        const std::string_view token = next_token();
        const std::string expected = "expected " + std::string(plot.is_complex ? "<re>,<im>" : "a number") +
                                     " for " + quote_text(plot.names[var]) + " at point " + std::to_string(point) +
                                     ", found " + found(token);
        if (plot.is_complex) {
          const auto comma = token.find(',');
          if (comma == std::string_view::npos) fail_here(expected);
          const auto re = parse_number(token.substr(0, comma));
          const auto im = parse_number(token.substr(comma + 1));
          if (!re || !im) fail_here(expected);
          plot.columns[var].push_back(*re);
          plot.imag_columns[var].push_back(*im);
        } else {
          const auto value = parse_number(token);
          if (!value) fail_here(expected);
          plot.columns[var].push_back(*value);
        }
      }
    }
  }

  std::string_view data_;
  const std::string& origin_;
  std::size_t pos_ = 0;
  int line_no_ = 1;            // line number at pos_
  std::size_t line_start_ = 0;  // offset of the line or token being parsed
  int line_no_at_start_ = 1;   // its line number
  bool after_binary_ = false;
};

// ngspice names one node voltage "v(x)" or "x" and one branch current
// "i(vx)" or "vx#branch", depending on version, command and `keep#branch`;
// map both spellings to one key so callers need not care.
std::string canonical(std::string_view name) {
  std::string key = lower(trim(name));
  if (key.size() > 3 && key.starts_with("v(") && key.back() == ')' && key.find(',') == std::string::npos) {
    return key.substr(2, key.size() - 3);
  }
  constexpr std::string_view kBranch = "#branch";
  if (key.size() > kBranch.size() && key.ends_with(kBranch)) {
    return "i(" + key.substr(0, key.size() - kBranch.size()) + ")";
  }
  return key;
}

}  // namespace

int RawPlot::find_vector(std::string_view name) const {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (equals_ci(names[i], name)) return static_cast<int>(i);
  }
  const std::string key = canonical(name);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (canonical(names[i]) == key) return static_cast<int>(i);
  }
  return -1;
}

bool RawPlot::has_vector(std::string_view name) const { return find_vector(name) >= 0; }

const std::vector<double>& RawPlot::vector(std::string_view name) const {
  const int index = find_vector(name);
  if (index < 0) {
    std::string available;
    for (const auto& n : names) available += (available.empty() ? "" : ", ") + n;
    throw InputError("GC-1402",
                      "vector " + quote_text(name) + " not found in plot " + quote_text(plot_name) + "; available: " +
                          (available.empty() ? std::string("(none)") : available),
                      "a netlist with .save lines writes only the vectors it names");
  }
  return columns[static_cast<std::size_t>(index)];
}

std::vector<RawPlot> parse_raw(std::string_view content, const std::string& origin) {
  return Parser(content, origin).run();
}

std::vector<RawPlot> read_raw_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError("cannot open rawfile \"" + path.string() + "\": " + std::strerror(errno));
  }
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    throw IoError("cannot read rawfile \"" + path.string() + "\": " + std::strerror(errno));
  }
  return parse_raw(content, path.string());
}

}  // namespace gaincell::spice
