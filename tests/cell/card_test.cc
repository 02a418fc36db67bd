// SPDX-License-Identifier: MIT
// The cell card: what it reads, where it finds files, and the exact message of
// each way it can be wrong (docs/cells.md, docs/errors.md GC-20xx).
#include "gaincell/cell/card.h"

#include <catch2/catch.hpp>

#include "gaincell/cell/derive.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/spice/worker.h"
#include "gaincell/sweep/spec.h"
#include "test_support.h"

using namespace gaincell;

namespace {

const char* kSub = R"(* a 3T cell in someone else's style
.SUBCKT MYCELL BL WW
+ RW RB VSS PARAMS: CS=3f
M1 RB RW X VSS nch W=100n L=45n
M2 X SN VSS VSS nch W=100n L=90n
.ENDS
)";

// A valid card with `patch` spliced in before its last brace.
std::string card(const std::string& body = "") {
  return std::string(R"({
  "format": "gaincell-cell/1",
  "name": "mine",
  "subckt": {"file": "c.sp", "name": "MYCELL",
             "ports": {"wbl": "BL", "wwl": "WW", "wlr": "RW", "rd": "RB"},
             "fixed_ports": {"VSS": 0}, "params": {"CS": "4f"}, "storage_node": "SN"},
  "read": {"scheme": "precharged", "line_v": 0.9, "c_line_f": "5p"},
  "sign": {"scheme": "differential", "offset_v": 0.45},
  "converter": {"file": "netlists/cells/c2p_integrator.sub", "name": "gc_c2p_integrator",
                "ports": {"line": "line", "ramp": "ramp", "out": "out", "vref": "vref", "rst": "rst", "vdd": "vdd"}})") +
         body + "\n}\n";
}

struct Fixture {
  testing::TempDir dir;
  Fixture() { testing::write_file(dir / "c.sp", kSub); }
  cell::CellCard load(const std::string& text) {
    testing::write_file(dir / "c.cell.json", text);
    return cell::load_card(dir / "c.cell.json");
  }
  std::string at() const { return (dir / "c.cell.json").string(); }
};

}  // namespace

TEST_CASE("a card binds any port names to roles, and finds files beside it or in the tree", "[unit][cell]") {
  Fixture f;
  const cell::CellCard c = f.load(card());
  CHECK(c.name == "mine");
  CHECK(c.cell.name == "mycell");
  CHECK(c.cell.ports == std::vector<std::string>{"bl", "ww", "rw", "rb", "vss"});  // continuation line read
  CHECK(c.cell.role_of("rw") == "wlr");
  CHECK(c.cell.role_of("vss").empty());
  CHECK(c.cell.fixed_v.at("vss") == 0.0);
  CHECK(c.cell.params == std::vector<std::pair<std::string, std::string>>{{"cs", "4e-15"}});
  CHECK(c.storage_node == "sn");
  // The storage node must be a node of the subcircuit.
  std::string t = card();
  t.replace(t.find("\"storage_node\": \"SN\""), 20, "\"storage_node\": \"SNX\"");
  try {
    f.load(t);
    FAIL("a storage node that is not in the subcircuit was accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) == f.at() + ":6:81: error GC-2008: /subckt/storage_node: 'snx' is not an internal node of "
                                           "subcircuit mycell (" + (f.dir / "c.sp").string() + ":2); its internal nodes are: sn x\n"
                                           "  hint: did you mean 'sn'?");
  }
  CHECK(c.scheme == cell::ReadScheme::kPrecharged);
  CHECK(c.c_line_f == Approx(5e-12));
  CHECK(c.sign == cell::SignScheme::kDifferential);
  CHECK(c.cell.file == (f.dir / "c.sp").lexically_normal());
  CHECK(c.converter.file == (testing::source_dir() / "netlists/cells/c2p_integrator.sub").lexically_normal());
  // Defaults follow the docs: the precharged line's read-current sweep covers 0 .. line_v.
  CHECK(c.line_sweep_lo_v == 0.0);
  CHECK(c.line_sweep_hi_v == 0.9);
  CHECK(c.t_max_s == Approx(15e-9));
  CHECK(c.store_levels == 8);
  const auto files = cell::card_files(c);
  CHECK(std::find(files.begin(), files.end(), c.cell.file) != files.end());
  CHECK(std::find(files.begin(), files.end(), (testing::source_dir() / "netlists/models/generic45.lib").lexically_normal()) !=
        files.end());  // what the converter includes
}

TEST_CASE("every shipped cell has a card that loads", "[unit][cell]") {
  for (const char* name : {"pushpull", "gc3t", "osfet2t"}) {
    INFO(name);
    const cell::CellCard c = cell::load_card(testing::source_dir() / "netlists/cells" / (std::string(name) + ".cell.json"));
    CHECK(c.name == name);
  }
  CHECK(cell::load_card(cell::default_card_path()).name == "pushpull");
  CHECK(cell::is_card_file(cell::default_card_path()));
  CHECK(!cell::is_card_file(testing::source_dir() / "characterization/pushpull_multiply.json"));
}

TEST_CASE("card errors name the file, the place and what was expected", "[unit][cell]") {
  Fixture f;
  auto message = [&](const std::string& text) {
    try {
      f.load(text);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message("{\"format\": ") ==
        f.at() + ":1:12: error GC-2001: invalid JSON: syntax error while parsing value - unexpected end of input; "
                 "expected '[', '{', or a literal");
  CHECK(message(card(",\n  \"colour\": 1")) ==
        f.at() + ":11:3: error GC-2004: /colour: unknown key 'colour'; expected one of: format, name, description, subckt, "
                 "models, vdd_v, write, read, store, sign, retention, simulation, converter");
  std::string t = card();
  t.replace(t.find("\"fixed_ports\": {\"VSS\": 0}, "), std::string("\"fixed_ports\": {\"VSS\": 0}, ").size(), "");
  CHECK(message(t) == f.at() + ":5:23: error GC-2008: /subckt/ports: port 'vss' of subcircuit mycell (" +
                          (f.dir / "c.sp").string() +
                          ":2) is neither bound to a role nor fixed\n  hint: bind it in ports (roles: wbl, wwl, wlr, wlrb, rd, "
                          "vdd) or hold it at a DC level in fixed_ports, e.g. \"fixed_ports\": {\"vss\": 0}");
  t = card();
  t.replace(t.find("\"rd\": \"RB\""), 10, "\"rd\": \"RBL\"");
  CHECK(message(t) == f.at() + ":5:69: error GC-2008: /subckt/ports/rd: role rd: subcircuit mycell (" +
                          (f.dir / "c.sp").string() + ":2) has no port 'rbl'; its ports are: bl ww rw rb vss");
  t = card();
  t.replace(t.find("\"name\": \"MYCELL\""), 16, "\"name\": \"YOURS\"");
  CHECK(message(t) == f.at() + ":4:38: error GC-2008: /subckt/name: cell subcircuit 'yours' is not defined in " +
                          (f.dir / "c.sp").string() + "; it defines: mycell");
  t = card();
  t.replace(t.find("\"c.sp\""), 6, "\"nowhere.sp\"");
  CHECK(message(t).find("error GC-2007: /subckt/file: file 'nowhere.sp' not found beside the card") != std::string::npos);
  t = card();
  t.replace(t.find(", \"c_line_f\": \"5p\""), 18, "");
  CHECK(message(t) == f.at() + ":7:11: error GC-2002: /read: a precharged line needs its capacitance: missing required key "
                               "'c_line_f'");
  t = card();
  t.replace(t.find("\"offset_v\": 0.45"), 16, "\"offset_v\": 0.3");
  CHECK(message(t) == f.at() + ":8:50: error GC-2005: /sign/offset_v: a differential pair stores w and 2 offset_v - w: "
                               "offset_v must be the middle of the stored range (0.45 V)");
  t = card();
  t.replace(t.find("\"scheme\": \"precharged\""), 22, "\"scheme\": \"floating\"");
  CHECK(message(t).find("error GC-2005: /read/scheme: expected \"held\"") != std::string::npos);
  t = card();
  t.replace(t.find("gaincell-cell/1"), 15, "gaincell-cell/9");
  CHECK(message(t) == f.at() + ":2:13: error GC-2006: /format: unsupported format \"gaincell-cell/9\"; this gaincell reads "
                               "\"gaincell-cell/1\"");
  t = card();
  t.replace(t.find("\"CS\": \"4f\""), 10, "\"CX\": \"4f\"");
  CHECK(message(t).find("error GC-2008: /subckt/params/CX: subcircuit mycell") != std::string::npos);
  CHECK(message(card(",\n  \"models\": {\"lib\": {\"file\": \"netlists/models/generic45_corners.lib\", \"section\": \"xx\"}}"))
            .find("error GC-2009: /models/lib/section: section 'xx' is not in") != std::string::npos);
  CHECK(message(card(",\n  \"read\": {\"scheme\": \"held\", \"line_v\": 0.45, \"t_start_s\": \"3n\"}"))
            .find("error GC-2005: /read/t_start_s: the read starts at 3 ns, too soon after the write (ends 5.02 ns)") != std::string::npos);
  CHECK(message(card(",\n  \"retention\": {\"options\": {\"gmin\": 1e-12}}")) ==
        f.at() + ":11:28: error GC-2005: /retention/options: retention needs gmin <= 1e-18 (else the gmin conductance fakes the "
                 "leak); set it in /retention/options");
}

TEST_CASE("a card's models.ngspice_init is checked and reaches every derived spec", "[unit][cell][init]") {
  Fixture f;
  const cell::CellCard c = f.load(card(",\n  \"models\": {\"ngspice_init\": [\"set ngbehavior=HSA\", \"set ng_nomodcheck\"]}"));
  CHECK(c.ngspice_init == std::vector<std::string>{"set ngbehavior=hsa", "set ng_nomodcheck"});
  const cell::DerivedSet set = cell::write_derived(c, f.dir / "derived");
  for (const auto& [role, path] : set.specs) {
    INFO(cell::role_name(role));
    CHECK(sweep::load_spec(path).ngspice_init == c.ngspice_init);
  }
  // The testbench says what `ngspice -b` needs besides it.
  const std::string tb = read_text_file(set.cell_template);
  CHECK(tb.find("* Its models need these lines in .spiceinit (the card's models.ngspice_init; gaincell's workers get "
                "them):\n*   set ngbehavior=hsa\n*   set ng_nomodcheck\n") != std::string::npos);
  // Without the key, nothing changes: no key in the specs, no note in the testbench.
  const cell::CellCard plain = f.load(card());
  CHECK(cell::derive_spec(plain, cell::Role::kMultiply, "t.cir").count("ngspice_init") == 0);
  CHECK(cell::render_cell_template(plain).find(".spiceinit") == std::string::npos);

  auto message = [&](const std::string& text) {
    try {
      f.load(text);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message(card(",\n  \"models\": {\"ngspice_init\": [\"set ngbehavior=hsa\", \"set num_threads=8\"]}")) ==
        f.at() + ":11:53: error GC-1217: /models/ngspice_init/1: \"set num_threads=8\": num_threads is gaincell's: every "
                 "worker runs one OpenMP thread (set num_threads=1), since parallel workers with ngspice's default of 2 "
                 "threads ran BSIM4 5-10x slower\n  hint: " + spice::allowed_init_forms());
  CHECK(message(card(",\n  \"models\": {\"ngspice_init\": [\"osdi /pdk/psp103.osdi\"]}"))
            .find(":11:31: error GC-1216: /models/ngspice_init/0: \"osdi /pdk/psp103.osdi\": 'osdi' loads compiled code") !=
        std::string::npos);
  CHECK(message(card(",\n  \"models\": {\"ngspice_init\": [\"set ngbehavior=hsa\", \"set ngbehavior=hsa\"]}")) ==
        f.at() + ":11:53: error GC-2005: /models/ngspice_init/1: \"set ngbehavior=hsa\" is given twice");
}
