// tensorboard_logger("runs/name"): a fit() callback that writes each epoch's scalars (loss, metric,
// validation loss and metric, learning rate, samples per second) as a TensorBoard event file, which
// `tensorboard --logdir runs` plots.
//
// The file is written directly, without TensorFlow or protobuf: an event file is a sequence of records
// (length, masked CRC-32C of the length, the bytes, masked CRC-32C of the bytes), each holding one
// serialized `Event` message; the few protobuf fields needed are encoded by hand below.
//
// Not included by tenfold.hpp (it needs <filesystem>); programs include <tenfold/tensorboard.hpp>.
#pragma once
#include "../core/internal.hpp"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include <unistd.h>

#include "../core/error.hpp"
#include "history.hpp"

namespace tenfold {

namespace detail {

// CRC-32C (Castagnoli), bitwise: the files are small, so a table is not worth its 1 KiB.
inline std::uint32_t crc32c(const unsigned char* p, std::size_t n) {
  std::uint32_t crc = 0xffffffffu;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// TFRecord's masking, so that a CRC of data holding CRCs stays well distributed.
inline std::uint32_t masked_crc32c(const unsigned char* p, std::size_t n) {
  const std::uint32_t crc = crc32c(p, n);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

// The protobuf wire format, for the fields an Event needs.
struct proto_writer {
  std::string bytes;
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      bytes += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    bytes += static_cast<char>(v);
  }
  void key(unsigned field, unsigned wire_type) { varint((field << 3) | wire_type); }
  template <class T>
  void fixed(const T& v) {  // little-endian, as on every machine tenfold targets
    char raw[sizeof(T)];
    std::memcpy(raw, &v, sizeof(T));
    bytes.append(raw, sizeof(T));
  }
  void double_field(unsigned field, double v) {
    key(field, 1);
    fixed(v);
  }
  void float_field(unsigned field, float v) {
    key(field, 5);
    fixed(v);
  }
  void int_field(unsigned field, std::int64_t v) {
    key(field, 0);
    varint(static_cast<std::uint64_t>(v));
  }
  void bytes_field(unsigned field, const std::string& v) {
    key(field, 2);
    varint(v.size());
    bytes += v;
  }
};

class event_file {
 public:
  explicit event_file(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      raise(error::make(errc::io_error, "tensorboard_logger: cannot create the folder '%s': %s", dir.c_str(),
                        ec.message().c_str()));
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    // TensorBoard finds event files by this name; the pid keeps two runs started in the same second apart.
    path_ = dir + "/events.out.tfevents." + std::to_string(static_cast<long long>(now())) + "." + host + "." +
            std::to_string(getpid());
    file_ = std::fopen(path_.c_str(), "wb");
    if (!file_)
      raise(error::make(errc::io_error, "tensorboard_logger: cannot open '%s' for writing: %s", path_.c_str(),
                        std::strerror(errno)));
    proto_writer first;
    first.double_field(1, now());
    first.bytes_field(3, "brain.Event:2");
    write_record(first.bytes);
  }
  ~event_file() {
    if (file_) std::fclose(file_);
  }
  event_file(const event_file&) = delete;
  event_file& operator=(const event_file&) = delete;

  const std::string& path() const { return path_; }

  // One Event holding a Summary of scalar values: (tag, value) pairs; NaN values are left out.
  template <std::size_t N>
  void scalars(std::int64_t step, const std::pair<const char*, double> (&values)[N]) {
    proto_writer summary;
    for (const auto& [tag, value] : values) {
      if (std::isnan(value)) continue;
      proto_writer v;
      v.bytes_field(1, tag);
      v.float_field(2, static_cast<float>(value));
      summary.bytes_field(1, v.bytes);
    }
    proto_writer event;
    event.double_field(1, now());
    event.int_field(2, step);
    event.bytes_field(5, summary.bytes);
    write_record(event.bytes);
    // Flushed each epoch, so that a running TensorBoard shows the curve as it grows.
    if (std::fflush(file_) != 0 || std::ferror(file_))
      raise(error::make(errc::io_error, "tensorboard_logger: writing '%s' failed: %s", path_.c_str(),
                        std::strerror(errno)));
  }

 private:
  static double now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  }
  void write_record(const std::string& data) {
    const std::uint64_t length = data.size();
    unsigned char header[8];
    std::memcpy(header, &length, 8);
    const std::uint32_t length_crc = masked_crc32c(header, 8);
    const std::uint32_t data_crc = masked_crc32c(reinterpret_cast<const unsigned char*>(data.data()), data.size());
    std::fwrite(header, 1, 8, file_);
    std::fwrite(&length_crc, 1, 4, file_);
    std::fwrite(data.data(), 1, data.size(), file_);
    std::fwrite(&data_crc, 1, 4, file_);
  }

  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace detail

// A callback for fit_options::callbacks that logs every epoch under `dir` (created if missing). The tags are
// loss, <metric_name>, validation_loss, validation_<metric_name>, learning_rate and samples_per_second; the
// step is the epoch number. Copies of the callback share one file.
inline auto tensorboard_logger(const std::string& dir, const std::string& metric_name = "metric") {
  auto file = std::make_shared<detail::event_file>(dir);
  auto validation_metric = std::make_shared<std::string>("validation_" + metric_name);
  auto metric = std::make_shared<std::string>(metric_name);
  return [file, metric, validation_metric](const epoch_record& r) {
    const std::pair<const char*, double> values[] = {
        {"loss", r.loss},
        {metric->c_str(), r.metric},
        {"validation_loss", r.validation_loss},
        {validation_metric->c_str(), r.validation_metric},
        {"learning_rate", r.learning_rate},
        {"samples_per_second", r.samples_per_second},
    };
    file->scalars(static_cast<std::int64_t>(r.epoch), values);
    return true;
  };
}

}  // namespace tenfold
