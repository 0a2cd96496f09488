#pragma once
// Helpers for the I/O tests: a per-test directory shared by all ranks, work
// done on rank 0 only, raw HDF5 files, and checks that every rank sees the
// same error.

#include <gtest/gtest.h>
#include <hdf5.h>
#include <mpi.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "h5decon/error.hpp"

namespace h5decon::io::test {

inline int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

inline int world_size() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

/// Rank 0's string on every rank.
inline std::string broadcast(std::string s) {
  int n = static_cast<int>(s.size());
  MPI_Bcast(&n, 1, MPI_INT, 0, MPI_COMM_WORLD);
  s.resize(static_cast<std::size_t>(n));
  MPI_Bcast(s.data(), n, MPI_CHAR, 0, MPI_COMM_WORLD);
  return s;
}

/// Runs `f` on rank 0 only, then waits for it on every rank. A failure on rank 0
/// is reported as a test failure rather than left to hang the other ranks.
template <class F>
void on_root(F&& f) {
  if (world_rank() == 0) {
    try {
      f();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "rank 0 setup failed: " << e.what();
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

/// A fresh directory named after the running test, the same path on every rank;
/// removed when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string path;
    if (world_rank() == 0) {
      const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
      std::string templ = (std::filesystem::temp_directory_path() /
                           (std::string("h5decon_io_") + info->name() + "_XXXXXX"))
                              .string();
      if (mkdtemp(templ.data()) != nullptr) path = templ;
    }
    path_ = broadcast(path);
    if (path_.empty()) throw std::runtime_error("cannot create a temporary directory");
  }
  ~TempDir() {
    MPI_Barrier(MPI_COMM_WORLD);
    if (world_rank() == 0) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  /// A path inside the directory.
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Writes `data` as a dataset of element type `file_type` with the raw C API
/// (serial), creating the file unless it exists: makes the odd files that
/// write_array refuses to make.
inline void write_raw(const std::string& file, const std::string& path, hid_t file_type,
                      hid_t mem_type, const std::vector<hsize_t>& dims, const void* data) {
  const hid_t f = std::filesystem::exists(file)
                      ? H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)
                      : H5Fcreate(file.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t d = H5Dcreate2(f, path.c_str(), file_type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  if (data != nullptr) {
    ASSERT_GE(H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0);
  }
  H5Dclose(d);
  H5Sclose(space);
  H5Pclose(lcpl);
  H5Fclose(f);
}

/// Adds a 1D float64 attribute to an existing dataset (serial).
inline void add_double_attribute(const std::string& file, const std::string& path,
                                 const std::string& name, const std::vector<double>& values) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hid_t d = H5Dopen2(f, path.c_str(), H5P_DEFAULT);
  const hsize_t n = values.size();
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  const hid_t a = H5Acreate2(d, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  EXPECT_GE(H5Awrite(a, H5T_NATIVE_DOUBLE, values.data()), 0);
  H5Aclose(a);
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(f);
}

/// Reads a string attribute of a dataset (serial); "" when it is missing.
inline std::string read_string_attribute(const std::string& file, const std::string& path,
                                         const std::string& name) {
  std::string value;
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = H5Dopen2(f, path.c_str(), H5P_DEFAULT);
  const hid_t a = H5Aopen(d, name.c_str(), H5P_DEFAULT);
  if (a >= 0) {
    const hid_t type = H5Aget_type(a);
    if (H5Tis_variable_str(type) > 0) {
      char* text = nullptr;
      if (H5Aread(a, type, &text) >= 0 && text != nullptr) value = text;
      H5free_memory(text);
    } else {
      std::vector<char> buf(H5Tget_size(type) + 1, '\0');
      if (H5Aread(a, type, buf.data()) >= 0) value = buf.data();
    }
    H5Tclose(type);
    H5Aclose(a);
  }
  H5Dclose(d);
  H5Fclose(f);
  return value;
}

/// Runs `f` on every rank and expects an InputError containing `needle`, with
/// exactly the same message on every rank.
template <class F>
void expect_input_error_everywhere(F&& f, const std::string& needle) {
  std::string message = "<no exception>";
  try {
    f();
  } catch (const InputError& e) {
    message = e.what();
  } catch (const std::exception& e) {
    message = std::string("<not an InputError> ") + e.what();
  }
  EXPECT_NE(message.find(needle), std::string::npos)
      << "rank " << world_rank() << " got: " << message << "\nexpected: " << needle;
  EXPECT_EQ(message, broadcast(message)) << "rank " << world_rank() << " disagrees with rank 0";
}

}  // namespace h5decon::io::test
