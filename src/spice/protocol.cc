// SPDX-License-Identifier: MIT
#include "gaincell/spice/protocol.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include "gaincell/core/error.h"

namespace gaincell::spice::protocol {
namespace {

bool write_all(int fd, const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    // MSG_NOSIGNAL: a dead peer must give EPIPE, not kill us with SIGPIPE.
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_all(int fd, std::uint8_t* data, std::size_t size, bool* eof_at_start) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, data + got, size - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(std::string("read from worker socket: ") + std::strerror(errno));
    }
    if (n == 0) {
      if (got == 0 && eof_at_start != nullptr) {
        *eof_at_start = true;
        return false;
      }
      throw IoError("worker socket closed in the middle of a frame");
    }
    got += static_cast<std::size_t>(n);
  }
  return true;
}

std::uint32_t decode_length(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}

}  // namespace
}  // namespace gaincell::spice::protocol

namespace gaincell::spice {
// A job travels as an object of its fields (and "type": "run").
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SimJob, id, netlist, t_stop_s, measures, return_vectors, timeout_s, keep_log)
}  // namespace gaincell::spice

namespace gaincell::spice::protocol {

std::string encode_frame(const nlohmann::json& message) {
  const std::vector<std::uint8_t> body = nlohmann::json::to_cbor(message);
  GC_CHECK(body.size() < kMaxFrameBytes) << "frame of " << body.size() << " bytes";
  std::string frame(4 + body.size(), '\0');
  const auto len = static_cast<std::uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) frame[static_cast<std::size_t>(i)] = static_cast<char>(static_cast<std::uint8_t>(len >> (8 * i)));
  std::memcpy(frame.data() + 4, body.data(), body.size());
  return frame;
}

bool write_frame(int fd, const nlohmann::json& message) {
  const std::string frame = encode_frame(message);
  return write_all(fd, reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size());
}

std::optional<nlohmann::json> read_frame(int fd) {
  std::uint8_t header[4];
  bool eof = false;
  if (!read_all(fd, header, 4, &eof)) return std::nullopt;
  const std::uint32_t len = decode_length(header);
  if (len > kMaxFrameBytes) throw IoError("corrupt frame length " + std::to_string(len));
  std::vector<std::uint8_t> body(len);
  read_all(fd, body.data(), len, nullptr);
  return nlohmann::json::from_cbor(body);
}

void FrameBuffer::append(const char* data, std::size_t size) {
  // Drop consumed bytes before growing, so the buffer stays small.
  if (offset_ > 0 && offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  }
  buffer_.insert(buffer_.end(), reinterpret_cast<const std::uint8_t*>(data),
                 reinterpret_cast<const std::uint8_t*>(data) + size);
}

std::optional<nlohmann::json> FrameBuffer::next() {
  const std::size_t available = buffer_.size() - offset_;
  if (available < 4) return std::nullopt;
  const std::uint32_t len = decode_length(buffer_.data() + offset_);
  if (len > kMaxFrameBytes) throw IoError("corrupt frame length " + std::to_string(len));
  if (available < 4 + std::size_t{len}) return std::nullopt;
  auto first = buffer_.begin() + static_cast<std::ptrdiff_t>(offset_ + 4);
  nlohmann::json message = nlohmann::json::from_cbor(first, first + len);
  offset_ += 4 + len;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  }
  return message;
}

nlohmann::json job_to_json(const SimJob& job) {
  nlohmann::json j = job;
  j["type"] = "run";
  return j;
}

SimJob job_from_json(const nlohmann::json& j) { return j.get<SimJob>(); }

nlohmann::json result_to_json(const SimResult& r) {
  // JSON cannot hold NaN; CBOR can, so measure values travel as CBOR doubles.
  return nlohmann::json{{"type", "result"},
                        {"id", r.id},
                        {"outcome", static_cast<int>(r.outcome)},
                        {"message", r.message},
                        {"values", r.values},
                        {"vectors", r.vectors},
                        {"missing_vectors", r.missing_vectors},
                        {"plot_vectors", r.plot_vectors},
                        {"log", r.log},
                        {"parse_time_s", r.parse_time_s},
                        {"run_time_s", r.run_time_s},
                        {"reused", r.reused},
                        {"altered", r.altered},
                        {"worker_pid", r.worker_pid}};
}

SimResult result_from_json(const nlohmann::json& j) {
  SimResult r;
  r.id = j.at("id").get<std::uint64_t>();
  r.outcome = static_cast<SimOutcome>(j.at("outcome").get<int>());
  r.message = j.at("message").get<std::string>();
  for (const auto& v : j.at("values")) {
    r.values.push_back(v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN());
  }
  r.vectors = j.at("vectors").get<std::map<std::string, std::vector<double>>>();
  r.missing_vectors = j.value("missing_vectors", std::vector<std::string>{});
  r.plot_vectors = j.value("plot_vectors", std::vector<std::string>{});
  r.log = j.at("log").get<std::vector<std::string>>();
  r.parse_time_s = j.at("parse_time_s").get<double>();
  r.run_time_s = j.at("run_time_s").get<double>();
  r.reused = j.value("reused", false);
  r.altered = j.value("altered", false);
  r.worker_pid = j.at("worker_pid").get<int>();
  return r;
}

}  // namespace gaincell::spice::protocol
