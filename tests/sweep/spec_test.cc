// SPDX-License-Identifier: MIT
#include "gaincell/sweep/spec.h"

#include <catch2/catch.hpp>

#include "gaincell/core/error.h"
#include "gaincell/spice/worker.h"
#include "gaincell/sweep/plan.h"
#include "test_support.h"

using gaincell::InputError;
using gaincell::sweep::load_spec;
using gaincell::testing::TempDir;
using gaincell::testing::write_file;

namespace {

const char* const kTemplate =
    "rc\n"
    ".param v_in=1 $ [V] step\n"
    ".param r_load=1k $ [ohm] resistor\n"
    ".param t_read=8n $ [s] read time\n"
    ".param half={v_in/2}\n"
    "V1 in 0 PULSE(0 {v_in} 1n 10p 10p 100n 200n)\n"
    "R1 in out {r_load}\n"
    "C1 out 0 1p\n"
    ".end\n";

// A valid spec; tests replace one piece of it.
std::string spec_text(const std::string& axes = R"([{"param": "v_in", "values": [0.5, "1"]}])",
                      const std::string& extra = "") {
  return "{\n"
         "  \"format\": \"gaincell-spec/1\",\n"
         "  \"name\": \"rc\",\n"
         "  \"template\": \"rc.cir\",\n"
         "  \"axes\": " + axes + ",\n" + extra +
         "  \"analysis\": {\"tran\": {\"step\": \"0.1n\", \"stop\": \"10n\"}},\n"
         "  \"measures\": [{\"name\": \"v_out_v\", \"kind\": \"value_at\", \"of\": \"v(out)\", \"unit\": \"V\"}]\n"
         "}\n";
}

// Loads `text` as dir/spec.json and returns the error message ("" if none).
std::string error_of(const TempDir& dir, const std::string& text) {
  write_file(dir / "spec.json", text);
  try {
    load_spec(dir / "spec.json");
  } catch (const InputError& e) {
    std::string msg = e.what();
    const std::string prefix = (dir / "spec.json").string();
    if (msg.rfind(prefix, 0) == 0) msg = "spec.json" + msg.substr(prefix.size());
    return msg;
  }
  return "";
}

}  // namespace

TEST_CASE("a valid spec expands to row-major points", "[unit][spec]") {
  TempDir dir;
  write_file(dir / "rc.cir", kTemplate);
  write_file(dir / "spec.json",
             spec_text(R"([{"param": "v_in", "values": [0.5, 1]},
                           {"param": "r_load", "linspace": {"start": "1k", "stop": "3k", "count": 3}}])"));
  const auto spec = load_spec(dir / "spec.json");
  CHECK(spec.axes[0].unit == "V");
  CHECK(spec.axes[1].unit == "ohm");
  CHECK(spec.axes[1].values == std::vector<double>{1e3, 2e3, 3e3});
  const gaincell::sweep::SweepPlan plan(spec);
  CHECK(plan.size() == 6);
  CHECK(plan.coordinates(0) == std::vector<double>{0.5, 1e3});
  CHECK(plan.coordinates(4) == std::vector<double>{1, 2e3});
  CHECK(plan.parameters(5).at("r_load") == 3e3);
  CHECK(plan.parameters(5).at("t_read") == 8e-9);
  const std::string net = plan.render(5);
  CHECK(net.find(".param v_in=1 $ [V] step") != std::string::npos);
  CHECK(net.find(".param r_load=3000 $ [ohm] resistor") != std::string::npos);
  CHECK(net.find(".meas tran v_out_v find v(out) at=1e-08") != std::string::npos);
  CHECK_THROWS_AS(plan.coordinates(6), InputError);
}

TEST_CASE("spec errors name the file, line, column, JSON pointer and what was expected", "[unit][spec]") {
  TempDir dir;
  write_file(dir / "rc.cir", kTemplate);

  CHECK(error_of(dir, spec_text(R"([{"param": "v_in", "values": [0.5, "0.9V"]}])")) ==
        "spec.json:5:46: error GC-1203: /axes/0/values/1: expected a number (V), found string \"0.9V\"\n"
        "  hint: write plain SI numbers (0.9) or SPICE suffixes (\"15n\"); units are not part of values");
  CHECK(error_of(dir, spec_text(R"([{"param": "c_sn", "values": [1]}])")) ==
        "spec.json:5:22: error GC-1102: /axes/0/param: unknown parameter 'c_sn'; rc.cir declares: v_in, r_load, t_read");
  // The derived parameter's own line and column in the template (.param half=...: line 5, column 8).
  CHECK(error_of(dir, spec_text(R"([{"param": "half", "values": [1]}])")).find("error GC-1104: /axes/0/param: "
                                                                               "parameter 'half' is derived (an expression) in ") !=
        std::string::npos);
  CHECK(error_of(dir, spec_text(R"([{"param": "half", "values": [1]}])")).find("rc.cir:5:8 and cannot be set") !=
        std::string::npos);
  CHECK(error_of(dir, spec_text(R"([{"param": "v_in", "valeus": [1]}])")) ==
        "spec.json:5:30: error GC-1204: /axes/0/valeus: unknown key 'valeus'; expected one of: param, values, "
        "linspace, logspace, description");
  CHECK(error_of(dir, "{\"format\": \"gaincell-spec/1\",\n \"name\": \"rc\"\n \"template\": 1}") ==
        "spec.json:3:11: error GC-1201: invalid JSON: syntax error while parsing object - unexpected string literal; "
        "expected '}'");
  CHECK(error_of(dir, spec_text(R"([])")) == "spec.json:5:11: error GC-1205: /axes: a sweep needs at least one axis");
  CHECK(error_of(dir, spec_text(R"([{"param": "v_in", "values": [1]}])", "  \"timeout_s\": -1,\n")) ==
        "spec.json:6:16: error GC-1205: /timeout_s: the timeout must be > 0 s and at most 1e+06 s "
        "(limits::kMaxTimeout_s, docs/cli.md#limits)");
  // 1e300 s once overflowed the clock and timed out every point.
  CHECK_THAT(error_of(dir, spec_text(R"([{"param": "v_in", "values": [1]}])", "  \"timeout_s\": 1e300,\n")),
             Catch::Contains("error GC-1205: /timeout_s"));
  // A sweep too large to hold is refused before its axes are allocated.
  CHECK_THAT(error_of(dir, spec_text(R"([{"param": "v_in", "linspace": {"start": 0, "stop": 1, "count": 1000000000}}])")),
             Catch::Contains("/axes/0/linspace/count") && Catch::Contains("kMaxListValues"));
  CHECK_THAT(error_of(dir, spec_text(R"([{"param": "v_in", "linspace": {"start": 0, "stop": 1, "count": 10000}},
                                         {"param": "r_load", "linspace": {"start": 1, "stop": 2, "count": 10000}}])")),
             Catch::Contains("error GC-1209: /axes: the axes span more than 10000000 points"));
  std::string no_template = spec_text();
  no_template.replace(no_template.find("rc.cir"), 6, "missing.cir");
  CHECK(error_of(dir, no_template).find("spec.json:4:15: error GC-1207: /template: template file ") == 0);
  std::string bad_format = spec_text();
  bad_format.replace(bad_format.find("spec/1"), 6, "spec/9");
  CHECK(error_of(dir, bad_format) ==
        "spec.json:2:13: error GC-1206: /format: unsupported format \"gaincell-spec/9\"; this gaincell reads "
        "\"gaincell-spec/1\"");
}

TEST_CASE("text that could reach ngspice as commands is refused", "[unit][spec][security]") {
  TempDir dir;
  write_file(dir / "rc.cir", kTemplate);
  // Values: only numbers get through; newlines and dot-commands are refused.
  for (const char* value : {"\"1\\n.control\\nshell rm -rf /\\n.endc\"", "\"0.45 .control\"", "\"{v_in*2}\"",
                            "\"1;shell ls\"", "\"'1'\""}) {
    INFO(value);
    const std::string text = spec_text(std::string("[{\"param\": \"v_in\", \"values\": [") + value + "]}]");
    CHECK(error_of(dir, text).find("error GC-1203: /axes/0/values/0: expected a number (V)") != std::string::npos);
  }
  // Names: parameter names must be declared by the template.
  CHECK(error_of(dir, spec_text(R"([{"param": "v_in\n.control", "values": [1]}])")).find("GC-1102") !=
        std::string::npos);
  // Options and vectors: identifiers and numbers only.
  CHECK(error_of(dir, spec_text(R"([{"param": "v_in", "values": [1]}])",
                                "  \"options\": {\"reltol\": \"1e-3\\nshell ls\"},\n"))
            .find("error GC-1203: /options/reltol") != std::string::npos);
  CHECK(error_of(dir, spec_text(R"([{"param": "v_in", "values": [1]}])",
                                "  \"options\": {\"reltol\\n.control\": 1},\n"))
            .find("error GC-1205") != std::string::npos);
  std::string bad_vector = spec_text();
  bad_vector.replace(bad_vector.find("v(out)"), 6, "v(out)\\n.control");
  CHECK(error_of(dir, bad_vector).find("error GC-1205: /measures/0/of: expected a vector") != std::string::npos);
}

TEST_CASE("ngspice_init lines are checked where the spec writes them", "[unit][spec][init]") {
  TempDir dir;
  write_file(dir / "rc.cir", kTemplate);
  const std::string axes = R"([{"param": "v_in", "values": [1]}])";
  write_file(dir / "spec.json", spec_text(axes, "  \"ngspice_init\": [\"set ngbehavior=HSA\", \"option  klu\"],\n"));
  CHECK(load_spec(dir / "spec.json").ngspice_init == std::vector<std::string>{"set ngbehavior=hsa", "option klu"});
  const std::string forms = gaincell::spice::allowed_init_forms();
  CHECK(error_of(dir, spec_text(axes, "  \"ngspice_init\": [\"set ngbehavior=hsa\", \"shell ls\"],\n")) ==
        "spec.json:6:42: error GC-1216: /ngspice_init/1: \"shell ls\": 'shell' runs a program\n  hint: " + forms);
  CHECK(error_of(dir, spec_text(axes, "  \"ngspice_init\": [\"set num_threads=4\"],\n"))
            .rfind("spec.json:6:20: error GC-1217: /ngspice_init/0: \"set num_threads=4\": num_threads is gaincell's", 0) == 0);
  CHECK(error_of(dir, spec_text(axes, "  \"ngspice_init\": [\"set ngbehavior=hsa\", \"set ngbehavior=ps\"],\n")) ==
        "spec.json:6:42: error GC-1218: /ngspice_init/1: a second 'set ngbehavior' line (ngspice would keep only the "
        "last)\n  hint: " + forms);
  CHECK(error_of(dir, spec_text(axes, "  \"ngspice_init\": [\"option klu\", \"option klu\"],\n")) ==
        "spec.json:6:34: error GC-1208: /ngspice_init/1: \"option klu\" is given twice");
  CHECK(error_of(dir, spec_text(axes, "  \"ngspice_init\": [\"set frobnicate\"],\n")) ==
        "spec.json:6:20: error GC-1215: /ngspice_init/0: \"set frobnicate\": variable 'frobnicate' is not on gaincell's "
        "list of init settings\n  hint: " + forms);
  CHECK(error_of(dir, spec_text(axes, "  \"ngspice_init\": \"set ngbehavior=hsa\",\n"))
            .rfind("spec.json:6:19: error GC-1203: /ngspice_init: expected an array", 0) == 0);
}

TEST_CASE("corner axes: one per library file, named, never one of two .lib lines of a file", "[unit][spec][corner]") {
  TempDir dir;
  write_file(dir / "proc.lib", ".lib tt\n.param r_sheet=1k\n.endl tt\n.lib ff\n.param r_sheet=800\n.endl ff\n");
  write_file(dir / "stat.lib", ".lib nominal\n.param r_mm=0\n.endl nominal\n.lib mismatch\n.param r_mm=10\n.endl mismatch\n");
  const std::string body =
      ".param r_scale=1 $ [1] scale\n"
      "V1 in 0 PULSE(0 1 1n 10p 10p 100n 200n)\n"
      "R1 in out {r_sheet*r_scale+r_mm}\n"
      "C1 out 0 1p\n"
      ".end\n";
  write_file(dir / "rc.cir", "rc with process and mismatch sections\n.lib proc.lib tt\n.lib stat.lib nominal\n" + body);
  // A process axis and a mismatch axis, each choosing the section of its own file.
  const std::string two = R"([{"corner": "proc.lib", "values": ["tt", "ff"]},
                              {"corner": "stat.lib", "name": "mismatch", "values": ["nominal", "mismatch"]}])";
  write_file(dir / "spec.json", spec_text(two));
  const auto spec = load_spec(dir / "spec.json");
  REQUIRE(spec.axes.size() == 2);
  CHECK(spec.axes[1].name == "mismatch");
  const gaincell::sweep::SweepPlan plan(spec);
  CHECK(plan.describe(3) == "corner=ff mismatch=mismatch");
  const std::string net = plan.render(1);
  CHECK(net.find(".lib \"" + (dir / "proc.lib").string() + "\" tt\n") != std::string::npos);
  CHECK(net.find(".lib \"" + (dir / "stat.lib").string() + "\" mismatch\n") != std::string::npos);

  CHECK(error_of(dir, spec_text(R"([{"corner": "proc.lib", "values": ["tt"]}, {"corner": "stat.lib", "values": ["nominal"]}])")) ==
        "spec.json:5:54: error GC-1208: /axes/1: 'corner' is swept twice\n"
        "  hint: give each corner axis a \"name\" of its own, e.g. \"mismatch\"");
  CHECK(error_of(dir, spec_text(R"([{"corner": "proc.lib", "values": ["tt"]},
                                    {"corner": "proc.lib", "name": "again", "values": ["ff"]}])")) ==
        "spec.json:6:48: error GC-1219: /axes/1/corner: another corner axis ('corner') already chooses the section of " +
            (dir / "proc.lib").string());
  CHECK(error_of(dir, spec_text(R"([{"corner": "proc.lib", "name": "r_scale", "values": ["tt"]}])")) ==
        "spec.json:5:43: error GC-1208: /axes/0/name: 'r_scale' is a template parameter; name the corner axis otherwise");

  // One file in two .lib lines (a corner and a statistical section, gf180-style):
  // an axis would set both lines to the same section, so it is refused.
  write_file(dir / "both.lib", ".lib tt\n.param r_sheet=1k\n.endl tt\n.lib nominal\n.param r_mm=0\n.endl nominal\n");
  write_file(dir / "rc.cir", "rc with one library in two lines\n.lib both.lib tt\n.lib both.lib nominal\n" + body);
  CHECK(error_of(dir, spec_text(R"([{"corner": "both.lib", "values": ["tt"]}])")) ==
        "spec.json:5:23: error GC-1219: /axes/0/corner: the template reads " + (dir / "both.lib").string() +
            " in 2 `.lib FILE SECTION` lines (rc.cir lines 2, 3); a corner axis sets the section of every one of them\n"
            "  hint: give the varied sections a library file of their own, e.g. corners.lib with `.lib tt` ... "
            "`.lib \"models.lib\" tt` ... `.endl tt` (docs/pdk.md)");
}
