// The scenario format's names of its choices (what to_json writes and error messages quote).
#include "sim/scenario/scenario.hpp"

namespace ddlsim::scenario {

const char* to_string(Sharing v)
{
  switch (v) {
  case Sharing::max_min: return "max-min";
  case Sharing::tcp: return "tcp";
  case Sharing::ib: return "ib";
  }
  return "?";
}
const char* to_string(Fidelity v)
{
  switch (v) {
  case Fidelity::step: return "step";
  case Fidelity::flow: return "flow";
  case Fidelity::auto_: return "auto";
  }
  return "?";
}
const char* to_string(Precision v)
{
  switch (v) {
  case Precision::fp32: return "fp32";
  case Precision::fp16: return "fp16";
  case Precision::bf16: return "bf16";
  case Precision::tf32: return "tf32";
  }
  return "?";
}
const char* to_string(SchedulingPolicy v)
{
  switch (v) {
  case SchedulingPolicy::none: return "none";
  case SchedulingPolicy::wfbp: return "wfbp";
  case SchedulingPolicy::fusion: return "fusion";
  case SchedulingPolicy::mg_wfbp: return "mg_wfbp";
  case SchedulingPolicy::priority: return "priority";
  }
  return "?";
}
const char* to_string(SyncScheme v)
{
  switch (v) {
  case SyncScheme::bsp: return "bsp";
  case SyncScheme::ssp: return "ssp";
  case SyncScheme::asp: return "asp";
  case SyncScheme::local_sgd: return "local_sgd";
  }
  return "?";
}
const char* to_string(ArchitectureKind v)
{
  switch (v) {
  case ArchitectureKind::allreduce: return "allreduce";
  case ArchitectureKind::ps: return "ps";
  case ArchitectureKind::gossip: return "gossip";
  }
  return "?";
}
const char* to_string(PipelineSchedule v)
{
  return v == PipelineSchedule::one_f_one_b ? "1f1b" : "gpipe";
}
const char* to_string(TensorComm v)
{
  return v == TensorComm::simulate ? "simulate" : "alpha_beta";
}
const char* to_string(Recompute v)
{
  switch (v) {
  case Recompute::none: return "none";
  case Recompute::selective: return "selective";
  case Recompute::full: return "full";
  }
  return "none";
}
const char* to_string(PsPlacement v)
{
  return v == PsPlacement::colocated ? "colocated" : "dedicated";
}
const char* to_string(GossipGraph v)
{
  switch (v) {
  case GossipGraph::ring: return "ring";
  case GossipGraph::torus: return "torus";
  case GossipGraph::exponential: return "exponential";
  }
  return "?";
}

double bytes_per_element(Precision p)
{
  return p == Precision::fp32 || p == Precision::tf32 ? 4.0 : 2.0;
}

}  // namespace ddlsim::scenario
