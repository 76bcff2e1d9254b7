#pragma once
// CNNs of the data-parallel literature besides ResNet, as torchvision builds them (224x224x3
// input for VGG, 299x299x3 for Inception-v3, 1000 classes).
#include "models/layer.hpp"

namespace ddlsim::model {

/// VGG-16 (Simonyan and Zisserman 2015, configuration D), torchvision's vgg16: 13 3x3
/// convolutions with bias, no batch norm, classifier 25088-4096-4096-1000. 138,357,544
/// parameters (torchvision's published count).
Model make_vgg16();

/// Inception-v3 (Szegedy et al. 2016), torchvision's inception_v3 with its auxiliary classifier
/// (trained with it, as in the paper): every convolution without bias plus batch norm.
/// 27,161,264 parameters (torchvision's count with aux_logits=True). The auxiliary classifier's
/// layers come after Mixed_6e in the list; backward reaches them before Mixed_6e's.
Model make_inception_v3();

}  // namespace ddlsim::model
