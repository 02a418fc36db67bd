// SPDX-License-Identifier: MIT
#include "gaincell/core/si_value.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <system_error>

#include "gaincell/core/error.h"

namespace gaincell {
namespace {

constexpr std::string_view kExpected =
    "expected a number with an optional SPICE scale suffix (a f p n u m mil k meg g t)";

// Longest shown excerpt of the offending text; values are short, and echoing
// a multi-kilobyte injection attempt back in full helps nobody.
constexpr std::size_t kMaxShown = 60;

// Caps the exponent digits we accumulate. Anything beyond ±1e6 is far outside
// the double range already, and the cap keeps the int arithmetic from overflowing.
constexpr long kExponentCap = 1'000'000;

struct Failure {
  std::string id;
  std::string message;
  std::string hint;
};

struct Outcome {
  double value = 0;
  std::optional<Failure> failure;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (to_lower(text[i]) != prefix[i]) return false;
  }
  return true;
}

// How a byte of a value is shown in a message: printable ASCII and UTF-8
// bytes as they are, quotes and backslashes escaped, control characters as
// \n, \r, \t or \xNN, so a value like "1\n.control" cannot break the message
// into lines that look like something else.
std::string shown_byte(char ch) {
  switch (ch) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: break;
  }
  const auto u = static_cast<unsigned char>(ch);
  if (u >= 0x20 && u != 0x7f) return std::string(1, ch);
  static constexpr char kHex[] = "0123456789abcdef";
  return {'\\', 'x', kHex[u >> 4], kHex[u & 0xf]};
}

// Quotes text for a one-line diagnostic (and shows what was really there).
std::string quote_text(std::string_view text) {
  const bool cut = text.size() > kMaxShown;
  if (cut) text = text.substr(0, kMaxShown);
  std::string out = "\"";
  for (const char ch : text) out += shown_byte(ch);
  return out + (cut ? "...\"" : "\"");
}

struct Suffix {
  std::string_view name;  // lower case
  int decimal_shift;      // power of ten, unless `mil`
  bool mil;
};

// Order matters: "meg" and "mil" must be tried before "m".
constexpr std::array<Suffix, 11> kSuffixes{{
    {"meg", 6, false}, {"mil", 0, true}, {"t", 12, false}, {"g", 9, false},
    {"k", 3, false},   {"m", -3, false}, {"u", -6, false}, {"n", -9, false},
    {"p", -12, false}, {"f", -15, false}, {"a", -18, false},
}};

const Suffix* match_suffix(std::string_view rest) {
  for (const auto& s : kSuffixes) {
    if (starts_with_ci(rest, s.name)) return &s;
  }
  return nullptr;
}

Failure not_a_number(std::string_view text) {
  Failure f{"GC-1002", "value " + quote_text(text) + ": not a number; " + std::string(kExpected), ""};
  const char first = text.front();
  if (first == ' ' || first == '\t' || first == '\n' || first == '\r') {
    f.hint = "remove the white space around the number";
  } else if (first == '{' || first == '\'') {
    f.hint = "expressions are not allowed here; write a plain number";
  } else if (starts_with_ci(text, "nan") || starts_with_ci(text, "inf") ||
             starts_with_ci(text, "-inf") || starts_with_ci(text, "+inf")) {
    f.hint = "values must be finite numbers";
  }
  return f;
}

// The hint for text after the number: say how to write it instead.
std::string trailing_hint(std::string_view text, std::string_view number_and_suffix,
                          std::string_view trailing, const Suffix* suffix) {
  const bool letters_only =
      std::all_of(trailing.begin(), trailing.end(), [](char c) { return is_alpha(c); });
  if (letters_only) {
    std::string hint = "units are not written in values: " + std::string(text) + " -> " +
                       std::string(number_and_suffix);
    if (suffix != nullptr && suffix->name == "m" && number_and_suffix.back() == 'M') {
      hint += " (but note that M means milli, 1e-3; mega is meg)";
    }
    return hint;
  }
  if (starts_with_ci(trailing, "\xc2\xb5") || starts_with_ci(trailing, "\xce\xbc")) {
    return "write u for micro";
  }
  if (trailing.front() == ' ' || trailing.front() == '\t' || trailing.front() == '\n' ||
      trailing.front() == '\r') {
    return "a value is a single word; remove the white space and anything after it";
  }
  return "";
}

// A number as written: sign, digits, exponent and scale suffix.
struct Scanned {
  bool negative = false;
  std::string_view int_digits, frac_digits;
  long exponent = 0;
  std::size_t number_end = 0;  // where the suffix starts
  const Suffix* suffix = nullptr;
};

// The digits: [+-] digits [. digits], at least one digit. Returns where they end.
std::optional<std::size_t> scan_digits(std::string_view text, Scanned& s) {
  std::size_t pos = 0;
  if (text[pos] == '+' || text[pos] == '-') {
    s.negative = text[pos] == '-';
    ++pos;
  }
  const std::size_t int_begin = pos;
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  s.int_digits = text.substr(int_begin, pos - int_begin);
  if (pos < text.size() && text[pos] == '.') {
    const std::size_t frac_begin = ++pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    s.frac_digits = text.substr(frac_begin, pos - frac_begin);
  }
  if (s.int_digits.empty() && s.frac_digits.empty()) return std::nullopt;
  return pos;
}

// An exponent e[+-]digits at `pos`, if there is one; advances `pos` past it.
std::optional<Failure> scan_exponent(std::string_view text, std::size_t& pos, Scanned& s) {
  if (pos >= text.size() || (text[pos] != 'e' && text[pos] != 'E')) return std::nullopt;
  // No suffix starts with 'e', so an 'e' here can only be an exponent.
  std::size_t p = pos + 1;
  bool exp_negative = false;
  if (p < text.size() && (text[p] == '+' || text[p] == '-')) {
    exp_negative = text[p] == '-';
    ++p;
  }
  if (p >= text.size() || !is_digit(text[p])) {
    return Failure{"GC-1002",
                   "value " + quote_text(text) + ": exponent " + quote_text(text.substr(pos, p - pos)) + " has no digits; " +
                       std::string(kExpected),
                   ""};
  }
  while (p < text.size() && is_digit(text[p])) {
    s.exponent = std::min(kExponentCap, s.exponent * 10 + (text[p] - '0'));
    ++p;
  }
  if (exp_negative) s.exponent = -s.exponent;
  pos = p;
  return std::nullopt;
}

// The scale suffix at `pos`, and nothing after it.
std::optional<Failure> scan_suffix(std::string_view text, std::size_t pos, Scanned& s) {
  s.number_end = pos;
  s.suffix = match_suffix(text.substr(pos));
  if (s.suffix != nullptr) pos += s.suffix->name.size();
  if (pos == text.size()) return std::nullopt;
  const std::string_view trailing = text.substr(pos);
  std::string message = "value " + quote_text(text) + ": unexpected " + quote_text(trailing) + " after ";
  message += s.suffix == nullptr ? std::string("the number")
                                 : "the scale suffix " + quote_text(text.substr(s.number_end, pos - s.number_end));
  message += "; " + std::string(kExpected);
  return Failure{"GC-1003", message, trailing_hint(text, text.substr(0, pos), trailing, s.suffix)};
}

Failure out_of_double_range(std::string_view text, bool too_large) {
  const std::string what = too_large ? "too large for a double (the largest is about 1.8e308)"
                                     : "too small for a double, it would become 0 (the smallest is about 4.9e-324)";
  return Failure{"GC-1004", "value " + quote_text(text) + ": " + what + "; expected a finite number",
                 too_large ? "" : "write 0 if zero is meant"};
}

// The double nearest the scanned number. Decimal suffixes shift the exponent
// and the text is converted once, so "15n" is the correctly rounded double
// nearest 15e-9, not 15 * 1e-9 (which can be one ulp off and would then print
// as "1.5000000000000002e-08").
Outcome convert(std::string_view text, const Scanned& s) {
  const long total_exponent = s.exponent + (s.suffix != nullptr ? s.suffix->decimal_shift : 0);
  std::string normal;
  normal.reserve(s.int_digits.size() + s.frac_digits.size() + 16);
  if (s.negative) normal += '-';
  normal += s.int_digits.empty() ? std::string_view("0") : s.int_digits;
  if (!s.frac_digits.empty()) {
    normal += '.';
    normal += s.frac_digits;
  }
  normal += 'e';
  normal += std::to_string(total_exponent);

  const bool nonzero_digits = s.int_digits.find_first_not_of('0') != std::string_view::npos ||
                              s.frac_digits.find_first_not_of('0') != std::string_view::npos;
  Outcome out;
  const auto [end, ec] = std::from_chars(normal.data(), normal.data() + normal.size(), out.value);
  if (ec == std::errc::result_out_of_range) {
    // from_chars does not say which way it failed; the decimal magnitude does.
    const auto first_int = s.int_digits.find_first_not_of('0');
    long magnitude = total_exponent;
    if (first_int != std::string_view::npos) {
      magnitude += static_cast<long>(s.int_digits.size() - first_int);
    } else {
      magnitude -= static_cast<long>(s.frac_digits.find_first_not_of('0'));
    }
    out.failure = out_of_double_range(text, magnitude > 0);
  } else if (ec != std::errc() || end != normal.data() + normal.size()) {
    // Unreachable: `normal` is built from digits we scanned ourselves.
    out.failure = not_a_number(text);
  } else {
    if (s.suffix != nullptr && s.suffix->mil) out.value *= 25.4e-6;  // 1 mil = 1/1000 inch
    if (!std::isfinite(out.value)) out.failure = out_of_double_range(text, true);
    if (out.value == 0 && nonzero_digits) out.failure = out_of_double_range(text, false);
  }
  return out;
}

Outcome parse(std::string_view text) {
  Outcome out;
  if (text.empty()) {
    out.failure = Failure{"GC-1001", "value \"\": empty; " + std::string(kExpected), ""};
    return out;
  }
  // Scan the grammar by hand rather than trusting from_chars/strtod to stop in
  // the right place: both accept "nan", "inf" and hex floats, which SPICE does not.
  Scanned s;
  const std::optional<std::size_t> digits_end = scan_digits(text, s);
  if (!digits_end) {
    out.failure = not_a_number(text);
    return out;
  }
  std::size_t pos = *digits_end;
  out.failure = scan_exponent(text, pos, s);
  if (!out.failure) out.failure = scan_suffix(text, pos, s);
  return out.failure ? out : convert(text, s);
}

}  // namespace

double parse_si(std::string_view text) {
  Outcome outcome = parse(text);
  if (outcome.failure) {
    throw InputError(outcome.failure->id, outcome.failure->message, outcome.failure->hint);
  }
  return outcome.value;
}

std::optional<double> try_parse_si(std::string_view text, std::string* why) {
  Outcome outcome = parse(text);
  if (outcome.failure) {
    if (why != nullptr) *why = std::move(outcome.failure->message);
    return std::nullopt;
  }
  return outcome.value;
}

std::string format_exact(double value) {
  if (!std::isfinite(value)) {
    throw InputError("GC-1004",
                      std::string("cannot write ") + (std::isnan(value) ? "\"nan\"" : value > 0 ? "\"inf\"" : "\"-inf\"") +
                          " as a SPICE number; expected a finite number");
  }
  // to_chars without a format gives the shortest representation that round
  // trips exactly, and is locale independent (unlike printf).
  std::array<char, 32> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  GC_CHECK(ec == std::errc()) << "to_chars failed for a finite double";
  return std::string(buf.data(), end);
}

std::string format_human(double value, std::string_view unit, int digits, bool ascii) {
  digits = std::clamp(digits, 1, 17);
  const auto with_unit = [&](std::string number, std::string_view prefix) {
    if (prefix.empty() && unit.empty()) return number;
    number += ' ';
    number += prefix;
    number += unit;
    return number;
  };
  if (std::isnan(value)) return with_unit("nan", "");
  if (std::isinf(value)) return with_unit(value > 0 ? "inf" : "-inf", "");
  if (value == 0) return with_unit("0", "");

  // Round first (in decimal, via to_chars) and pick the prefix afterwards, so
  // 999.96e-9 with 4 digits becomes "1 µs" rather than "1000 ns".
  std::array<char, 64> buf{};
  const double magnitude = std::fabs(value);
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), magnitude,
                                 std::chars_format::scientific, digits - 1);
  GC_CHECK(ec == std::errc()) << "to_chars failed for a finite double";
  const std::string_view sci(buf.data(), static_cast<std::size_t>(end - buf.data()));
  const auto e_pos = sci.find('e');
  std::string mantissa;  // significant digits without the point
  for (const char c : sci.substr(0, e_pos)) {
    if (c != '.') mantissa += c;
  }
  const int exp10 = std::atoi(std::string(sci.substr(e_pos + 1)).c_str());
  const int group = (exp10 >= 0 ? exp10 / 3 : -((-exp10 + 2) / 3)) * 3;

  static constexpr std::array<std::string_view, 11> kPrefixes{
      "a", "f", "p", "n", "\xc2\xb5", "m", "", "k", "M", "G", "T"};
  const std::string sign = value < 0 ? "-" : "";
  if (group < -18 || group > 12) {
    std::array<char, 64> out{};
    auto [out_end, out_ec] = std::to_chars(out.data(), out.data() + out.size(), value,
                                           std::chars_format::general, digits);
    GC_CHECK(out_ec == std::errc()) << "to_chars failed for a finite double";
    return with_unit(std::string(out.data(), out_end), "");
  }
  const auto int_len = static_cast<std::size_t>(exp10 - group + 1);  // 1..3
  if (mantissa.size() < int_len) mantissa.append(int_len - mantissa.size(), '0');
  std::string number = sign + mantissa.substr(0, int_len);
  std::string fraction = mantissa.substr(int_len);
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  if (!fraction.empty()) number += "." + fraction;
  std::string_view prefix = kPrefixes[static_cast<std::size_t>((group + 18) / 3)];
  if (ascii && group == -6) prefix = "u";
  return with_unit(number, prefix);
}

}  // namespace gaincell
