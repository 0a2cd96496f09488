#pragma once
// One run per output: an exclusive lock on "<output>.lock", held by rank 0 for
// the whole run (from before the output's state is looked at until after the
// final rename). A second run on the same output, with any options, --overwrite
// included, is refused naming the running one (host, process id, start time).
// The kernel drops the lock when the holder dies (a killed run leaves no stale
// lock; the file may stay and is reused). POSIX record locks work on NFS with
// its lock manager, as HPC file systems provide.

#include <string>

namespace h5decon::app {

/// "<output>.lock".
std::string lock_path(const std::string& output_file);

class OutputLock {
 public:
  /// Local (rank 0). Takes the lock or throws InputError naming the holder.
  explicit OutputLock(const std::string& output_file);
  ~OutputLock();  ///< removes the lock file, then releases the lock
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace h5decon::app
