// SPDX-License-Identifier: MIT
#include "gaincell/core/json_location.h"

#include <cctype>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace gaincell {
namespace {

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}
  std::size_t pos() const { return pos_; }
  void skip_ws() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  char peek() {
    skip_ws();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }
  bool consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  // Reads a string literal (with the quotes), returns its unescaped value.
  bool read_string(std::string* out) {
    if (peek() != '"') return false;
    ++pos_;
    std::string value;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
        ++pos_;
        value += text_[pos_] == 'n' ? '\n' : text_[pos_];
      } else {
        value += text_[pos_];
      }
      ++pos_;
    }
    if (pos_ >= text_.size()) return false;
    ++pos_;
    if (out != nullptr) *out = value;
    return true;
  }
  // Skips any value.
  bool skip_value() {
    const char c = peek();
    if (c == '"') return read_string(nullptr);
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      if (consume(close)) return true;
      while (true) {
        if (c == '{') {
          if (!read_string(nullptr) || !consume(':')) return false;
        }
        if (!skip_value()) return false;
        if (consume(',')) continue;
        return consume(close);
      }
    }
    const std::size_t start = pos_;
    while (pos_ < text_.size() && std::string_view(",]} \t\r\n").find(text_[pos_]) == std::string_view::npos) ++pos_;
    return pos_ > start;
  }
  // Moves the cursor onto the value of member `token` of the object, or of
  // element `token` of the array, that starts at the cursor. Returns false
  // if there is none (or the text is malformed); `key_pos` gets the offset of
  // a member's key.
  bool enter(const std::string& token, std::size_t* key_pos) {
    const char open = peek();
    if (open == '{') {
      ++pos_;
      return seek('}', [&]() -> std::optional<bool> {
        std::string key;
        skip_ws();
        const std::size_t at = pos_;
        if (!read_string(&key) || !consume(':')) return std::nullopt;
        if (key != token) return false;
        *key_pos = at;
        return true;
      });
    }
    if (open == '[') {
      ++pos_;
      const std::size_t wanted = static_cast<std::size_t>(std::strtoull(token.c_str(), nullptr, 10));
      std::size_t index = 0;
      return seek(']', [&]() -> std::optional<bool> { return index++ == wanted; });
    }
    return false;
  }

 private:
  // Walks the items of a container up to `close`: `is_wanted` reads an item's
  // key (if any) and says whether it is the one sought (nullopt: malformed).
  template <typename IsWanted>
  bool seek(char close, IsWanted is_wanted) {
    while (!consume(close)) {
      const std::optional<bool> wanted = is_wanted();
      if (!wanted) return false;
      if (*wanted) {
        skip_ws();
        return true;
      }
      if (!skip_value()) return false;
      consume(',');
    }
    return false;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

std::vector<std::string> split_pointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  std::size_t i = pointer[0] == '/' ? 1 : 0;
  std::string token;
  for (; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(token);
      token.clear();
    } else if (pointer[i] == '~' && i + 1 < pointer.size()) {
      token += pointer[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      token += pointer[i];
    }
  }
  return tokens;
}

}  // namespace

std::pair<int, int> line_column(std::string_view text, std::size_t offset) {
  int line = 1, col = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

std::pair<int, int> locate_json_pointer(std::string_view text, std::string_view pointer, bool at_key) {
  Scanner s(text);
  s.skip_ws();
  std::size_t found = s.pos();
  const auto tokens = split_pointer(pointer);
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    std::size_t key_pos = std::string_view::npos;
    if (!s.enter(tokens[t], &key_pos)) break;
    if (at_key && t + 1 == tokens.size() && key_pos != std::string_view::npos) return line_column(text, key_pos);
    found = s.pos();
  }
  return line_column(text, found);
}

}  // namespace gaincell
