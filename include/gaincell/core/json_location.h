// SPDX-License-Identifier: MIT
// File: gaincell/core/json_location.h
//
// nlohmann::json forgets where a value stood in its file. To give errors a
// line and column ("spec.json:14:9: error GC-1203: /axes/0/values: ..."),
// this scanner walks the original text along a JSON Pointer.
//
//   auto [line, col] = gaincell::locate_json_pointer(text, "/axes/1/param");
#pragma once

#include <string_view>
#include <utility>

namespace gaincell {

// 1-based (line, column) of the value `pointer` designates in `text`, or of
// the deepest existing ancestor. With `at_key`, an object member's key is
// located instead of its value (for "unknown key" errors).
std::pair<int, int> locate_json_pointer(std::string_view text, std::string_view pointer, bool at_key = false);

// 1-based (line, column) of byte offset `offset` in `text`.
std::pair<int, int> line_column(std::string_view text, std::size_t offset);

}  // namespace gaincell
