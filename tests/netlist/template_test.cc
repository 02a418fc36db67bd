// SPDX-License-Identifier: MIT
#include "gaincell/netlist/template.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "gaincell/core/error.h"
#include "gaincell/core/si_value.h"
#include "test_support.h"

using gaincell::InputError;
using gaincell::netlist::NetlistTemplate;
using gaincell::netlist::RenderRequest;

namespace {

const char* const kTemplate =
    "test cell\n"
    "* gaincell template: test\n"
    ".include models/cards.lib\n"
    ".param v_store=0.45 $ [V] stored voltage\n"
    ".param t_pulse=15n ; [s] read pulse width\n"
    ".param c_s=2f\n"
    ".param a_pulse={t_pulse>0 ? 0.9 : 0}\n"
    "V1 wbl 0 {v_store}\n"
    ".tran 0.1n 30n\n"
    ".save v(sn)\n"
    ".meas tran q integ i(v1) from=0 to=30n\n"
    ".end\n"
    "R99 after end 1\n";

}  // namespace

TEST_CASE("template parameters carry defaults, units and descriptions", "[unit][netlist]") {
  const auto tpl = NetlistTemplate::parse(kTemplate, "/cells/test.cir");
  REQUIRE(tpl.params().size() == 3);
  CHECK(tpl.params()[0].name == "v_store");
  CHECK(tpl.params()[0].default_value == 0.45);
  CHECK(tpl.params()[0].unit == "V");
  CHECK(tpl.params()[0].description == "stored voltage");
  CHECK(tpl.params()[1].default_value == 1.5e-8);
  CHECK(tpl.params()[1].unit == "s");
  CHECK(tpl.params()[2].unit.empty());
  REQUIRE(tpl.derived().size() == 1);
  CHECK(tpl.derived()[0].name == "a_pulse");
  REQUIRE(tpl.includes().size() == 1);
  CHECK(tpl.includes()[0] == "/cells/models/cards.lib");
}

TEST_CASE("rendering replaces values exactly and swaps the analysis", "[unit][netlist]") {
  const auto tpl = NetlistTemplate::parse(kTemplate, "/cells/test.cir");
  RenderRequest req;
  req.values = {{"v_store", 0.1 + 0.2}, {"T_PULSE", 3e-9}};
  req.analysis = ".tran 1e-10 2e-08";
  req.saves = {"v(sn)", "i(v1)"};
  req.options = {{"gmin", "1e-18"}};
  const std::string text = tpl.render(req);
  CHECK(text.find(".param v_store=0.30000000000000004 $ [V] stored voltage\n") != std::string::npos);
  CHECK(text.find(".param t_pulse=3e-09") != std::string::npos);
  CHECK(text.find(".param c_s=2e-15\n") != std::string::npos);
  CHECK(text.find(".include \"/cells/models/cards.lib\"") != std::string::npos);
  CHECK(text.find(".tran 0.1n 30n") == std::string::npos);
  CHECK(text.find(".meas tran q") == std::string::npos);
  CHECK(text.find("R99") == std::string::npos);  // after .end
  CHECK(text.find(".options gmin=1e-18\n.tran 1e-10 2e-08\n.save v(sn) i(v1)\n.end\n") != std::string::npos);
  // The written value reads back as the same double.
  CHECK(gaincell::parse_si("0.30000000000000004") == 0.1 + 0.2);
}

TEST_CASE("unknown and derived parameters are refused with the declared list", "[unit][netlist]") {
  const auto tpl = NetlistTemplate::parse(kTemplate, "/cells/test.cir");
  RenderRequest req;
  req.values = {{"c_sn", 1e-15}};
  // A name the template never uses has no line: the file alone.
  CHECK_THROWS_WITH(tpl.render(req),
                    "/cells/test.cir: error GC-1102: unknown parameter 'c_sn'; template declares: v_store, t_pulse, c_s");
  // The others are placed at the parameter's line and column, not at line 0.
  req.values = {{"a_pulse", 0.5}};
  CHECK_THROWS_WITH(tpl.render(req),
                    "/cells/test.cir:7:8: error GC-1104: parameter 'a_pulse' is derived (a_pulse={t_pulse>0 ? 0.9 : 0}) "
                    "and cannot be set; template declares: v_store, t_pulse, c_s");
  req.values = {{"C_S", std::nan("")}};
  CHECK_THROWS_WITH(tpl.render(req), "/cells/test.cir:6:8: error GC-1004: parameter 'c_s' = nan is not a finite number");
  // Two parameters on one line: each at its own column.
  const auto two = NetlistTemplate::parse("t\n.param vdd=0.9 $ [V]\n  .param  a=1   t_x=2 $ [s] >= 0\n.end\n", "two.cir");
  CHECK(two.find_param("a")->column == 11);
  CHECK(two.find_param("t_x")->column == 17);
  req.values = {{"t_x", -1}};
  CHECK_THROWS_WITH(two.render(req), Catch::StartsWith("two.cir:3:17: error GC-1110: parameter 't_x' = -1 s is outside"));
  // A name only a subcircuit's params: declares is placed where it appears.
  const auto sub = NetlistTemplate::parse("t\n.param vdd=0.9\n.subckt cell a b params: c_sn=1f\nC1 a b {c_sn}\n.ends\n"
                                          "X1 n1 0 cell\n.end\n", "sub.cir");
  req.values = {{"c_sn", 2e-15}};
  CHECK_THROWS_WITH(sub.render(req), "sub.cir:3:26: error GC-1102: unknown parameter 'c_sn'; template declares: vdd");
}

TEST_CASE("templates with .control blocks or bad parameter values are refused", "[unit][netlist]") {
  CHECK_THROWS_WITH(NetlistTemplate::parse("t\nR1 a 0 1\n.control\nshell rm -rf /\n.endc\n.end\n", "x.cir"),
                    "x.cir:3:1: error GC-1103: a .control block holds ngspice commands (ngspice reads any line "
                    "starting '.control' as one); netlists read by gaincell must be data only\n"
                    "  hint: gaincell drives ngspice itself: put analyses and measures in the sweep spec, and remove "
                    "this line");
  CHECK_THROWS_AS(NetlistTemplate::parse("t\n.param v=0.9V\n.end\n", "x.cir"), InputError);
  try {
    NetlistTemplate::parse("t\n.param v=0.9V\n.end\n", "x.cir");
  } catch (const InputError& e) {
    CHECK(e.id() == "GC-1101");
    CHECK(std::string(e.what()).rfind("x.cir:2:8: error GC-1101: parameter 'v': value \"0.9V\"", 0) == 0);
  }
  CHECK_THROWS_WITH(NetlistTemplate::parse("t\n.param v=1\n.param v=2\n.end\n", "x.cir"),
                    "x.cir:3:8: error GC-1106: parameter 'v' declared twice");
}

TEST_CASE("the shipped default cell is a valid template", "[unit][netlist]") {
  const auto tpl = NetlistTemplate::load(gaincell::testing::source_dir() / "netlists/pushpull_cell.cir");
  for (const char* name : {"v_store", "t_pulse", "vdd", "vin", "v_line", "c_s", "c_line", "t_read"}) {
    INFO(name);
    REQUIRE(tpl.find_param(name) != nullptr);
    CHECK_FALSE(tpl.find_param(name)->unit.empty());
  }
  CHECK(tpl.find_param("vdd")->default_value == 0.9);
  CHECK(tpl.find_param("v_line")->default_value == 0.45);
  for (const auto& inc : tpl.includes()) CHECK(std::filesystem::exists(inc));
  // The cell file includes the model cards: both are dependencies.
  const auto deps = gaincell::netlist::dependency_files(tpl);
  REQUIRE(deps.size() == 2);
  CHECK(deps[0].filename() == "pushpull.sub");
  CHECK(deps[1].filename() == "generic45.lib");
  for (const auto& d : deps) CHECK(std::filesystem::exists(d));
}
