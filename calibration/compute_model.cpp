#include "calibration/compute_model.hpp"

namespace ddlsim::calib {

LayerSeconds layer_seconds(const model::Layer& layer, int batch, const PlaceholderGpu& gpu)
{
  const double rate = gpu.peak_flops_per_s * gpu.efficiency;
  const double forward = layer.forward_flops_per_sample * batch / rate;
  const double backward_factor = layer.params > 0 ? 2.0 : 1.0;
  return {forward, backward_factor * forward};
}

}  // namespace ddlsim::calib
