// SPDX-License-Identifier: MIT
// The numparam subset behind circuit reuse by `alter` (src/spice/alter_plan.h).
// The end-to-end check, bit for bit against fresh parses in real ngspice, is
// the ctest circuit_reuse; these pin the rules that test relies on.
#include "spice/alter_plan.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace gaincell::spice::alter;

namespace {
double eval(const char* e, const std::map<std::string, double>& env = {}) {
  auto v = evaluate(e, env);
  REQUIRE(v.has_value());
  return *v;
}
}  // namespace

TEST_CASE("numparam's expressions: operators, precedence, suffixes", "[unit][spice]") {
  const std::map<std::string, double> env{{"a", 0.3}, {"b", 2e-9}, {"z", 0.0}};
  CHECK(eval("1+2*3") == 7.0);
  CHECK(eval("a-b-1", env) == (0.3 - 2e-9) - 1);
  CHECK(eval("b/2", env) == 1e-9);
  CHECK(eval("(1+2)*3") == 9.0);
  CHECK(eval("2n") == 2 * 1e-9);
  CHECK(eval("1meg") == 1e6);
  CHECK(eval("1mil") == 1e-3);  // numparam knows no "mil": m is milli
  CHECK(eval("5a") == 5.0);     // nor atto: an unknown suffix is 1
  CHECK(eval("a>0.25 ? a : 0", env) == 0.3);
  CHECK(eval("a<0.25 ? a : -0.5", env) == -0.5);
  CHECK(eval("a>=0.3 && b<=2n", env) == 1.0);
  CHECK(eval("a==0.2 || 0", env) == 0.0);
  CHECK(eval("min(b,3n)+max(a,0.3)", env) == 2e-9 + 0.3);
  CHECK(eval("abs(-a)", env) == 0.3);
  CHECK(eval("a != 0.3", env) == 0.0);
  CHECK(eval("a<>0.2", env) == 1.0);
  // A ternary nests in the else-branch, or in parentheses; not bare in the then-branch,
  // which numparam reads as "c1 ? y : w" (a stranger's review found the difference).
  CHECK(eval("a<0 ? 1 : a<0.25 ? 5 : 6", env) == 6.0);
  CHECK(eval("a>0 ? (a>0.25 ? 1 : 2) : 3", env) == 1.0);
  CHECK_FALSE(evaluate("a>0 ? a>0.25 ? 1 : 2 : 3", env).has_value());
  CHECK_FALSE(evaluate("a>0 ? (a>0.25) ? 1 : 2 : 3", env).has_value());
}

TEST_CASE("numparam's signs: a leading minus is 0 - x, a later one negates a number", "[unit][spice]") {
  const std::map<std::string, double> env{{"z", 0.0}, {"a", 0.3}};
  const double lead = eval("-z", env);
  CHECK(lead == 0.0);
  CHECK_FALSE(std::signbit(lead));  // 0 - 0 is +0
  CHECK(std::signbit(eval("1*-0")));  // -1 * 0 is -0
  CHECK(eval("-a*2+1", env) == 0.0 - 0.3 * 2 + 1);
  CHECK(eval("2*-1", env) == -2.0);
  CHECK_FALSE(evaluate("2*-a", env).has_value());  // numparam: "wrongly determined negation"
  // min and max compare their arguments in reverse order: ties keep the first
  // (each argument is a formula of its own, so "-0" there is +0).
  CHECK_FALSE(std::signbit(eval("max(0,1*-0)")));
  CHECK(std::signbit(eval("min(1*-0,0)")));
  CHECK_FALSE(std::signbit(eval("min(-0,0)")));
}

TEST_CASE("anything outside the subset is refused, not guessed", "[unit][spice]") {
  const std::map<std::string, double> env{{"a", 0.3}};
  for (const char* e : {"a**2", "a^2", "7%3", "sqrt(a)", "gauss(1,0.1,3)", "undefined_name", "2n5", "0x10", "a=1",
                        "(a", "a)", "", "!a", "min(a)"}) {
    CAPTURE(e);
    CHECK_FALSE(evaluate(e, env).has_value());
  }
}

TEST_CASE("values are written as numparam substitutes them", "[unit][spice]") {
  CHECK(numparam_text(0.45) == "4.500000000000000e-01");
  CHECK(numparam_text(8e-9) == "8.000000000000000e-09");
  CHECK(numparam_text(-0.0) == "-0.000000000000000e+00");
}

namespace {
const std::vector<std::string> kLines = {
    "title",
    ".param v_store=0.45 $ [V]",
    ".param t_pulse=5n",
    ".param r=1k",
    ".param a_pulse={t_pulse>0 ? 0.9 : 0}",
    "VWBL wbl 0 PWL(0 {v_store} 6n {v_store})",
    "VWLR wlr 0 PULSE(0 {a_pulse} 8n 20p 20p {t_pulse} 1)",
    "R1 wbl wlr {r}",
    ".tran 0.1n 30n",
    ".end",
};
// ngspice's deck before numparam, and after (as `listing expand` prints them).
const std::vector<std::string> kListing = {
    "title",
    ".param v_store=0.45 $ [v]",
    ".param t_pulse=5n",
    ".param r=1k",
    ".param a_pulse={t_pulse>0 ? 0.9 : 0}",
    "vwbl wbl 0 pwl(0 {v_store} 6n {v_store})",
    "vwlr wlr 0 pulse(0 {a_pulse} 8n 20p 20p {t_pulse} 1)",
    "r1 wbl wlr {r}",
    ".tran 0.1n 30n",
    ".end",
};
const std::vector<std::string> kExpanded = {
    "title",
    "vwbl wbl 0 pwl(0    4.500000000000000e-01   6n    4.500000000000000e-01  )",
    "vwlr wlr 0 pulse(0    9.000000000000000e-01   8n 20p 20p    5.000000000000000e-09   1)",
    "r1 wbl wlr    1.000000000000000e+03",
};
const std::set<std::string> kAlterable = {"v_store", "t_pulse", "r"};
}  // namespace

TEST_CASE("a plan alters the sources a parameter feeds, and only those", "[unit][spice]") {
  std::string why;
  auto plan = build_plan(kLines, kListing, kExpanded, kAlterable, &why);
  REQUIRE(plan.has_value());
  CHECK(plan->safe == std::set<std::string>{"v_store", "t_pulse"});  // r feeds a resistor
  CHECK(plan->sources.size() == 2);

  auto c = commands(*plan, {{"v_store", "0.3"}});
  REQUIRE(c.has_value());
  REQUIRE(c->size() == 1);
  CHECK((*c)[0] == "alter @vwbl[pwl] = [ 0 3.000000000000000e-01 6n 3.000000000000000e-01 ]");
  // t_pulse = 0 changes the derived amplitude too; v_store back at the deck's value is
  // altered back, because the circuit still holds 0.3.
  c = commands(*plan, {{"t_pulse", "0"}});
  REQUIRE(c.has_value());
  REQUIRE(c->size() == 2);
  CHECK((*c)[0] == "alter @vwbl[pwl] = [ 0 4.500000000000000e-01 6n 4.500000000000000e-01 ]");
  CHECK((*c)[1] == "alter @vwlr[pulse] = [ 0 0.000000000000000e+00 8n 20p 20p 0.000000000000000e+00 1 ]");
  CHECK(commands(*plan, {{"t_pulse", "0"}})->empty());  // nothing left to change
  CHECK_FALSE(commands(*plan, {{"r", "2k"}}).has_value());  // the caller rebuilds instead

  // After a rebuild with r and v_store changed, the plan starts from that deck.
  REQUIRE(rebase(*plan, {{"r", "2000"}, {"v_store", "0.9"}}));
  c = commands(*plan, {{"t_pulse", "0"}});
  REQUIRE(c.has_value());
  REQUIRE(c->size() == 1);
  CHECK((*c)[0] == "alter @vwlr[pulse] = [ 0 0.000000000000000e+00 8n 20p 20p 0.000000000000000e+00 1 ]");
  c = commands(*plan, {{"v_store", "0.45"}});
  REQUIRE(c.has_value());
  REQUIRE(c->size() == 2);
  CHECK((*c)[0] == "alter @vwbl[pwl] = [ 0 4.500000000000000e-01 6n 4.500000000000000e-01 ]");
  CHECK((*c)[1] == "alter @vwlr[pulse] = [ 0 9.000000000000000e-01 8n 20p 20p 5.000000000000000e-09 1 ]");
}

TEST_CASE("a plan refuses decks it cannot reproduce", "[unit][spice]") {
  std::string why;
  // A source whose deck text is not what the plan computes is left alone.
  auto wrong = kExpanded;
  wrong[1] = "vwbl wbl 0 pwl(0    4.500000000000001e-01   6n    4.500000000000000e-01  )";
  auto plan = build_plan(kLines, kListing, wrong, kAlterable, &why);
  REQUIRE(plan.has_value());
  CHECK(plan->safe == std::set<std::string>{"t_pulse"});

  // Random draws anywhere: a fresh parse would draw again.
  auto random = kListing;
  random.push_back(".param dv={agauss(0, 0.01, 3)}");
  CHECK_FALSE(build_plan(kLines, random, kExpanded, kAlterable, &why).has_value());
  CHECK(why.find("random") != std::string::npos);

  // Two sources of one name (the branches of an .if): never altered.
  auto twice = kLines;
  twice.insert(twice.begin() + 6, "VWBL wbl 0 PWL(0 {v_store} 6n {v_store})");
  plan = build_plan(twice, kListing, kExpanded, kAlterable, &why);
  REQUIRE(plan.has_value());
  CHECK(plan->safe == std::set<std::string>{"t_pulse"});
  auto branches = kLines;
  branches.insert(branches.begin() + 5, ".if (1)");
  branches.insert(branches.begin() + 7, ".endif");
  CHECK_FALSE(build_plan(branches, kListing, kExpanded, kAlterable, &why).has_value());
  CHECK(why.find(".if") != std::string::npos);

  // A name a subcircuit or a model mentions is not safe.
  auto model = kListing;
  model.push_back(".model sw1 sw vt={v_store/2}");
  plan = build_plan(kLines, model, kExpanded, kAlterable, &why);
  REQUIRE(plan.has_value());
  CHECK(plan->safe == std::set<std::string>{"t_pulse"});
}
