// SPDX-License-Identifier: MIT
#include "gaincell/sweep/spec.h"

#include <catch2/catch.hpp>

#include "gaincell/core/error.h"
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
  CHECK(error_of(dir, spec_text(R"([{"param": "half", "values": [1]}])")).find("error GC-1104: /axes/0/param: "
                                                                               "parameter 'half' is derived") !=
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
