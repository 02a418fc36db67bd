// SPDX-License-Identifier: MIT
// The line and word splitting every netlist reader shares.
#include "gaincell/core/strings.h"

#include <catch2/catch.hpp>

using namespace gaincell;

TEST_CASE("text_lines reads lines as getline does, CRLF like LF", "[unit][core]") {
  CHECK(text_lines("").empty());
  CHECK(text_lines("a") == std::vector<std::string>{"a"});
  CHECK(text_lines("a\n") == std::vector<std::string>{"a"});
  CHECK(text_lines("a\r\n\r\nb\r") == std::vector<std::string>{"a", "", "b"});
  CHECK(text_lines("\n\n") == std::vector<std::string>{"", ""});
  CHECK(text_lines("a\rb\n") == std::vector<std::string>{"a\rb"});  // only a line's last \r goes
}

TEST_CASE("first_word is the first word, lower-cased", "[unit][core]") {
  CHECK(first_word("  .SUBCKT cell a b") == ".subckt");
  CHECK(first_word("\t.Param\tx=1") == ".param");
  CHECK(first_word("   ").empty());
  CHECK(first_word("R1") == "r1");
}
