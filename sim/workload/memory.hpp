#pragma once
// What one GPU keeps of a model's training state: Adam's bytes per parameter and ZeRO's shards.
#include "sim/scenario/scenario.hpp"

namespace ddlsim::workload {

/// Bytes of Adam's state per parameter: momentum and variance in fp32, plus an fp32 master copy of
/// the weights when training in fp16 or bf16 (mixed precision: K = 12 in Rajbhandari et al., 2020).
/// tf32 keeps fp32 weights.
double adam_bytes_per_parameter(scenario::Precision precision);

/// Bytes one GPU keeps of a stage's `weights` bytes of parameters, of their gradients and of
/// Adam's state: ZeRO's 1/d shards over the d replicas (stage 1 shards the optimizer states, 2
/// also the gradients, 3 also the parameters), before what stage 3 gathers. The `experts` bytes of
/// them (its own experts') are sharded over the d / e replicas that hold the same experts (all d
/// without expert parallelism, which gives the same as counting them with the rest).
struct ZeroShares {
  double parameters, gradients, optimizer_states;
};
ZeroShares zero_shares(const scenario::TrainingConfig& t, double weights, double experts = 0);

}  // namespace ddlsim::workload
