// SPDX-License-Identifier: MIT
#include "gaincell/sweep/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "gaincell/core/error.h"

namespace gaincell::sweep {
namespace {

constexpr char kMagic[4] = {'G', 'C', 'J', '1'};
constexpr std::uint32_t kRecordMagic = 0x4A52434AU;

std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1U) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}

template <typename T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

// A checksummed chunk: u32 length, the bytes, u32 CRC-32 of the bytes.
void put_checked(std::string& out, const std::string& bytes) {
  put(out, static_cast<std::uint32_t>(bytes.size()));
  out += bytes;
  put(out, crc32(bytes.data(), bytes.size()));
}

template <typename T>
bool get(const std::string& in, std::size_t& pos, T& v) {
  if (pos + sizeof(T) > in.size()) return false;
  std::memcpy(&v, in.data() + pos, sizeof(T));
  pos += sizeof(T);
  return true;
}

void write_all(int fd, const std::string& data, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError("cannot write the journal " + path.string() + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::uint32_t crc32(const void* data, std::size_t size, std::uint32_t crc) {
  static const auto table = make_table();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xFFU] ^ (crc >> 8);
  return ~crc;
}

JournalContents read_journal(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError("cannot read the journal " + path.string());
  const std::string in((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto damaged = [&](std::size_t at, const std::string& what) {
    throw InputError("GC-1804", path.string() + ": the journal is damaged at byte " +
                                    std::to_string(at) + " (" + what + "); it is not used. Remove it (and the .partial " +
                                    "file) to start the sweep over, or restore it");
  };
  JournalContents c;
  std::size_t pos = 0;
  if (in.size() < 8 || std::memcmp(in.data(), kMagic, 4) != 0) damaged(0, "not a gaincell journal");
  pos = 4;
  std::uint32_t hlen = 0, hcrc = 0;
  get(in, pos, hlen);
  if (pos + hlen + 4 > in.size()) damaged(pos, "the header is cut short");
  const std::string header = in.substr(pos, hlen);
  pos += hlen;
  get(in, pos, hcrc);
  if (crc32(header.data(), header.size()) != hcrc) damaged(8, "header checksum");
  c.header = nlohmann::json::parse(header);
  c.valid_bytes = pos;
  while (pos < in.size()) {
    const std::size_t start = pos;
    std::uint32_t magic = 0, len = 0, crc = 0;
    const bool head_ok = get(in, pos, magic) && get(in, pos, len);
    if (!head_ok || magic != kRecordMagic || pos + len + 4 > in.size()) {
      // A record cut short can only be the last one: the kill interrupted its write.
      if (head_ok && magic != kRecordMagic) damaged(start, "no record marker");
      c.torn_tail = true;
      break;
    }
    const std::string payload = in.substr(pos, len);
    pos += len;
    get(in, pos, crc);
    if (crc32(payload.data(), payload.size()) != crc) {
      if (pos < in.size()) damaged(start, "record checksum");
      c.torn_tail = true;
      break;
    }
    JournalRecord r;
    std::size_t p = 0;
    std::uint64_t point = 0;
    std::uint8_t outcome = 0;
    std::uint32_t n = 0, mlen = 0;
    bool ok = get(payload, p, point) && get(payload, p, outcome) && get(payload, p, n);
    r.values.resize(ok ? n : 0);
    for (std::uint32_t i = 0; ok && i < n; ++i) ok = get(payload, p, r.values[i]);
    ok = ok && get(payload, p, r.parse_time_s) && get(payload, p, r.run_time_s) && get(payload, p, mlen) &&
         p + mlen == payload.size();
    if (!ok) damaged(start, "record layout");
    r.message = payload.substr(p, mlen);
    r.point = static_cast<std::size_t>(point);
    r.outcome = static_cast<spice::SimOutcome>(outcome);
    c.records.push_back(std::move(r));
    c.valid_bytes = pos;
  }
  return c;
}

JournalWriter JournalWriter::create(const std::filesystem::path& path, const nlohmann::json& header) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) throw IoError("cannot create the journal " + path.string() + ": " + std::strerror(errno));
  const std::string h = header.dump();
  std::string out(kMagic, 4);
  put_checked(out, h);
  write_all(fd.get(), out, path);
  JournalWriter w(path, std::move(fd));
  w.sync();
  return w;
}

JournalWriter JournalWriter::append(const std::filesystem::path& path, std::uintmax_t valid_bytes) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) throw IoError("cannot open the journal " + path.string() + ": " + std::strerror(errno));
  if (::ftruncate(fd.get(), static_cast<off_t>(valid_bytes)) != 0 || ::lseek(fd.get(), 0, SEEK_END) < 0) {
    throw IoError("cannot truncate the journal " + path.string() + ": " + std::strerror(errno));
  }
  return JournalWriter(path, std::move(fd));
}

void JournalWriter::write(const JournalRecord& r) {
  std::string payload;
  put(payload, static_cast<std::uint64_t>(r.point));
  put(payload, static_cast<std::uint8_t>(r.outcome));
  put(payload, static_cast<std::uint32_t>(r.values.size()));
  for (double v : r.values) put(payload, v);
  put(payload, r.parse_time_s);
  put(payload, r.run_time_s);
  put(payload, static_cast<std::uint32_t>(r.message.size()));
  payload += r.message;
  std::string out;
  out.reserve(payload.size() + 12);
  put(out, kRecordMagic);
  put_checked(out, payload);
  write_all(fd_.get(), out, path_);
}

void JournalWriter::sync() {
  if (fd_) ::fdatasync(fd_.get());
}

void JournalWriter::close_and_remove() {
  fd_.reset();
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace gaincell::sweep
