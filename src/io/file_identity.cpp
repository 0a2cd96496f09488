// File identity: device, inode, size, modification time and a sampled hash.
#include "h5decon/io/file_identity.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "h5decon/error.hpp"

namespace h5decon::io {
namespace {

constexpr std::int64_t kEnd = 64 * 1024, kPiece = 16 * 1024, kPieces = 62;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string hex(std::uint64_t h) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

// Reads [offset, offset + size) (clipped to the file) into the hash.
void hash_range(int fd, std::int64_t offset, std::int64_t size, std::int64_t file_size,
                std::uint64_t& h, const std::string& file) {
  size = std::min(size, file_size - offset);
  std::vector<unsigned char> buf(static_cast<std::size_t>(std::max<std::int64_t>(size, 0)));
  std::int64_t got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, buf.data() + got, static_cast<std::size_t>(size - got),
                              static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    H5DECON_REQUIRE(n > 0, IoError, "'", file, "': cannot read bytes at ", offset + got, ": ",
                    n < 0 ? std::strerror(errno) : "the file is shorter than it was");
    got += n;
  }
  for (unsigned char b : buf) h = (h ^ b) * 1099511628211ull;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> FileIdentity::entries(
    const std::string& prefix) const {
  return {{prefix + "-file-id", device_inode},
          {prefix + "-bytes", std::to_string(bytes)},
          {prefix + "-mtime-ns", std::to_string(mtime_ns)},
          {prefix + "-sample-hash", sample_hash}};
}

std::string FileIdentity::differences(const FileIdentity& other) const {
  std::string out;
  auto add = [&out](bool differs, const std::string& what) {
    if (differs) out += (out.empty() ? "" : ", ") + what;
  };
  add(device_inode != other.device_inode, "file (device:inode " + other.device_inode + " -> " +
                                              device_inode + ")");
  add(bytes != other.bytes, "size (" + std::to_string(other.bytes) + " -> " +
                                std::to_string(bytes) + " bytes)");
  add(mtime_ns != other.mtime_ns, "modification time");
  add(sample_hash != other.sample_hash, "contents (sampled bytes)");
  return out;
}

FileIdentity file_identity(const std::string& file) {
  Fd f;
  f.fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  H5DECON_REQUIRE(f.fd >= 0, IoError, "'", file, "': cannot open it to check its identity: ",
                  std::strerror(errno));
  struct stat st {};
  H5DECON_REQUIRE(::fstat(f.fd, &st) == 0, IoError, "'", file, "': fstat failed: ",
                  std::strerror(errno));
  FileIdentity id;
  id.file = file;
  id.device_inode = std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
                    std::to_string(static_cast<unsigned long long>(st.st_ino));
  id.bytes = static_cast<std::int64_t>(st.st_size);
  id.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  std::uint64_t h = 1469598103934665603ull;
  hash_range(f.fd, 0, kEnd, id.bytes, h, file);
  const std::int64_t middle = id.bytes - 2 * kEnd;
  if (middle > 0 && middle <= kPiece * kPieces)
    hash_range(f.fd, kEnd, middle, id.bytes - kEnd, h, file);
  else if (middle > 0)
    for (std::int64_t i = 0; i < kPieces; ++i)
      hash_range(f.fd, kEnd + (middle - kPiece) * i / (kPieces - 1), kPiece, id.bytes - kEnd, h,
                 file);
  if (id.bytes > kEnd) hash_range(f.fd, std::max(kEnd, id.bytes - kEnd), kEnd, id.bytes, h, file);
  id.sample_hash = hex(h);
  return id;
}

}  // namespace h5decon::io
