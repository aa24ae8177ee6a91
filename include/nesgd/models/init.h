// nesgd/models/init.h - Glorot (Xavier) uniform initialization, Keras style.
//
// Glorot & Bengio (2010): W ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
// For a dense layer fan_in/fan_out are the input/output widths; for a k x k
// convolution they are in_channels * k * k and out_channels * k * k, the same
// convention as Keras's GlorotUniform (the paper's initializer). Biases zero.
#pragma once

#include <torch/torch.h>

namespace nesgd::models {

// The bound a for a weight tensor of this shape ([out, in] or [out, in, kh, kw]).
double glorot_bound(const torch::Tensor& weight);

// Fills `weight` with U(-glorot_bound, glorot_bound) drawn on the CPU from `gen`, then copied
// into place: the same generator state gives the same weights on any device.
void glorot_fill(const torch::Tensor& weight, at::Generator& gen);

// Re-initializes every Linear and Conv2d weight in `module` (recursively) with
// Glorot-uniform and every bias with zeros, using torch's default CPU
// generator reseeded to `seed`, so a seed always gives the same weights.
void glorot_init(torch::nn::Module& module, uint64_t seed);

}  // namespace nesgd::models
