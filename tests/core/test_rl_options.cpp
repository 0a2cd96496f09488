#include <gtest/gtest.h>

#include "h5decon/error.hpp"
#include "h5decon/rl_options.hpp"

using namespace h5decon;

TEST(RlOptions, NamesRoundTrip) {
  for (Boundary b : {Boundary::periodic, Boundary::zero, Boundary::reflect, Boundary::neumann})
    EXPECT_EQ(parse_boundary(to_string(b)), b);
  for (InitMode m : {InitMode::observed, InitMode::constant, InitMode::mean})
    EXPECT_EQ(parse_init(to_string(m)), m);
}

TEST(RlOptions, UnknownNamesListTheValidOnes) {
  try {
    parse_boundary("mirror");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("periodic, zero, reflect, neumann"), std::string::npos);
  }
  EXPECT_THROW(parse_init("zeros"), InputError);
}

TEST(RlOptions, NonPositiveIterationsOrEpsAreRefused) {
  RlOptions o;
  EXPECT_NO_THROW(validate(o));
  o.iterations = 0;
  EXPECT_THROW(validate(o), InputError);
  o.iterations = 5;
  o.eps = 0.0f;
  EXPECT_THROW(validate(o), InputError);
}
