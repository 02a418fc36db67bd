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
  std::istringstream in(text);
  std::vector<std::pair<int, std::string>> cards;
  std::string raw;
  int line_no = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    const auto first = raw.find_first_not_of(" \t");
    if (first != std::string::npos && raw[first] == '+' && !cards.empty()) {
      cards.back().second += " " + raw.substr(first + 1);
      continue;
    }
    cards.emplace_back(line_no, raw);
  }
  return cards;
}

bool is_branch_element(const std::string& name) {
  return !name.empty() && (name[0] == 'v' || name[0] == 'e' || name[0] == 'h' || name[0] == 'l');
}

}  // namespace

std::vector<SubcktHeader> parse_subckts(const std::string& netlist) {
  const auto cards = join_cards(netlist);
  std::vector<SubcktHeader> out;
  std::set<std::string> nodes;  // of the subcircuit being read
  int depth = 0;
  for (const auto& [line, text] : cards) {
    std::istringstream words(text);
    std::string first;
    words >> first;
    first = lower(first);
    if (first == ".ends") {
      if (depth == 1 && !out.empty()) {
        for (const auto& n : nodes) {
          if (std::find(out.back().ports.begin(), out.back().ports.end(), n) == out.back().ports.end() && n != "0") {
            out.back().internal_nodes.push_back(n);
          }
        }
        nodes.clear();
      }
      if (depth > 0) --depth;
      continue;
    }
    if (first != ".subckt") {
      if (depth == 1 && !first.empty() && first[0] != '*' && first[0] != '.') {
        for (const auto& n : element_nodes(text)) nodes.insert(n);
        if (is_branch_element(first)) out.back().branch_elements.push_back(first);
      }
      continue;
    }
    ++depth;
    if (depth > 1) continue;  // a nested definition is local to its parent
    SubcktHeader h;
    h.line = line;
    words >> h.name;
    h.name = lower(h.name);
    std::string word;
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
    out.push_back(std::move(h));
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
    std::istringstream words(card);
    std::string first;
    words >> first;
    first = lower(first);
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
