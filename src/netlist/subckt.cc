// SPDX-License-Identifier: MIT
#include "gaincell/netlist/subckt.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "gaincell/core/hash.h"
#include "gaincell/core/strings.h"

namespace gaincell::netlist {

namespace {

// The node tokens of an element line: how many depends on the element's letter
// (M d g s b; R C L D V I B F H W 2; E G S T 4; J 3; Q 3 or 4; X all but the
// subcircuit name). Parameters (name=value) and braces are not nodes.
std::vector<std::string> element_nodes(const std::string& card) {
  std::istringstream words(card);
  std::vector<std::string> tokens;
  for (std::string w; words >> w;) {
    if (w.find('=') != std::string::npos || w.front() == '{') break;
    const std::string l = lower(w);
    if (l == "params:") break;
    tokens.push_back(l);
  }
  if (tokens.size() < 2) return {};
  const char kind = tokens[0][0];
  std::size_t count = 0;
  switch (kind) {
    case 'm': case 'e': case 'g': case 's': case 't': count = 4; break;
    case 'r': case 'c': case 'l': case 'd': case 'v': case 'i': case 'b': case 'f': case 'h': case 'w': count = 2; break;
    case 'j': case 'q': count = 3; break;
    case 'x': count = tokens.size() - 2; break;  // the last token is the subcircuit
    default: return {};
  }
  std::vector<std::string> nodes;
  for (std::size_t k = 1; k <= count && k < tokens.size(); ++k) nodes.push_back(tokens[k]);
  return nodes;
}

}  // namespace

std::vector<SubcktHeader> read_subckts(const std::filesystem::path& file) { return parse_subckts(read_text_file(file)); }

namespace {

// The cards of a netlist: continuation lines joined, with their first line number.
std::vector<std::pair<int, std::string>> join_cards(const std::string& text) {
  std::vector<std::pair<int, std::string>> cards;
  const std::vector<std::string> lines = text_lines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& raw = lines[i];
    const auto first = raw.find_first_not_of(" \t");
    if (first != std::string::npos && raw[first] == '+' && !cards.empty()) {
      cards.back().second += " " + raw.substr(first + 1);
      continue;
    }
    cards.emplace_back(static_cast<int>(i) + 1, raw);
  }
  return cards;
}

bool is_branch_element(const std::string& name) {
  return !name.empty() && (name[0] == 'v' || name[0] == 'e' || name[0] == 'h' || name[0] == 'l');
}

}  // namespace

namespace {

// A `.subckt NAME PORTS... [params:] [name=value...]` card.
SubcktHeader read_header(int line, const std::string& card) {
  SubcktHeader h;
  h.line = line;
  std::istringstream words(card);
  std::string word;
  words >> word >> h.name;
  h.name = lower(h.name);
  bool in_params = false;
  while (words >> word) {
    const std::string w = lower(word);
    if (w == "params:") {
      in_params = true;
      continue;
    }
    const auto eq = w.find('=');
    if (in_params || eq != std::string::npos) {
      in_params = true;
      if (eq != std::string::npos && eq > 0) h.params.push_back(w.substr(0, eq));
      continue;
    }
    h.ports.push_back(w);
  }
  return h;
}

// At its .ends: the nodes its elements connect that are not ports.
void add_internal_nodes(SubcktHeader& h, const std::set<std::string>& nodes) {
  for (const auto& n : nodes) {
    if (std::find(h.ports.begin(), h.ports.end(), n) == h.ports.end() && n != "0") h.internal_nodes.push_back(n);
  }
}

}  // namespace

std::vector<SubcktHeader> parse_subckts(const std::string& netlist) {
  std::vector<SubcktHeader> out;
  std::set<std::string> nodes;  // of the subcircuit being read
  int depth = 0;
  for (const auto& [line, text] : join_cards(netlist)) {
    const std::string first = first_word(text);
    if (first == ".ends") {
      if (depth == 1) {
        add_internal_nodes(out.back(), nodes);
        nodes.clear();
      }
      if (depth > 0) --depth;
    } else if (first == ".subckt") {
      // A nested definition is local to its parent.
      if (++depth == 1) out.push_back(read_header(line, text));
    } else if (depth == 1 && !first.empty() && first[0] != '*' && first[0] != '.') {
      for (const auto& n : element_nodes(text)) nodes.insert(n);
      if (is_branch_element(first)) out.back().branch_elements.push_back(first);
    }
  }
  return out;
}

std::vector<std::string> circuit_vector_names(const std::string& text, const std::vector<std::filesystem::path>& files) {
  std::vector<SubcktHeader> defs = parse_subckts(text);
  for (const auto& f : files) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(f, ec)) continue;
    for (auto& d : read_subckts(f)) defs.push_back(std::move(d));
  }
  std::set<std::string> names;
  int depth = 0;
  for (const auto& [line, card] : join_cards(text)) {
    const std::string first = first_word(card);
    if (first == ".subckt") ++depth;
    if (first == ".ends" && depth > 0) --depth;
    if (depth > 0 || first.empty() || first[0] == '*' || first[0] == '.') continue;
    for (const auto& n : element_nodes(card)) {
      if (n != "0") names.insert("v(" + n + ")");
    }
    if (is_branch_element(first)) names.insert("i(" + first + ")");
    if (first[0] == 'x') {
      std::istringstream all(card);
      std::vector<std::string> tokens;
      for (std::string w; all >> w;) {
        if (w.find('=') != std::string::npos || lower(w) == "params:") break;
        tokens.push_back(lower(w));
      }
      if (tokens.size() < 2) continue;
      const auto def = std::find_if(defs.begin(), defs.end(), [&](const SubcktHeader& h) { return h.name == tokens.back(); });
      if (def == defs.end()) continue;
      for (const auto& n : def->internal_nodes) names.insert("v(" + first + "." + n + ")");
      for (const auto& e : def->branch_elements) names.insert("i(" + first + "." + e + ")");
    }
  }
  return {names.begin(), names.end()};
}

}  // namespace gaincell::netlist
