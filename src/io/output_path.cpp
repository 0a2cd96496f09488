// The output path check (output_path.hpp).
#include "h5decon/io/output_path.hpp"

#include <filesystem>

#include "h5decon/error.hpp"

namespace h5decon::io {
namespace {

namespace fs = std::filesystem;

const char* kind_of(fs::file_type type) {
  switch (type) {
    case fs::file_type::directory:
      return "a directory";
    case fs::file_type::character:
      return "a character device";
    case fs::file_type::block:
      return "a block device";
    case fs::file_type::fifo:
      return "a FIFO (named pipe)";
    case fs::file_type::socket:
      return "a socket";
    default:
      return "not a regular file";
  }
}

}  // namespace

bool same_file(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  std::error_code ea, eb, ec;
  const fs::path ca = fs::weakly_canonical(a, ea), cb = fs::weakly_canonical(b, eb);
  if (!ea && !eb && ca == cb) return true;
  return fs::equivalent(a, b, ec);  // false (ec set) when either does not exist
}

void check_output_path(const std::string& path, bool overwrite,
                       const ProtectedFiles& protected_files, const std::string& what) {
  const std::string named = what + " '" + path + "'";
  H5DECON_REQUIRE(!path.empty(), InputError, what, ": an empty file name");
  for (const auto& [file, role] : protected_files)
    H5DECON_REQUIRE(!same_file(path, file), InputError, named, " is ", role,
                    " ('", file, "'); h5decon never writes into its inputs");
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() != fs::file_type::not_found && !ec) {
    H5DECON_REQUIRE(st.type() == fs::file_type::regular, InputError, named, " is ",
                    kind_of(st.type()), "; an output must be a regular file or a new path");
    H5DECON_REQUIRE(overwrite, InputError, named, " exists; pass --overwrite to replace it");
  }
  const fs::path parent = fs::path(path).parent_path();
  H5DECON_REQUIRE(parent.empty() || fs::is_directory(parent, ec), InputError, named,
                  ": folder '", parent.string(), "' does not exist");
}

}  // namespace h5decon::io
