#pragma once
// The completion journal of `h5decon run --resume`: a file beside the partial
// output, "<output>.partial.journal", written by rank 0 only.
//
// Format: a text header, then fixed-size binary records.
//   h5decon block journal 1\n
//   key=value\n ...            the run's signature (see Signature)
//   end-of-header\n
//   records of 16 bytes: int64 block id, uint64 (id XOR kRecordCheck), little-endian
// A record is appended (and the file fdatasync'ed) only after the rank that wrote
// the block reported that its write call returned: a recorded block's data is in
// the output file, at least in the operating system's cache of it. That survives
// the kill of any process; surviving a node crash needs the data on disk too
// (`run --sync-blocks`). A torn last record (a crash during the append) is
// dropped on reading, and the block computed again.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace h5decon::app {

/// Every setting that changes the output's bits, as (key, value) pairs in a fixed
/// order. Keys starting with "note." are informational: a difference is worth a
/// warning (e.g. the thread count may change FFT plans' last bits), not a refusal.
using Signature = std::vector<std::pair<std::string, std::string>>;

/// "<output>.partial.journal".
std::string journal_path(const std::string& output_file);

/// What differs between the signature recorded and the one of this run, one
/// "KEY: RECORDED (now CURRENT)" per key; notes only when `notes`.
std::vector<std::string> signature_differences(const Signature& recorded, const Signature& now,
                                               bool notes);

/// An open journal (rank 0). Move-only; the destructor closes the file.
class Journal {
 public:
  /// Creates or truncates `path` with the header; the header is on disk on return.
  static Journal create(const std::string& path, const Signature& signature);
  /// Opens an existing journal to append to it: reads the signature and the
  /// blocks recorded done, drops a torn last record. Throws InputError naming the
  /// file when it is missing or not a journal.
  static Journal open(const std::string& path);

  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&& other) noexcept;
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal();

  const Signature& signature() const { return signature_; }
  /// Blocks recorded done, in the order recorded (without repeats).
  const std::vector<std::int64_t>& done() const { return done_; }
  /// Appends the record of block `id` and waits until it is on disk. Throws IoError.
  void append(std::int64_t id);
  const std::string& path() const { return path_; }

 private:
  Journal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
  Signature signature_;
  std::vector<std::int64_t> done_;
};

}  // namespace h5decon::app
