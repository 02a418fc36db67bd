// SPDX-License-Identifier: MIT
// No file a deck reads may run ngspice commands, and every file comes from an
// include root: each route by which a netlist could reach ngspice's shell.
#include "gaincell/netlist/deck_check.h"

#include <catch2/catch.hpp>
#include <cstdlib>

#include "gaincell/core/error.h"
#include "gaincell/netlist/template.h"
#include "gaincell/sweep/spec.h"
#include "test_support.h"

using gaincell::InputError;
using gaincell::netlist::NetlistTemplate;
using gaincell::testing::TempDir;
using gaincell::testing::write_file;
using Catch::Matchers::Contains;

namespace {

const char* const kTop =
    "top\n"
    ".param r=1k $ [Ohm]\n"
    "R1 a 0 {r}\n"
    "V1 a 0 1\n";

// The error of loading `tpl`, or "" if it loads.
std::string load_error(const std::filesystem::path& tpl, const std::vector<std::filesystem::path>& roots = {}) {
  try {
    NetlistTemplate::load(tpl, roots);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a .control block in an included file is refused with its line", "[unit][netlist]") {
  TempDir dir;
  write_file(dir / "evil.inc", "* models\n.model nx nmos\n.control\nshell touch pwned\n.endc\n");
  write_file(dir / "t.cir", std::string(kTop) + ".include evil.inc\n.end\n");
  const std::string e = load_error(dir / "t.cir");
  CHECK_THAT(e, Contains((dir / "evil.inc").string() + ":3:1: error GC-1103"));
  CHECK_THAT(e, Contains(".control"));
}

TEST_CASE("a script in a .lib section, two files deep, is refused", "[unit][netlist]") {
  TempDir dir;
  std::filesystem::create_directories(dir / "pdk");
  write_file(dir / "pdk" / "inner.sp", "* inner\n*# shell touch pwned\n");
  write_file(dir / "pdk" / "corners.lib", ".lib tt\n.include inner.sp\n.endl tt\n.lib ff\n.endl ff\n");
  write_file(dir / "t.cir", std::string(kTop) + ".lib pdk/corners.lib tt\n.end\n");
  const std::string e = load_error(dir / "t.cir");
  CHECK_THAT(e, Contains((dir / "pdk" / "inner.sp").string() + ":2:1: error GC-1103"));
  CHECK_THAT(e, Contains("'*#'"));
}

TEST_CASE("*ng_script titles, *# lines and shell lines are refused in the template itself", "[unit][netlist]") {
  CHECK_THROWS_WITH(NetlistTemplate::parse("*ng_script\nshell touch pwned\n", "x.cir"),
                    Contains("x.cir:1:1: error GC-1103") && Contains("*ng_script"));
  CHECK_THROWS_WITH(NetlistTemplate::parse("t\nR1 a 0 1\n  *# shell touch pwned\n", "x.cir"),
                    Contains("x.cir:3:1: error GC-1103"));
  CHECK_THROWS_WITH(NetlistTemplate::parse("t\nR1 a 0 1\nSHELL touch pwned\n", "x.cir"),
                    Contains("x.cir:3:1: error GC-1103") && Contains("'shell'"));
  CHECK_THROWS_WITH(NetlistTemplate::parse("t\n.endc\n", "x.cir"), Contains("x.cir:2:1: error GC-1103"));
  // Ordinary comments and elements that merely contain the words are fine.
  CHECK_NOTHROW(NetlistTemplate::parse("t\n* a .control block would be refused; shell too\nRshell a 0 1\n** #\n", "y.cir")
                    .title());
}

TEST_CASE("*# alone is a command line too", "[unit][netlist]") {
  // ngspice takes everything after *# as a command, even nothing.
  CHECK_THROWS_WITH(gaincell::netlist::check_script_free("t\n*#\n", "z.cir"), Contains("z.cir:2:1: error GC-1103"));
}

TEST_CASE("a file outside the include roots is refused until a root names it", "[unit][netlist]") {
  TempDir dir;
  std::filesystem::create_directories(dir / "cells");
  std::filesystem::create_directories(dir / "pdk");
  write_file(dir / "pdk" / "models.lib", "* models\n.model nx nmos level=1\n");
  write_file(dir / "cells" / "t.cir", std::string(kTop) + ".include ../pdk/models.lib\n.end\n");
  const std::string e = load_error(dir / "cells" / "t.cir");
  CHECK_THAT(e, Contains((dir / "cells" / "t.cir").string() + ":5:1: error GC-1111"));
  CHECK_THAT(e, Contains("include_roots"));
  CHECK(load_error(dir / "cells" / "t.cir", {dir / "pdk"}).empty());

  // The same through a spec's include_roots, relative to the spec.
  write_file(dir / "cells" / "s.json",
             R"json({"format": "gaincell-spec/1", "name": "s", "template": "t.cir", "include_roots": ["../pdk"],
                 "axes": [{"param": "r", "values": [1000]}], "analysis": {"tran": {"step": "1n", "stop": "10n"}},
                 "measures": [{"name": "i", "kind": "value_at", "of": "i(v1)", "at": "5n", "unit": "A"}]})json");
  CHECK_NOTHROW(gaincell::sweep::load_spec(dir / "cells" / "s.json"));

  // And a symbolic link inside a root that points outside it is still outside.
  std::filesystem::create_symlink(dir / "pdk" / "models.lib", dir / "cells" / "link.lib");
  write_file(dir / "cells" / "u.cir", std::string(kTop) + ".include link.lib\n.end\n");
  CHECK_THAT(load_error(dir / "cells" / "u.cir"), Contains("error GC-1111"));
}

TEST_CASE("GAINCELL_INCLUDE_PATH adds include roots", "[unit][netlist]") {
  TempDir dir;
  const auto roots = gaincell::netlist::include_roots({});
  ::setenv("GAINCELL_INCLUDE_PATH", (dir.path().string() + "::/nonexistent-root").c_str(), 1);
  const auto with_env = gaincell::netlist::include_roots({});
  ::unsetenv("GAINCELL_INCLUDE_PATH");
  CHECK(with_env.size() == roots.size() + 2);
  CHECK(std::find(with_env.begin(), with_env.end(), std::filesystem::canonical(dir.path())) != with_env.end());
}

TEST_CASE("a device named as a model file is refused, not read forever", "[unit][netlist]") {
  TempDir dir;
  write_file(dir / "t.cir", std::string(kTop) + ".include /dev/zero\n.end\n");
  const std::string e = load_error(dir / "t.cir", {"/dev"});
  CHECK_THAT(e, Contains(":5:1: error GC-1108") && Contains("not a regular file"));
}

TEST_CASE("ngspice's prefix matches: .controlx opens a block, .incx and .libx read files", "[unit][netlist]") {
  CHECK_THROWS_WITH(NetlistTemplate::parse("t\n.CONTROLfoo\nsource x.sp\n.endc\n", "x.cir"),
                    Contains("x.cir:2:1: error GC-1103"));
  CHECK_THROWS_WITH(NetlistTemplate::parse("t\n.endcx\n", "x.cir"), Contains("x.cir:2:1: error GC-1103"));
  CHECK_THROWS_WITH(NetlistTemplate::parse("t\n.incx evil.inc\n", "x.cir"),
                    Contains("x.cir:2:1: error GC-1105") && Contains(".include"));
  CHECK_THROWS_WITH(NetlistTemplate::parse("t\n.libx evil.lib tt\n", "x.cir"), Contains("x.cir:2:1: error GC-1105"));
  CHECK_THROWS_WITH(NetlistTemplate::parse("t\n.library evil.lib tt\n", "x.cir"), Contains("GC-1105"));
  CHECK_NOTHROW(NetlistTemplate::parse("t\n.inc a.inc\n.include b.inc\n.lib c.lib tt\n", "x.cir").title());
}

TEST_CASE("~ in an include path is $HOME, as ngspice reads it", "[unit][netlist]") {
  const char* old_home = std::getenv("HOME");
  const std::string saved = old_home != nullptr ? old_home : "";
  ::setenv("HOME", "/somewhere/home", 1);
  CHECK(gaincell::netlist::expand_home("~/pdk/m.lib") == std::filesystem::path("/somewhere/home/pdk/m.lib"));
  CHECK(gaincell::netlist::expand_home("rel/~/m.lib") == std::filesystem::path("rel/~/m.lib"));
  const auto files = gaincell::netlist::included_files("t\n.include ~/x.inc\n", "/cells/t.cir");
  REQUIRE(files.size() == 1);
  CHECK(files[0].file == std::filesystem::path("/somewhere/home/x.inc"));
  if (old_home != nullptr) ::setenv("HOME", saved.c_str(), 1); else ::unsetenv("HOME");
}

TEST_CASE("one reading of include lines: the template renders the file the deck check checks", "[unit][netlist]") {
  using gaincell::netlist::parse_include_line;
  CHECK(!parse_include_line("R1 a 0 1k"));
  CHECK(!parse_include_line(".includex a.inc"));
  const auto quoted = parse_include_line("  .LIB \"my models.lib\" tt  ");
  REQUIRE(quoted);
  CHECK(quoted->word == ".lib");
  CHECK(quoted->target == "my models.lib");
  CHECK(quoted->tail == " tt");
  CHECK(quoted->reads_file());
  const auto section = parse_include_line(".lib tt");
  REQUIRE(section);
  CHECK(!section->reads_file());  // opens a section
  const auto open_quote = parse_include_line(".include 'a.inc");
  REQUIRE(open_quote);
  CHECK(open_quote->unterminated);
  CHECK(!open_quote->reads_file());
  // A tab or a form feed ends an unquoted path for both readers alike.
  TempDir dir;
  write_file(dir / "a.inc", "* a\n");
  const std::string text = "t\n.include a.inc\f tail\n";
  const auto tpl = NetlistTemplate::parse(text, dir / "t.cir");
  REQUIRE(tpl.includes().size() == 1);
  CHECK(tpl.includes()[0] == dir / "a.inc");
  const auto files = gaincell::netlist::included_files(text, dir / "t.cir");
  REQUIRE(files.size() == 1);
  CHECK(files[0].file == tpl.includes()[0]);
}
