// SPDX-License-Identifier: MIT
#include "test_support.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "gaincell/core/reporter.h"
#include "gaincell/sweep/sweep.h"

namespace gaincell::testing {

std::filesystem::path source_dir() { return GAINCELL_SOURCE_DIR; }
std::filesystem::path bin_dir() { return GAINCELL_BIN_DIR; }

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/gaincell-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

CommandResult run_command(const std::string& command, const std::filesystem::path& cwd) {
  std::string full = command + " 2>&1";
  if (!cwd.empty()) full = "cd '" + cwd.string() + "' && " + full;
  CommandResult result;
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::vector<int> processes_named(const std::string& prefix, int parent) {
  std::vector<int> pids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;  // the process may be gone already
    const auto open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 2 >= line.size()) continue;
    const std::string comm = line.substr(open + 1, close - open - 1);
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (comm.rfind(prefix.substr(0, 15), 0) == 0 && (parent <= 0 || ppid == parent)) pids.push_back(std::stoi(name));
  }
  return pids;
}

std::vector<int> processes_tagged(const std::string& tag) {
  std::vector<int> pids;
  const std::string want = "GAINCELL_TEST_TAG=" + tag;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream env(entry.path() / "environ", std::ios::binary);
    std::string var;
    while (std::getline(env, var, '\0')) {
      if (var == want) {
        pids.push_back(std::stoi(name));
        break;
      }
    }
  }
  return pids;
}

void require_same_data(const store::Results& a, const store::Results& b) {
  REQUIRE(a.status == b.status);
  REQUIRE(a.messages == b.messages);
  for (const auto& [name, va] : a.values) {
    const auto& vb = b.values.at(name);
    REQUIRE(va.size() == vb.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < va.size(); ++i) {
      const bool same = (std::isnan(va[i]) && std::isnan(vb[i])) || va[i] == vb[i];
      differ += same ? 0 : 1;
    }
    INFO(name);
    CHECK(differ == 0);
  }
}

int spawn(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

store::Results sweep_all_ok(const sweep::SweepSpec& spec, const std::filesystem::path& output) {
  sweep::SweepOptions options;
  options.output = output;
  options.jobs = 2;
  NullReporter quiet;
  const auto summary = sweep::run_sweep(spec, options, quiet);
  INFO(summary.full());
  REQUIRE(summary.failed() == 0);
  return store::read_results(output);
}

}  // namespace gaincell::testing
