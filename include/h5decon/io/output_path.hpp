#pragma once
// The one check of an output path, shared by every command that writes a file
// (run in both modes, merge, export, synth, psf, preview).

#include <string>
#include <utility>
#include <vector>

namespace h5decon::io {

/// A file an output must never replace, with its role: {"in.h5", "the input file"}.
using ProtectedFiles = std::vector<std::pair<std::string, std::string>>;

/// Local. Throws InputError, naming `what` ("output", "merge output", ...), the path
/// and the problem, when `path`
///  - is one of `protected_files` (the same path after resolving links, or the same inode);
///  - exists and is not a regular file (a directory, a character or block device, a
///    FIFO, a socket; a link is followed): never replaced, even with `overwrite`;
///  - exists and `overwrite` is false;
///  - lies in a folder that does not exist.
void check_output_path(const std::string& path, bool overwrite,
                       const ProtectedFiles& protected_files, const std::string& what = "output");

/// Local: the same file (same canonical path, or the same inode when both exist).
bool same_file(const std::string& a, const std::string& b);

}  // namespace h5decon::io
