#include <gtest/gtest.h>

#include "h5decon/fft_shape.hpp"

using namespace h5decon;

TEST(FftShape, NextFastSizeHasOnlySmallPrimeFactors) {
  EXPECT_EQ(next_fast_size(1), 1);
  EXPECT_EQ(next_fast_size(11), 12);
  EXPECT_EQ(next_fast_size(160), 160);
  EXPECT_EQ(next_fast_size(272), 280);  // 272 = 16 * 17 is slow
  EXPECT_EQ(next_fast_size(1021), 1024);
}

TEST(FftShape, PaddedShapeHoldsTheExtendedVolumeWithAnEvenLastAxis) {
  const Shape3 volume{128, 256, 256}, psf{33, 17, 17};
  const Shape3 p = padded_shape(volume, psf);
  EXPECT_EQ(p, (Shape3{160, 280, 280}));
  EXPECT_TRUE(fits_linear_convolution(p, volume, psf));
  const Shape3 odd = padded_shape({5, 5, 5}, {3, 3, 3});  // 7 on every axis
  EXPECT_EQ(odd.x % 2, 0);
  EXPECT_TRUE(fits_linear_convolution(odd, {5, 5, 5}, {3, 3, 3}));
  EXPECT_FALSE(fits_linear_convolution({160, 280, 279}, volume, psf));
  EXPECT_FALSE(fits_linear_convolution({159, 280, 280}, volume, psf));
}
