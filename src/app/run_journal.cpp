// The completion journal of resumable runs (format in run_journal.hpp).
#include "run_journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "h5decon/error.hpp"

namespace h5decon::app {
namespace {

constexpr const char* kMagic = "h5decon block journal 1\n";
constexpr const char* kEndOfHeader = "end-of-header\n";
constexpr std::uint64_t kRecordCheck = 0x6835646563306e21ull;  // "h5dec0n!"

struct Record {
  std::int64_t id;
  std::uint64_t check;
};
static_assert(sizeof(Record) == 16);

std::string errno_text() { return std::strerror(errno); }

// Writes all of `data` (write() may write less than asked).
void write_all(int fd, const void* data, std::size_t size, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    H5DECON_REQUIRE(n > 0, IoError, "journal '", path, "': write failed: ", errno_text());
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

// The directory entry of a new file is durable only once its directory is synced.
void sync_directory(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // best effort: some file systems do not allow it
  ::fsync(fd);
  ::close(fd);
}

std::string one_line(std::string value) {
  for (char& c : value)
    if (c == '\n' || c == '\r') c = ' ';
  return value;
}

// Parses the header; returns the offset of the first record.
std::size_t parse_header(const std::string& text, const std::string& path, Signature& out) {
  const std::string magic = kMagic, end = std::string("\n") + kEndOfHeader;
  H5DECON_REQUIRE(text.compare(0, magic.size(), magic) == 0, InputError, "journal '", path,
                  "' is not an h5decon block journal");
  const std::size_t stop = text.find(end, magic.size() - 1);
  H5DECON_REQUIRE(stop != std::string::npos, InputError, "journal '", path,
                  "' has an incomplete header (the run was killed while creating it)");
  std::istringstream lines(text.substr(magic.size(), stop + 1 - magic.size()));
  std::string line;
  while (std::getline(lines, line)) {
    const auto eq = line.find('=');
    H5DECON_REQUIRE(eq != std::string::npos, InputError, "journal '", path,
                    "': malformed header line '", line, "'");
    out.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return stop + end.size();
}

}  // namespace

std::string journal_path(const std::string& output_file) {
  return output_file + ".partial.journal";
}

std::vector<std::string> signature_differences(const Signature& recorded, const Signature& now,
                                               bool notes) {
  std::vector<std::string> out;
  auto find = [](const Signature& s, const std::string& key) -> const std::string* {
    for (const auto& [k, v] : s)
      if (k == key) return &v;
    return nullptr;
  };
  for (const auto& [key, value] : now) {  // in this run's order; then keys only recorded
    if (key.starts_with("note.") != notes) continue;
    const std::string* old = find(recorded, key);
    if (!old || *old != value)
      out.push_back(key + ": " + (old ? *old : "(not recorded)") + " (now " + value + ")");
  }
  for (const auto& [key, value] : recorded)
    if (key.starts_with("note.") == notes && !find(now, key))
      out.push_back(key + ": " + value + " (now not set)");
  return out;
}

Journal Journal::create(const std::string& path, const Signature& signature) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  H5DECON_REQUIRE(fd >= 0, IoError, "cannot create the journal '", path, "': ", errno_text());
  Journal journal(path, fd);
  std::string header = kMagic;
  for (const auto& [key, value] : signature) header += one_line(key) + "=" + one_line(value) + "\n";
  header += kEndOfHeader;
  write_all(fd, header.data(), header.size(), path);
  H5DECON_REQUIRE(::fsync(fd) == 0, IoError, "journal '", path, "': fsync failed: ", errno_text());
  sync_directory(path);
  journal.signature_ = signature;
  return journal;
}

Journal Journal::open(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  H5DECON_REQUIRE(in.good(), InputError, "cannot read the journal '", path, "'");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Signature signature;
  const std::size_t first = parse_header(text, path, signature);
  std::vector<std::int64_t> done;
  std::set<std::int64_t> seen;
  std::size_t end = first;
  for (; end + sizeof(Record) <= text.size(); end += sizeof(Record)) {
    Record r;
    std::memcpy(&r, text.data() + end, sizeof r);
    if ((static_cast<std::uint64_t>(r.id) ^ kRecordCheck) != r.check || r.id < 0) break;
    if (seen.insert(r.id).second) done.push_back(r.id);
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  H5DECON_REQUIRE(fd >= 0, IoError, "cannot open the journal '", path, "' to append: ",
                  errno_text());
  Journal journal(path, fd);
  // Drop a torn or damaged tail, so new records follow the last good one.
  H5DECON_REQUIRE(::ftruncate(fd, static_cast<off_t>(end)) == 0 &&
                      ::lseek(fd, 0, SEEK_END) == static_cast<off_t>(end),
                  IoError, "journal '", path, "': cannot truncate it to its last good record: ",
                  errno_text());
  journal.signature_ = std::move(signature);
  journal.done_ = std::move(done);
  return journal;
}

Journal::Journal(Journal&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      signature_(std::move(other.signature_)),
      done_(std::move(other.done_)) {}

Journal& Journal::operator=(Journal&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    signature_ = std::move(other.signature_);
    done_ = std::move(other.done_);
  }
  return *this;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::append(std::int64_t id) {
  const Record r{id, static_cast<std::uint64_t>(id) ^ kRecordCheck};
  write_all(fd_, &r, sizeof r, path_);
  H5DECON_REQUIRE(::fdatasync(fd_) == 0, IoError, "journal '", path_,
                  "': fdatasync failed: ", errno_text());
  done_.push_back(id);
}

}  // namespace h5decon::app
