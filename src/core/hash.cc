// SPDX-License-Identifier: MIT
#include "gaincell/core/hash.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "gaincell/core/error.h"

namespace gaincell {
namespace {

// The constants of FIPS 180-4 (4.2.2, 5.3.3) are the first 32 bits of the
// fractional parts of the cube roots of the first 64 primes, and of the
// square roots of the first 8. They are computed here exactly, in integers:
// the low 32 bits of floor(p^(1/k) 2^32) = floor((p 2^(32 k))^(1/k)).
__extension__ using Uint128 = unsigned __int128;

// floor(x^(1/k)) for k = 2 or 3 and x < 2^105 (the root is below 2^36).
constexpr Uint128 integer_root(Uint128 x, int k) {
  Uint128 root = 0;
  for (int bit = 35; bit >= 0; --bit) {
    const Uint128 trial = root | (Uint128{1} << bit);
    Uint128 power = 1;
    for (int i = 0; i < k; ++i) power *= trial;
    if (power <= x) root = trial;
  }
  return root;
}

constexpr bool is_prime(int n) {
  for (int d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return n >= 2;
}

// The fractional bits of the k-th roots of the first N primes.
template <std::size_t N>
constexpr std::array<std::uint32_t, N> prime_root_bits(int k) {
  std::array<std::uint32_t, N> bits{};
  std::size_t found = 0;
  for (int p = 2; found < N; ++p) {
    if (is_prime(p)) bits[found++] = static_cast<std::uint32_t>(integer_root(Uint128(p) << (32 * k), k));
  }
  return bits;
}

constexpr std::array<std::uint32_t, 64> kRoundConstants = prime_root_bits<64>(3);
constexpr std::array<std::uint32_t, 8> kInitialState = prime_root_bits<8>(2);
static_assert(kRoundConstants[0] == 0x428a2f98 && kRoundConstants[63] == 0xc67178f2, "FIPS 180-4 4.2.2");
static_assert(kInitialState[0] == 0x6a09e667 && kInitialState[7] == 0x5be0cd19, "FIPS 180-4 5.3.3");

std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void compress(std::array<std::uint32_t, 8>& state, const unsigned char* block) {
  std::array<std::uint32_t, 64> w{};
  for (int i = 0; i < 16; ++i) {
    w[i] = (std::uint32_t{block[4 * i]} << 24) | (std::uint32_t{block[4 * i + 1]} << 16) |
           (std::uint32_t{block[4 * i + 2]} << 8) | std::uint32_t{block[4 * i + 3]};
  }
  for (int i = 16; i < 64; ++i) {
    const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  // The working variables a..h as v[0..7]: each round shifts them one place
  // (h = g, ..., b = a) and adds t1 to e and t1 + t2 to a.
  std::array<std::uint32_t, 8> v = state;
  for (int i = 0; i < 64; ++i) {
    const std::uint32_t e = v[4], a = v[0];
    const std::uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    const std::uint32_t choose = (e & v[5]) ^ (~e & v[6]);
    const std::uint32_t t1 = v[7] + s1 + choose + kRoundConstants[i] + w[i];
    const std::uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    const std::uint32_t majority = (a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]);
    std::copy_backward(v.begin(), v.end() - 1, v.end());
    v[4] += t1;
    v[0] = t1 + s0 + majority;
  }
  for (std::size_t k = 0; k < 8; ++k) state[k] += v[k];
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  std::array<std::uint32_t, 8> state = kInitialState;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t full = data.size() / 64;
  for (std::size_t i = 0; i < full; ++i) compress(state, bytes + 64 * i);

  // Padding: a single 1 bit, zeros, then the 64-bit big-endian bit length.
  std::array<unsigned char, 128> tail{};
  const std::size_t rest = data.size() - 64 * full;
  std::memcpy(tail.data(), bytes + 64 * full, rest);
  tail[rest] = 0x80;
  const std::size_t tail_len = rest + 9 <= 64 ? 64 : 128;
  const std::uint64_t bit_len = static_cast<std::uint64_t>(data.size()) * 8;
  for (int i = 0; i < 8; ++i) {
    tail[tail_len - 1 - i] = static_cast<unsigned char>(bit_len >> (8 * i));
  }
  compress(state, tail.data());
  if (tail_len == 128) compress(state, tail.data() + 64);

  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (std::uint32_t word : state) {
    for (int shift = 28; shift >= 0; shift -= 4) out += kHex[(word >> shift) & 0xf];
  }
  return out;
}

namespace {

const char* kind_of(const struct stat& st) {
  if (S_ISDIR(st.st_mode)) return "a directory";
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "a device";
  if (S_ISFIFO(st.st_mode)) return "a FIFO";
  if (S_ISSOCK(st.st_mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

void check_regular_or_absent(const std::filesystem::path& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return;  // absent: fine
  if (!S_ISREG(st.st_mode)) {
    throw InputError("GC-1812", path.string() + " exists and is " + kind_of(st) +
                                    ": gaincell writes its outputs as new regular files (then renames them into "
                                    "place); give another output path");
  }
}

void check_output_file(const std::filesystem::path& path) {
  // Another run's working files are never an output: writing over
  // OUT.partial or OUT.journal would silently destroy that run.
  const std::string name = path.filename().string();
  for (const char* suffix : {".partial", ".journal", ".lock"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      throw InputError("GC-1812", path.string() + " ends in " + s +
                                      ", the name of a run's working file (its results in progress, journal or lock); "
                                      "give another output path");
    }
  }
  check_regular_or_absent(path);
  check_regular_or_absent(path.string() + ".partial");
}

void write_text_file(const std::filesystem::path& path, const std::string& text) {
  check_output_file(path);
  const std::filesystem::path partial = path.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      const std::string why = std::strerror(errno);
      std::error_code ignored;
      std::filesystem::remove(partial, ignored);
      throw IoError("cannot write " + partial.string() + ": " + why);
    }
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec) throw IoError("cannot rename " + partial.string() + " to " + path.string() + ": " + ec.message());
}

std::string read_text_file(const std::filesystem::path& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    throw InputError("GC-1813", path.string() + " is " + kind_of(st) + ", not a file gaincell can read");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path.string() + ": " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string sha256_file(const std::filesystem::path& path) {
  return sha256_hex(read_text_file(path));
}

}  // namespace gaincell
