#pragma once
// What identifies a file's contents without reading it all: the file (device and
// inode), its size, its modification time, and a hash of a fixed sample of its
// bytes. A resumed run compares it with the interrupted run's, and every run
// compares it at its end with its start, so that an input replaced or rewritten
// in between is refused instead of giving a result that is neither input's.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace h5decon::io {

struct FileIdentity {
  std::string file;                ///< as given
  std::string device_inode;        ///< "DEV:INODE"
  std::int64_t bytes = 0;          ///< size
  std::int64_t mtime_ns = 0;       ///< modification time, ns since the epoch
  std::string sample_hash;         ///< FNV-1a of the sampled bytes, 16 hex digits

  /// (key, value) pairs with keys "<prefix>-file-id", "-bytes", "-mtime-ns",
  /// "-sample-hash", for a run's signature.
  std::vector<std::pair<std::string, std::string>> entries(const std::string& prefix) const;
  /// What differs from `other`, in words ("modification time", "size", ...); empty: the same.
  std::string differences(const FileIdentity& other) const;
};

/// Bytes hashed by file_identity(): the first and last 64 KiB and 62 pieces of
/// 16 KiB spaced evenly between (about 1 MiB, whatever the file's size).
inline constexpr std::int64_t kIdentitySampleBytes = 64 * 1024 * 2 + 62 * 16 * 1024;

/// Local. Throws IoError naming the file when it cannot be read.
FileIdentity file_identity(const std::string& file);

}  // namespace h5decon::io
