#pragma once
#include "models/layer.hpp"

namespace ddlsim::model {

/// ResNet-50 (He et al. 2016, "Deep Residual Learning"), as torchvision's resnet50: bottleneck
/// blocks [3, 4, 6, 3], stride on the 3x3 convolution (v1.5), 224x224x3 input, 1000 classes.
/// Parameters total 25,557,032 (torchvision's published count); FLOPs count a multiply-add as 2.
Model make_resnet50();

}  // namespace ddlsim::model
