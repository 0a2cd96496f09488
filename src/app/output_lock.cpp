// The output's lock file (output_lock.hpp).
#include "output_lock.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include "h5decon/error.hpp"

namespace h5decon::app {
namespace {

// Open-file-description locks (Linux) belong to this descriptor only, so no other
// open/close of the file in this process can drop them; POSIX locks elsewhere.
#ifdef F_OFD_SETLK
constexpr int kSetLock = F_OFD_SETLK;
#else
constexpr int kSetLock = F_SETLK;
#endif

bool try_lock(int fd) {
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  return ::fcntl(fd, kSetLock, &lock) == 0;
}

std::string holder_of(int fd) {
  char text[512] = "";
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  std::string holder(text, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) holder.pop_back();
  return holder.empty() ? "a process that has not yet written its name" : holder;
}

std::string this_process() {
  char host[256] = "unknown host";
  ::gethostname(host, sizeof host - 1);
  const std::time_t now = std::time(nullptr);
  char when[64] = "";
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", std::localtime(&now));
  return detail::concat("host ", host, ", process ", ::getpid(), ", started ", when);
}

}  // namespace

std::string lock_path(const std::string& output_file) { return output_file + ".lock"; }

OutputLock::OutputLock(const std::string& output_file) : path_(lock_path(output_file)) {
  // Retried when the file was replaced between open and lock (a holder that ended
  // removes it; our lock would then be on a file nobody else can find).
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    H5DECON_REQUIRE(fd >= 0, InputError, "output '", output_file, "': cannot create the lock file '",
                    path_, "': ", std::strerror(errno));
    if (!try_lock(fd)) {
      const int error = errno;
      const std::string holder = holder_of(fd);
      ::close(fd);
      H5DECON_REQUIRE(error != EACCES && error != EAGAIN, InputError, "output '", output_file,
                      "' is being written by another h5decon run (", holder, "; lock file '",
                      path_, "'); wait for it to end or stop it: two runs never write one output");
      throw InputError(detail::concat("output '", output_file, "': cannot lock '", path_, "': ",
                                      std::strerror(error)));
    }
    struct stat held {}, named {};
    if (::fstat(fd, &held) == 0 && ::stat(path_.c_str(), &named) == 0 &&
        held.st_ino == named.st_ino && held.st_dev == named.st_dev) {
      const std::string me = this_process() + "\n";
      if (::ftruncate(fd, 0) == 0) {
        [[maybe_unused]] const auto n = ::pwrite(fd, me.data(), me.size(), 0);
      }
      fd_ = fd;
      return;
    }
    ::close(fd);
  }
  throw InputError("output '" + output_file + "': the lock file '" + path_ +
                   "' keeps being replaced; is another program removing it?");
}

OutputLock::~OutputLock() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());
  ::close(fd_);
}

}  // namespace h5decon::app
