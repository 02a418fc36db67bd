// SPDX-License-Identifier: MIT
#include "spice/raw_file.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gaincell/core/error.h"

namespace fs = std::filesystem;
using gaincell::InputError;
using gaincell::IoError;
using gaincell::spice::parse_raw;
using gaincell::spice::RawPlot;
using gaincell::spice::read_raw_file;

namespace {

// A fresh directory under the system temp dir, removed when the test ends.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    const auto base = fs::temp_directory_path();
    for (int attempt = 0; attempt < 100; ++attempt) {
      path_ = base / ("gaincell_raw_test_" + std::to_string(rd()));
      if (fs::create_directory(path_)) return;
    }
    FAIL("cannot create a temporary directory under " << base);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  REQUIRE(out.good());
}

void append_double(std::string& out, double value) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  for (int i = 0; i < 8; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xff);
}

// Runs ngspice in `dir`; returns its exit status (0 on success).
int run_ngspice(const fs::path& dir, const std::string& args) {
  const std::string command = "cd '" + dir.string() + "' && ngspice " + args + " > ngspice.log 2>&1";
  return std::system(command.c_str());
}

std::string error_of(const std::string& content) {
  try {
    parse_raw(content, "x.raw");
  } catch (const InputError& e) {
    CHECK(e.id() == "GC-1401");
    return e.what();
  }
  return "(no error)";
}

// Two plots, as written by `ngspice -b -r` after `set filetype=ascii`.
const std::string kAsciiBatch =
    "Title: rc test\n"
    "Date: Mon Nov 23 21:29:02  2026\n"
    "Plotname: Operating Point\n"
    "Flags: real\n"
    "No. Variables: 2\n"
    "No. Points: 1       \n"
    "Variables:\n"
    "\t0\tv(out)\tvoltage\n"
    "\t1\ti(v1)\tcurrent\n"
    "Values:\n"
    "0\t\t5.000000000000000e-01\n"
    "\t-2.500000000000000e-03\n"
    "Title: rc test\n"
    "Date: Mon Nov 23 21:29:02  2026\n"
    "Plotname: Transient Analysis\n"
    "Flags: real\n"
    "No. Variables: 3\n"
    "No. Points: 3       \n"
    "Variables:\n"
    "\t0\ttime\ttime\n"
    "\t1\tv(out)\tvoltage\n"
    "\t2\ti(v1)\tcurrent\n"
    "Values:\n"
    "0\t\t0.000000000000000e+00\n"
    "\t0.000000000000000e+00\n"
    "\t-1.000000000000000e-03\n"
    "1\t\t1.000000000000000e-06\n"
    "\t6.321205588285577e-01\n"
    "\t-3.678794411714423e-04\n"
    "2\t\t2.000000000000000e-06\n"
    "\t8.646647167633873e-01\n"
    "\t-1.353352832366127e-04\n";

}  // namespace

TEST_CASE("raw_file reads ASCII plots as ngspice -b -r writes them", "[unit]") {
  const auto plots = parse_raw(kAsciiBatch, "x.raw");
  REQUIRE(plots.size() == 2);
  const RawPlot& op = plots[0];
  CHECK(op.title == "rc test");
  CHECK(op.date == "Mon Nov 23 21:29:02  2026");
  CHECK(op.plot_name == "Operating Point");
  CHECK(!op.is_complex);
  CHECK(op.names == std::vector<std::string>{"v(out)", "i(v1)"});
  CHECK(op.types == std::vector<std::string>{"voltage", "current"});
  CHECK(op.point_count() == 1);
  CHECK(op.vector("v(out)") == std::vector<double>{0.5});

  const RawPlot& tran = plots[1];
  CHECK(tran.plot_name == "Transient Analysis");
  REQUIRE(tran.point_count() == 3);
  CHECK(tran.vector("time") == std::vector<double>{0.0, 1e-6, 2e-6});
  CHECK(tran.vector("v(out)")[1] == 6.321205588285577e-01);
  CHECK(tran.vector("i(v1)")[2] == -1.353352832366127e-04);
}

TEST_CASE("RawPlot::vector accepts ngspice's aliases", "[unit]") {
  RawPlot plot;
  plot.plot_name = "Transient Analysis";
  plot.names = {"time", "v(out)", "vdd#branch", "i(v1)", "bl", "v(a,b)"};
  plot.types = {"time", "voltage", "current", "current", "voltage", "voltage"};
  for (std::size_t i = 0; i < plot.names.size(); ++i) plot.columns.push_back({static_cast<double>(i)});

  CHECK(plot.vector("v(out)")[0] == 1);
  CHECK(plot.vector("out")[0] == 1);
  CHECK(plot.vector("V(OUT)")[0] == 1);
  CHECK(plot.vector("i(vdd)")[0] == 2);
  CHECK(plot.vector("I(VDD)")[0] == 2);
  CHECK(plot.vector("vdd#branch")[0] == 2);
  CHECK(plot.vector("v1#branch")[0] == 3);
  CHECK(plot.vector("i(v1)")[0] == 3);
  CHECK(plot.vector("bl")[0] == 4);
  CHECK(plot.vector("v(bl)")[0] == 4);
  CHECK(plot.vector("TIME")[0] == 0);
  CHECK(plot.vector("v(a,b)")[0] == 5);
  CHECK(plot.has_vector("v(out)"));
  CHECK(!plot.has_vector("v(in)"));
  CHECK(!plot.has_vector("i(out)"));
  CHECK(!plot.has_vector("vout"));
  CHECK(plot.find_vector("nope") == -1);
}

TEST_CASE("RawPlot::vector names the missing vector and the available ones", "[unit]") {
  const auto plots = parse_raw(kAsciiBatch, "x.raw");
  CHECK_THROWS_WITH(plots[1].vector("v(rbl)"),
                    "error GC-1402: vector \"v(rbl)\" not found in plot \"Transient Analysis\"; available: "
                    "time, v(out), i(v1)\n  hint: a netlist with .save lines writes only the vectors it names");
  try {
    plots[1].vector("i(vdd)");
    FAIL("no exception");
  } catch (const InputError& e) {
    CHECK(e.id() == "GC-1402");
  }
}

TEST_CASE("raw_file reads `write`-style ASCII and complex plots", "[unit]") {
  // `write` puts a space before the index and a blank line after each point;
  // complex values are "re,im".
  const std::string text =
      "Title: rc ac\n"
      "Date: today\n"
      "Plotname: AC Analysis\n"
      "Flags: complex\n"
      "No. Variables: 2\n"
      "No. Points: 2\n"
      "Command: version 39\n"
      "Variables:\n"
      "\t0\tfrequency\tfrequency\tgrid=3\n"
      "\t1\tv(out)\tvoltage\n"
      "Values:\n"
      " 0\t1.000000000000000e+03,0.000000000000000e+00\n"
      "\t9.999605231408795e-01,-6.282937266758386e-03\n"
      "\n"
      " 1\t1.000000000000000e+06,0.000000000000000e+00\n"
      "\t2.470452303185767e-02,-1.552230961346477e-01\n"
      "\n";
  const auto plots = parse_raw(text, "ac.raw");
  REQUIRE(plots.size() == 1);
  const auto& ac = plots[0];
  CHECK(ac.is_complex);
  CHECK(ac.names == std::vector<std::string>{"frequency", "v(out)"});
  CHECK(ac.vector("frequency") == std::vector<double>{1e3, 1e6});
  CHECK(ac.vector("out") == std::vector<double>{9.999605231408795e-01, 2.470452303185767e-02});
  REQUIRE(ac.imag_columns.size() == 2);
  CHECK(ac.imag_columns[1] == std::vector<double>{-6.282937266758386e-03, -1.552230961346477e-01});
}

TEST_CASE("raw_file reads binary plots and reports truncation by byte offset", "[unit]") {
  TempDir dir;
  const std::string header =
      "Title: t\nDate: d\nPlotname: Transient Analysis\nFlags: real\nNo. Variables: 2\n"
      "No. Points: 3       \nVariables:\n\t0\ttime\ttime\n\t1\tv(out)\tvoltage\nBinary:\n";
  std::string data = header;
  for (int p = 0; p < 3; ++p) {
    append_double(data, p * 1e-9);
    append_double(data, 0.25 * p - 1e-300);
  }
  // A second plot right after the binary data, as `-r` writes op + tran.
  std::string second =
      "Title: t\nDate: d\nPlotname: Operating Point\nFlags: real\nNo. Variables: 1\n"
      "No. Points: 1\nVariables:\n\t0\tv(out)\tvoltage\nBinary:\n";
  append_double(second, 0.5);

  const fs::path ok = dir.path() / "ok.raw";
  write_file(ok, data + second);
  const auto plots = read_raw_file(ok);
  REQUIRE(plots.size() == 2);
  CHECK(plots[0].vector("time") == std::vector<double>{0, 1e-9, 2e-9});
  CHECK(plots[0].vector("v(out)") == std::vector<double>{-1e-300, 0.25 - 1e-300, 0.5 - 1e-300});
  CHECK(plots[1].plot_name == "Operating Point");
  CHECK(plots[1].vector("out") == std::vector<double>{0.5});

  const fs::path cut = dir.path() / "cut.raw";
  write_file(cut, data.substr(0, data.size() - 5));
  CHECK_THROWS_WITH(read_raw_file(cut),
                    cut.string() + ": error GC-1401: truncated binary data in plot \"Transient Analysis\": "
                                   "expected 48 bytes (3 points x 2 variables x 8 bytes) at byte offset " +
                        std::to_string(header.size()) + ", found 43");

  // Garbage after the data is reported by byte offset, not by a line number.
  const fs::path junk = dir.path() / "junk.raw";
  write_file(junk, data + "garbage\n");
  CHECK_THROWS_WITH(read_raw_file(junk), junk.string() + ": error GC-1401: at byte offset " +
                                             std::to_string(data.size()) +
                                             ": expected \"Title: <text>\", found \"garbage\"");
}

TEST_CASE("raw_file header errors name the file and line", "[unit]") {
  const std::string good_start = "Title: t\nDate: d\nPlotname: Transient Analysis\nFlags: real\nNo. Variables: 1\n";
  CHECK(error_of(good_start + "No. Pointz: 3\nVariables:\n\t0\ttime\ttime\nValues:\n") ==
        "x.raw:6: error GC-1401: expected \"No. Points: <count>\", found \"No. Pointz: 3\"");
  CHECK(error_of(good_start + "No. Points: -3\n") ==
        "x.raw:6: error GC-1401: expected \"No. Points: <count>\", found \"No. Points: -3\"");
  CHECK(error_of("Titel: t\n") == "x.raw:1: error GC-1401: expected \"Title: <text>\", found \"Titel: t\"");
  CHECK(error_of("") == "x.raw:1: error GC-1401: expected \"Title: <text>\", found an empty file");
  CHECK(error_of("Title: t\nDate: d\n") ==
        "x.raw:3: error GC-1401: expected \"Plotname: <name>\", found end of file");
  CHECK(error_of("Title: t\nDate: d\nPlotname: p\nFlags: real complex\n") ==
        "x.raw:4: error GC-1401: expected \"Flags: real\" or \"Flags: complex\", found \"Flags: real complex\"");
  CHECK(error_of("Title: t\nDate: d\nPlotname: p\nFlags: real unpadded\n") ==
        "x.raw:4: error GC-1401: \"Flags: unpadded\" is not supported (written after `set nopadding`); "
        "expected padded data");
  CHECK(error_of(good_start + "No. Points: 1\nVariables:\n\t1\ttime\ttime\n") ==
        "x.raw:8: error GC-1401: expected \"<index> <name> <type>\" for variable 0 of 1, found \"\\t1\\ttime\\ttime\"");
  CHECK(error_of(good_start + "No. Points: 1\nVariables:\n\t0\ttime\ttime\nData:\n") ==
        "x.raw:9: error GC-1401: expected \"Binary:\" or \"Values:\", found \"Data:\"");
  CHECK(error_of(good_start + "No. Points: 2\nVariables:\n\t0\ttime\ttime\nValues:\n0\t0\n1\tabc\n") ==
        "x.raw:11: error GC-1401: expected a number for \"time\" at point 1, found \"abc\"");
  CHECK(error_of(good_start + "No. Points: 3\nVariables:\n\t0\ttime\ttime\nValues:\n0\t0\n1\t1\n") ==
        "x.raw:12: error GC-1401: expected point index 2 (of 3 points) in plot \"Transient Analysis\", "
        "found end of file");
  // A corrupt count must fail cleanly, not try to allocate it.
  CHECK(error_of(good_start + "No. Points: 18446744073709551615\nVariables:\n\t0\ttime\ttime\nBinary:\n")
            .find("truncated binary data") != std::string::npos);
}

TEST_CASE("read_raw_file throws IoError for a missing file", "[unit]") {
  CHECK_THROWS_AS(read_raw_file("/nonexistent/gaincell/x.raw"), IoError);
  CHECK_THROWS_WITH(read_raw_file("/nonexistent/gaincell/x.raw"),
                    "cannot open rawfile \"/nonexistent/gaincell/x.raw\": No such file or directory");
}

namespace {

constexpr double kR = 1e3;
constexpr double kC = 1e-9;
constexpr double kTstop = 5e-6;

std::string rc_netlist(const std::string& control) {
  return "RC step response\n"
         "v1 in 0 dc 0 pulse(0 1 0 1p 1p 1 2)\n"
         "r1 in out 1k\n"
         "c1 out 0 1n\n"
         ".save v(out) i(v1)\n"
         ".tran 1e-8 5e-6\n" +
         control + ".end\n";
}

// ngspice prints ASCII values with "%.15e": 16 significant digits, so a value
// is off by at most half a unit in the 16th digit, i.e. <= 5e-16 relative,
// plus one rounding when read back; 1e-15 relative bounds both with margin.
constexpr double kAsciiRelTol = 1e-15;

void check_same_values(const RawPlot& binary, const RawPlot& ascii) {
  REQUIRE(binary.names == ascii.names);
  REQUIRE(binary.point_count() == ascii.point_count());
  for (std::size_t v = 0; v < binary.columns.size(); ++v) {
    for (std::size_t p = 0; p < binary.point_count(); ++p) {
      const double a = ascii.columns[v][p];
      const double b = binary.columns[v][p];
      if (std::fabs(a - b) > kAsciiRelTol * std::fabs(b)) {
        FAIL(binary.names[v] << "[" << p << "]: binary " << b << " vs ascii " << a);
      }
    }
  }
}

}  // namespace

TEST_CASE("raw_file reads a real ngspice RC transient", "[ngspice]") {
  TempDir dir;
  write_file(dir.path() / "rc.cir", rc_netlist(""));
  REQUIRE(run_ngspice(dir.path(), "-b rc.cir -r rc.raw") == 0);
  const auto plots = read_raw_file(dir.path() / "rc.raw");
  REQUIRE(plots.size() == 1);
  const RawPlot& tran = plots[0];
  CHECK(tran.plot_name == "Transient Analysis");
  CHECK(tran.title == "rc step response");  // ngspice 39 lower-cases the title
  // ngspice 39.3 writes node voltages as "v(out)" and currents as "i(v1)".
  CHECK(tran.names == std::vector<std::string>{"time", "v(out)", "i(v1)"});
  CHECK(tran.types == std::vector<std::string>{"time", "voltage", "current"});

  const auto& t = tran.vector("time");
  const auto& v = tran.vector("v(out)");
  const auto& i = tran.vector("i(v1)");
  REQUIRE(t.size() > 100);
  CHECK(t.front() == 0.0);
  CHECK(t.back() == Approx(kTstop).epsilon(1e-12));
  // The default reltol is 1e-3; the observed error of this circuit is ~3e-6 V.
  constexpr double kTol = 1e-4;
  for (const double at : {1e-6, 2e-6, 3e-6, 4.5e-6}) {
    std::size_t k = 0;
    while (t[k] < at) ++k;  // first sample at or after `at`
    INFO("t = " << t[k]);
    CHECK(v[k] == Approx(1.0 - std::exp(-t[k] / (kR * kC))).margin(kTol));
  }
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (t[k] < 1e-9) continue;  // the source rises in the first picosecond
    INFO("t = " << t[k]);
    // Current through a SPICE voltage source flows from + to - inside it, so a
    // source delivering power reads negative.
    CHECK(i[k] < 0);
    CHECK(i[k] == Approx(-(1.0 - v[k]) / kR).margin(1e-9));
  }
  // Aliases work on real files too.
  CHECK(tran.vector("out") == v);
  CHECK(tran.vector("v1#branch") == i);
}

TEST_CASE("raw_file reads op and tran plots from one ngspice run", "[ngspice]") {
  TempDir dir;
  write_file(dir.path() / "two.cir",
             "two plots\nv1 in 0 dc 1\nr1 in out 1k\nr2 out 0 3k\n.op\n.tran 1e-7 1e-6\n.end\n");
  REQUIRE(run_ngspice(dir.path(), "-b two.cir -r two.raw") == 0);
  const auto plots = read_raw_file(dir.path() / "two.raw");
  REQUIRE(plots.size() == 2);
  CHECK(plots[0].plot_name == "Operating Point");
  CHECK(plots[1].plot_name == "Transient Analysis");
  CHECK(plots[0].vector("v(out)")[0] == Approx(0.75).epsilon(1e-9));
  CHECK(plots[0].vector("i(v1)")[0] == Approx(-0.25e-3).epsilon(1e-9));
  // Without .save every node is written, still as v(...) and i(...).
  CHECK(plots[1].names == std::vector<std::string>{"time", "v(in)", "v(out)", "i(v1)"});
}

TEST_CASE("binary and ASCII rawfiles of the same run agree", "[ngspice]") {
  TempDir dir;
  SECTION("`write` in both formats after one run") {
    write_file(dir.path() / "w.cir", rc_netlist(".control\nrun\nset filetype=binary\nwrite b.raw\n"
                                                "set filetype=ascii\nwrite a.raw\nquit 0\n.endc\n"));
    // Without `quit 0`, `ngspice -b` exits with status 1 here ("no simulations
    // run": it counts only .print/.plot output) although both files are written.
    REQUIRE(run_ngspice(dir.path(), "-b w.cir") == 0);
    const auto binary = read_raw_file(dir.path() / "b.raw");
    const auto ascii = read_raw_file(dir.path() / "a.raw");
    REQUIRE(binary.size() == 1);
    REQUIRE(ascii.size() == 1);
    check_same_values(binary[0], ascii[0]);
  }
  SECTION("`-b -r` binary and `-b -r` with set filetype=ascii") {
    write_file(dir.path() / "b.cir", rc_netlist(""));
    write_file(dir.path() / "a.cir", rc_netlist(".control\nset filetype=ascii\n.endc\n"));
    REQUIRE(run_ngspice(dir.path(), "-b b.cir -r b.raw") == 0);
    REQUIRE(run_ngspice(dir.path(), "-b a.cir -r a.raw") == 0);
    const auto binary = read_raw_file(dir.path() / "b.raw");
    const auto ascii = read_raw_file(dir.path() / "a.raw");
    REQUIRE(binary.size() == 1);
    REQUIRE(ascii.size() == 1);
    check_same_values(binary[0], ascii[0]);
  }
}
