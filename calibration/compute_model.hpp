#pragma once
// Compute cost of a layer on one GPU. Until measured profiles exist (the calibration issue),
// the only model is a placeholder: a fraction `efficiency` of a stated peak, for every layer.
#include "models/layer.hpp"

namespace ddlsim::calib {

/// A GPU described by its peak rate and the fraction of it that layers reach.
struct PlaceholderGpu {
  double peak_flops_per_s;  ///< > 0
  double efficiency;        ///< in (0, 1]
};

struct LayerSeconds {
  double forward_seconds;
  double backward_seconds;
};

/// Forward and backward time of `layer` for `batch` samples. Backward costs twice the forward
/// flops for layers with parameters (input gradient + weight gradient), once for the others.
LayerSeconds layer_seconds(const model::Layer& layer, int batch, const PlaceholderGpu& gpu);

}  // namespace ddlsim::calib
