#include "calibration/compute_model.hpp"

#include <doctest/doctest.h>

#include "approx.hpp"

using namespace ddlsim;

TEST_CASE("placeholder compute: forward = flops * batch / (peak * efficiency) - backward twice that with parameters")
{
  const calib::PlaceholderGpu gpu{10e12, 0.5};
  const model::Layer conv{"c", model::LayerKind::conv, 100, 1e9, 10};
  const auto t = calib::layer_seconds(conv, 8, gpu);
  CHECK(t.forward_seconds == test::Rel(8e9 / 5e12).epsilon(1e-15));
  CHECK(t.backward_seconds == test::Rel(2 * 8e9 / 5e12).epsilon(1e-15));
  const model::Layer relu{"r", model::LayerKind::relu, 0, 1e6, 10};
  const auto r = calib::layer_seconds(relu, 8, gpu);
  CHECK(r.backward_seconds == test::Rel(r.forward_seconds).epsilon(1e-15));
}
