// SPDX-License-Identifier: MIT
// SIGTERM (scancel, kill) or SIGINT (Ctrl-C) stops a sweep without losing
// the points it finished.
#include <catch2/catch.hpp>
#include <csignal>

#include "gaincell/store/results_file.h"
#include "test_support.h"

using namespace gaincell;

TEST_CASE("a terminated sweep keeps its finished points in the .partial file", "[ngspice][sweep]") {
  testing::TempDir dir;
  // Three fast points (mode 0), then three that would take minutes (mode 3).
  testing::write_file(dir / "s.json",
                      "{\"format\": \"gaincell-spec/1\", \"name\": \"interrupt\", \"template\": \"" +
                          (testing::source_dir() / "tests/data/faulty_rc.cir").string() +
                          "\", \"axes\": [{\"param\": \"mode\", \"values\": [0, 3]}, {\"param\": \"v_in\", "
                          "\"values\": [0.5, 0.75, 1.0]}], \"analysis\": {\"tran\": {\"step\": \"0.1n\", \"stop\": "
                          "\"10n\"}}, \"measures\": [{\"name\": \"v_out_v\", \"kind\": \"value_at\", \"of\": "
                          "\"v(out)\", \"unit\": \"V\"}], \"timeout_s\": 300}");
  const std::string gaincell = (testing::bin_dir() / "gaincell").string();
  // This test's processes carry a tag of their own (other sweeps may run beside it).
  const std::string tag = dir.path().filename().string();
  // The fast points need milliseconds; the signal comes 3 s after the start.
  const auto run = testing::run_command("sh -c 'GAINCELL_TEST_TAG=" + tag + " " + gaincell +
                                            " sweep s.json -o o.h5 -j 1 & pid=$!; sleep 3; kill -TERM $pid; wait $pid; echo exit=$?'",
                                        dir.path());
  INFO(run.output);
  CHECK(run.output.find("exit=143") != std::string::npos);
  CHECK(run.output.find("interrupted after 3 of 6 points (3 ok)") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "o.h5"));
  const auto r = store::read_results(dir / "o.h5.partial");
  CHECK(r.attributes.at("complete") == "no");
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK(r.status[k] == spice::SimOutcome::kOk);
    CHECK(r.values.at("v_out_v")[k] > 0.4);
  }
  for (std::size_t k = 3; k < 6; ++k) CHECK(r.status[k] == spice::SimOutcome::kNotRun);  // not failed
  // No worker of this sweep outlives its driver.
  CHECK(testing::processes_tagged(tag).empty());
  // (The tag is seen where it exists: a tagged process of our own is found.)
  const auto probe = testing::run_command("GAINCELL_TEST_TAG=" + tag + "-probe sleep 30 >/dev/null 2>&1 & echo $!");
  const int pid = std::stoi(probe.output);
  CHECK(testing::processes_tagged(tag + "-probe") == std::vector<int>{pid});
  ::kill(pid, SIGKILL);
}
