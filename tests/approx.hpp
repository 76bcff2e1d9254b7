#pragma once
#include <doctest/doctest.h>

#include "approx.hpp"

namespace ddlsim::test {

/// A purely relative doctest::Approx. doctest's default scale of 1 adds epsilon as an absolute
/// tolerance, which would let any microsecond-scale time pass a 1e-6 check.
inline doctest::Approx Rel(double value)
{
  return doctest::Approx(value).scale(0);
}

}  // namespace ddlsim::test
