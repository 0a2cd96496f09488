// write_array: conversion to the stored type and reuse of an existing file.
#include <gtest/gtest.h>

#include <cmath>

#include "h5decon/io/hdf5_io.hpp"
#include "io/io_test_util.hpp"

namespace h5decon::io {
namespace {

using test::on_root;
using test::TempDir;

// Reads a whole dataset back in its stored integer type (serial).
template <class T>
std::vector<T> read_raw(const std::string& file, const std::string& path, hid_t mem_type,
                        std::size_t n) {
  std::vector<T> v(n);
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = H5Dopen2(f, path.c_str(), H5P_DEFAULT);
  EXPECT_GE(H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0);
  H5Dclose(d);
  H5Fclose(f);
  return v;
}

TEST(WriteArray, RoundsToNearestAndClampsWhenStoringIntegers) {
  TempDir dir;
  const std::string file = dir / "conv.h5";
  const std::vector<float> in = {-3.0f, 1.4f, 1.6f, 2.5f, 254.7f, 300.0f, 70000.0f, NAN};
  on_root([&] {
    write_array(file, "/u16", in, {8}, DType::uint16, true);
    write_array(file, "/u8", in, {8}, DType::uint8, false);
    const auto u16 = read_raw<unsigned short>(file, "/u16", H5T_NATIVE_USHORT, 8);
    EXPECT_EQ(u16, (std::vector<unsigned short>{0, 1, 2, 3, 255, 300, 65535, 0}));
    const auto u8 = read_raw<unsigned char>(file, "/u8", H5T_NATIVE_UCHAR, 8);
    EXPECT_EQ(u8, (std::vector<unsigned char>{0, 1, 2, 3, 255, 255, 255, 0}));
  });
}

TEST(WriteArray, AddsToAnExistingFileAndReplacesAnExistingDataset) {
  TempDir dir;
  const std::string file = dir / "multi.h5";
  on_root([&] {
    write_array(file, "/a/b/first", std::vector<float>{1.0f, 2.0f}, {2}, DType::float32, true);
    write_array(file, "/second", std::vector<float>{3.0f}, {1}, DType::float32, false);
    write_array(file, "/second", std::vector<float>{4.0f, 5.0f}, {1, 2}, DType::float32, false);
    EXPECT_EQ(read_raw<float>(file, "/a/b/first", H5T_NATIVE_FLOAT, 2),
              (std::vector<float>{1.0f, 2.0f}));
    EXPECT_EQ(read_raw<float>(file, "/second", H5T_NATIVE_FLOAT, 2),
              (std::vector<float>{4.0f, 5.0f}));
  });
}

TEST(WriteArray, RejectsDimsThatDoNotMatchTheData) {
  TempDir dir;
  EXPECT_THROW(
      write_array(dir / "x.h5", "/d", std::vector<float>{1.0f, 2.0f}, {3}, DType::float32, true),
      Error);
}

}  // namespace
}  // namespace h5decon::io
