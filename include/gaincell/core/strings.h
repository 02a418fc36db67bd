// SPDX-License-Identifier: MIT
// File: gaincell/core/strings.h
//
// Small string helpers every module needs once: lower case (ngspice names
// are case-insensitive), trimming, joining, and the closest names to a typo.
//
//   lower("V(SN)") == "v(sn)";  join({"a", "b"}, ", ") == "a, b";
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gaincell {

std::string lower(std::string_view s);
std::string_view trim(std::string_view s);
// The lines of `text` as std::getline reads them, each without a trailing
// '\r' (a CRLF file reads like an LF one). Line i is numbered i + 1.
std::vector<std::string> text_lines(std::string_view text);
// The first white-space separated word of `line`, lower-cased ("" if blank).
std::string first_word(std::string_view line);
std::string join(const std::vector<std::string>& parts, const std::string& separator);
// Is `s` an identifier (a letter or _, then letters, digits, _)?
bool is_identifier(std::string_view s);
// Up to `n` of `candidates` closest to `name` (edit distance), closest first.
std::vector<std::string> closest_names(const std::string& name, const std::vector<std::string>& candidates,
                                       std::size_t n = 3);

}  // namespace gaincell
