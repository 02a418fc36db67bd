// SPDX-License-Identifier: MIT
// The allow-list of extra ngspice init lines (a spec's or card's
// "ngspice_init", docs/pdk.md): what a PDK's spinit needs gets through, in a
// normal form; nothing that runs, loads, reads or writes anything does, and
// neither does what gaincell sets itself.
#include <catch2/catch.hpp>

#include "gaincell/core/error.h"
#include "gaincell/spice/worker.h"
#include "gaincell/spice/worker_pool.h"

using namespace gaincell;
using spice::check_init_line;

namespace {

// "GC-NNNN: message" of a refused line, or "ok: normalized line".
std::string verdict(const std::string& line) {
  const spice::InitLineCheck c = check_init_line(line);
  if (c.ok()) return "ok: " + c.line;
  CHECK(c.hint == spice::allowed_init_forms());
  return c.id + ": " + c.message;
}

}  // namespace

TEST_CASE("the lines foundry PDKs put in spinit are accepted, normalized", "[unit][init]") {
  // sky130's and gf180mcu's spinit files, IHP's .spiceinit (but for num_threads and osdi).
  CHECK(verdict("set ngbehavior=hsa") == "ok: set ngbehavior=hsa");
  CHECK(verdict("  SET  ngbehavior = HSA ") == "ok: set ngbehavior=hsa");
  CHECK(verdict("set ng_nomodcheck") == "ok: set ng_nomodcheck");
  CHECK(verdict("set skywaterpdk") == "ok: set skywaterpdk");
  CHECK(verdict("set enable_noisy_r") == "ok: set enable_noisy_r");
  CHECK(verdict("set noinit") == "ok: set noinit");
  CHECK(verdict("set wnflag=1") == "ok: set wnflag=1");
  CHECK(verdict("option noinit") == "ok: option noinit");
  CHECK(verdict("option klu") == "ok: option klu");
  CHECK(verdict("option abstol=1e-15 reltol=1m method=gear") == "ok: option abstol=1e-15 reltol=1m method=gear");
  CHECK(verdict("option scale=1.0u") == "ok: option scale=1.0u");
  CHECK(verdict("optran 0 0 0 100p 2n 0") == "ok: optran 0 0 0 100p 2n 0");
  for (const char* mode : {"hs", "hsa", "ps", "psa", "lt", "lta", "ltps", "ltpsa", "spe", "ki", "kia", "eg", "s3", "xs"}) {
    INFO(mode);
    CHECK(verdict(std::string("set ngbehavior=") + mode) == std::string("ok: set ngbehavior=") + mode);
  }
}

TEST_CASE("init lines that run, load, read or write anything are refused", "[unit][init][security]") {
  CHECK(verdict("shell rm -rf /") == "GC-1216: \"shell rm -rf /\": 'shell' runs a program");
  CHECK(verdict("source /tmp/x.sp") == "GC-1216: \"source /tmp/x.sp\": 'source' reads and runs a script");
  CHECK(verdict("set ngbehavior=../x") == "GC-1216: \"set ngbehavior=../x\": '/': init lines are plain words and numbers; "
                                          "ngspice's command shell gives other characters a meaning (';' separates "
                                          "commands, '`' runs one, '<' and '>' redirect to files, '$' substitutes variables)");
  CHECK(verdict("source x.sp") == "GC-1216: \"source x.sp\": 'source' reads and runs a script");
  CHECK(verdict("osdi psp103.osdi") == "GC-1216: \"osdi psp103.osdi\": 'osdi' loads compiled code (a shared library) into the worker");
  CHECK(verdict("codemodel x.cm") == "GC-1216: \"codemodel x.cm\": 'codemodel' loads compiled code (a shared library) into the worker");
  CHECK(verdict("write out.raw") == "GC-1216: \"write out.raw\": 'write' writes a file");
  CHECK(verdict(".control") == "GC-1216: \".control\": a .control block holds ngspice commands");
  CHECK(verdict("*# shell ls") == "GC-1216: \"*# shell ls\": ngspice runs a line starting '*#' as a command");
  CHECK(verdict("set rawfile=out.raw") == "GC-1216: \"set rawfile=out.raw\": set rawfile names a file ngspice writes");
  CHECK(verdict("set ngdebug") == "GC-1216: \"set ngdebug\": set ngdebug makes ngspice write debug-out*.txt files");
  CHECK(verdict("set sourcepath=x") ==
        "GC-1216: \"set sourcepath=x\": set sourcepath changes where ngspice looks for the files it reads");
  // Every command docs/pdk.md lists as refused, whatever follows it.
  for (const char* word : {"shell", "source", "osdi", "pre_osdi", "codemodel", "load", "write", "wrdata", "wrs2p",
                           "wrnodev", "hardcopy", "cd", "run", "tran", "op", "bg_run", "quit", "exit"}) {
    INFO(word);
    CHECK(check_init_line(std::string(word) + " x").id == "GC-1216");
    CHECK(check_init_line(word).id == "GC-1216");
  }
  CHECK(check_init_line("*ng_script").id == "GC-1216");
  CHECK(check_init_line("set debug").id == "GC-1216");
  // The command shell's own syntax: a second command, a substitution, a redirection, a second line.
  CHECK(verdict("set ng_nomodcheck; shell ls").rfind("GC-1216: \"set ng_nomodcheck; shell ls\": ';': init lines are plain", 0) == 0);
  CHECK(verdict("set ngbehavior=`ls`").rfind("GC-1216: \"set ngbehavior=`ls`\": '`': ", 0) == 0);
  CHECK(verdict("option gmin=1e-12 > x").rfind("GC-1216: \"option gmin=1e-12 > x\": '>': ", 0) == 0);
  CHECK(verdict("set ngbehavior=$x").rfind("GC-1216: \"set ngbehavior=$x\": '$': ", 0) == 0);
  CHECK(verdict("set ng_nomodcheck\nshell ls").rfind("GC-1216: \"set ng_nomodcheck\nshell ls\": a line break: ", 0) == 0);
}

TEST_CASE("gaincell's own settings stay gaincell's", "[unit][init]") {
  CHECK(verdict("set num_threads=8") ==
        "GC-1217: \"set num_threads=8\": num_threads is gaincell's: every worker runs one OpenMP thread (set "
        "num_threads=1), since parallel workers with ngspice's default of 2 threads ran BSIM4 5-10x slower");
  CHECK(verdict("set rndseed=12") ==
        "GC-1217: \"set rndseed=12\": the seed is gaincell's: each point seeds ngspice's random generator with its "
        "index + 1, so agauss() and the like draw the same values in any worker, shard or resumed run");
  CHECK(verdict("option seed=3").rfind("GC-1217: \"option seed=3\": the seed is gaincell's", 0) == 0);
  CHECK(verdict("set noaskquit") == "GC-1217: \"set noaskquit\": noaskquit is set by gaincell already");
}

TEST_CASE("unknown lines and bad values are refused with the allowed forms", "[unit][init]") {
  CHECK(verdict("set ngbehavior=hsx") ==
        "GC-1218: \"set ngbehavior=hsx\": ngbehavior=hsx: 'x' is not an ngspice compatibility mode");
  CHECK(verdict("set ngbehavior=kiad") ==
        "GC-1218: \"set ngbehavior=kiad\": ngbehavior=kiad: 'd' is not an ngspice compatibility mode");
  CHECK(verdict("set ngbehavior=hsps") ==
        "GC-1218: \"set ngbehavior=hsps\": ngbehavior=hsps: hs and ps exclude each other (ngspice would drop hs and keep ps)");
  CHECK(verdict("set ngbehavior=spelt") ==
        "GC-1218: \"set ngbehavior=spelt\": ngbehavior=spelt: spe excludes ps, lt, ki and eg (ngspice would drop them)");
  CHECK(verdict("set ngbehavior=mc") ==
        "GC-1218: \"set ngbehavior=mc\": ngbehavior 'mc' is ngspice's own test-suite mode (it turns every other mode off)");
  CHECK(verdict("set ngbehavior=hsahs") == "GC-1218: \"set ngbehavior=hsahs\": ngbehavior=hsahs names 'hs' twice");
  CHECK(verdict("set ngbehavior") == "GC-1218: \"set ngbehavior\": ngbehavior needs a value (e.g. set ngbehavior=hsa)");
  CHECK(verdict("set wnflag=2") == "GC-1218: \"set wnflag=2\": wnflag takes 0 or 1");
  CHECK(verdict("set ng_nomodcheck=1") ==
        "GC-1218: \"set ng_nomodcheck=1\": ng_nomodcheck is a flag: write 'set ng_nomodcheck' without a value");
  CHECK(verdict("option gmin=small") ==
        "GC-1218: \"option gmin=small\": option gmin takes a number (gmin=VALUE, SPICE suffixes allowed)");
  CHECK(verdict("option method=euler") == "GC-1218: \"option method=euler\": option method takes gear or trap");
  CHECK(verdict("optran 0 0 0 100p 2n") == "GC-1218: \"optran 0 0 0 100p 2n\": optran takes 6 numbers (e.g. optran 0 0 0 100p 2n 0)");
  CHECK(verdict("set filetype=ascii") ==
        "GC-1215: \"set filetype=ascii\": variable 'filetype' is not on gaincell's list of init settings");
  CHECK(verdict("option interp") == "GC-1215: \"option interp\": option 'interp' is not on gaincell's list of init options");
  CHECK(verdict("unset ngbehavior") == "GC-1215: \"unset ngbehavior\": 'unset' is not on gaincell's list of init commands");
  CHECK(verdict(".options gmin=1e-12") ==
        "GC-1215: \".options gmin=1e-12\": '.options' is a netlist card; init lines are ngspice commands (write "
        "'option', not '.options')");
  CHECK(verdict("* from the PDK") ==
        "GC-1215: \"* from the PDK\": a comment line (put notes in the spec's or card's description)");
  CHECK(verdict("   ") == "GC-1215: \"   \": an empty line");
  CHECK(verdict("set ng_nomodcheck skywaterpdk") ==
        "GC-1215: \"set ng_nomodcheck skywaterpdk\": one variable per 'set' line");
}

TEST_CASE("the worker's .spiceinit is gaincell's lines, then the checked extra ones", "[unit][init]") {
  const std::string plain = spice::worker_spiceinit();
  CHECK(plain ==
        "* gaincell worker init (generated; shadows ~/.spiceinit)\n"
        "set num_threads=1\nset noaskquit\nset nomoremode\n");
  CHECK(spice::worker_spiceinit({"set ngbehavior=hsa", "set ng_nomodcheck"}) ==
        plain + "* ngspice_init of the spec or cell card (checked: docs/pdk.md)\nset ngbehavior=hsa\nset ng_nomodcheck\n");
  // The pool checks the lines too, whoever its caller is.
  spice::PoolOptions options;
  options.jobs = 1;
  options.ngspice_init = {"set ngbehavior=hsa", "shell touch /tmp/owned"};
  try {
    spice::WorkerPool pool(options);
    FAIL("a pool with a shell line started");
  } catch (const InputError& e) {
    CHECK(e.id() == "GC-1216");
    CHECK(std::string(e.what()) == "error GC-1216: ngspice_init[1]: \"shell touch /tmp/owned\": 'shell' runs a program\n  hint: " +
                                       spice::allowed_init_forms());
  }
}
