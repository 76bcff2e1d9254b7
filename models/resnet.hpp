#pragma once
#include "models/layer.hpp"

namespace ddlsim::model {

/// ResNet-50 and ResNet-101 (He et al. 2016, "Deep Residual Learning"), as torchvision's resnet50
/// and resnet101: bottleneck blocks [3, 4, 6, 3] and [3, 4, 23, 3], stride on the 3x3 convolution
/// (v1.5), 224x224x3 input, 1000 classes. Parameters total 25,557,032 and 44,549,160
/// (torchvision's published counts); FLOPs count a multiply-add as 2. Throws
/// std::invalid_argument for another depth.
Model make_resnet(int depth);
Model make_resnet50();

}  // namespace ddlsim::model
