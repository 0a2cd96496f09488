// DatasetRef parsing, DType names, and the HDF5 handle/check-macro basics.
#include <gtest/gtest.h>

#include "h5decon/error.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "io/hdf5_handle.hpp"

namespace h5decon::io {
namespace {

TEST(DatasetRef, SplitsFileAndPathAtTheColon) {
  const DatasetRef ref = DatasetRef::parse("data/a.h5:/group/raw", "/data");
  EXPECT_EQ(ref.file, "data/a.h5");
  EXPECT_EQ(ref.path, "/group/raw");
}

TEST(DatasetRef, UsesTheDefaultPathWhenNoneIsGiven) {
  const DatasetRef ref = DatasetRef::parse("a.h5", "/psf");
  EXPECT_EQ(ref.file, "a.h5");
  EXPECT_EQ(ref.path, "/psf");
}

TEST(DatasetRef, SplitsAtTheLastColonThatStartsAPath) {
  const DatasetRef ref = DatasetRef::parse("run:3/a.h5:/d", "/data");
  EXPECT_EQ(ref.file, "run:3/a.h5");
  EXPECT_EQ(ref.path, "/d");
}

TEST(DatasetRef, KeepsColonsThatDoNotStartAPathInTheFileName) {
  const DatasetRef ref = DatasetRef::parse("scan:2.h5", "/data");
  EXPECT_EQ(ref.file, "scan:2.h5");
  EXPECT_EQ(ref.path, "/data");
}

TEST(DatasetRef, RejectsAnEmptyFileName) {
  EXPECT_THROW(DatasetRef::parse(":/data", "/data"), InputError);
  EXPECT_THROW(DatasetRef::parse("", "/data"), InputError);
}

TEST(DatasetRef, PrintsAsFileColonPath) {
  EXPECT_EQ((DatasetRef{"a.h5", "/x/y"}.str()), "a.h5:/x/y");
}

TEST(DType, HasNumpyNames) {
  EXPECT_EQ(to_string(DType::uint8), "uint8");
  EXPECT_EQ(to_string(DType::uint16), "uint16");
  EXPECT_EQ(to_string(DType::float32), "float32");
}

TEST(Hdf5Check, ThrowsIoErrorNamingTheFailedCall) {
  detail::silence_hdf5_errors();
  try {
    H5DECON_CHECK_H5(H5Dclose(H5I_INVALID_HID));
    FAIL() << "no exception";
  } catch (const IoError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("H5Dclose(H5I_INVALID_HID)"), std::string::npos) << message;
    EXPECT_NE(message.find("dataset_ref_test.cpp"), std::string::npos) << message;
  }
}

TEST(Hdf5Check, EvaluatesTheCallOnceAndYieldsItsValue) {
  int calls = 0;
  const hid_t id = H5DECON_CHECK_H5((++calls, H5Screate(H5S_SCALAR)));
  EXPECT_EQ(calls, 1);
  detail::SpaceHandle space(id);
  EXPECT_GT(H5Iis_valid(id), 0);
}

TEST(Hdf5Handle, ClosesOnDestructionAndMovesOwnership) {
  hid_t id = H5I_INVALID_HID;
  {
    detail::SpaceHandle a(H5Screate(H5S_SCALAR));
    id = a.get();
    detail::SpaceHandle b(std::move(a));
    EXPECT_FALSE(a);
    EXPECT_EQ(b.get(), id);
    EXPECT_GT(H5Iis_valid(id), 0);
  }
  EXPECT_LE(H5Iis_valid(id), 0);
}

}  // namespace
}  // namespace h5decon::io
