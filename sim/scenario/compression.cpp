// workload.compression: the codec and its parameters, and its resolved JSON.
#include "sim/scenario/sections.hpp"

#include "sim/scenario/error.hpp"

#include <fmt/format.h>

#include <limits>

namespace ddlsim::scenario {

namespace {

/// An explicit `exchange`: all-reduce architectures only, and summable codecs sum in flight.
void check_exchange(const JsonNode& exchange, const compress::CodecConfig& c, const TrainingConfig& t)
{
  const bool summable = compress::summable(c.codec);
  const std::string name = compress::to_string(c.codec);
  if (t.architecture != ArchitectureKind::allreduce)
    exchange.fail(fmt::format("'exchange' chooses the collective of architecture 'allreduce'; this one is '{}' (a "
                              "parameter server sums what workers push)",
                              to_string(t.architecture)));
  if (summable && c.exchange != compress::Exchange::allreduce)
    exchange.fail(fmt::format("found '{}'; codec '{}' sums in flight: expected 'allreduce'",
                              compress::exchange_names()[static_cast<std::size_t>(c.exchange)], name));
  if (!summable && c.exchange == compress::Exchange::allreduce)
    exchange.fail(fmt::format("codec '{}' cannot be summed in flight; expected 'allgather' (gather every payload) or "
                              "'ring' (decode, add and re-encode at each hop)",
                              name));
}

/// What compression is modelled with: the architectures, schemes and policies it combines with.
void check_codec_supported(const JsonNode& codec, const compress::CodecConfig& c, const TrainingConfig& t)
{
  using compress::Codec;
  if (t.architecture == ArchitectureKind::gossip)
    codec.fail("compressed gossip is not modelled; expected architecture 'allreduce' or 'ps'");
  if (t.sync == SyncScheme::ssp || t.sync == SyncScheme::asp)
    codec.fail(
        fmt::format("compression with scheme '{}' is not modelled; expected 'bsp' or 'local_sgd'", to_string(t.sync)));
  if (t.policy == SchedulingPolicy::priority)
    codec.fail("compression with policy 'priority' is not modelled (slices of compressed buckets); expected 'none', "
               "'wfbp' or 'fusion'");
  if (t.policy == SchedulingPolicy::mg_wfbp)
    codec.fail("compression with policy 'mg_wfbp' is not modelled (its merge is decided on uncompressed volumes); "
               "expected 'none', 'wfbp' or 'fusion'");
  if (c.codec == Codec::powersgd && t.architecture != ArchitectureKind::allreduce)
    codec.fail("powersgd all-reduces its P and Q matrices; expected architecture 'allreduce'");
}

}  // namespace

/// `workload.compression`: the codec and its parameters, checked against the codec (a parameter of
/// another codec is an error, not ignored) and against what the training's architecture can carry.
compress::CodecConfig parse_compression(const JsonNode& w, const TrainingConfig& t)
{
  using compress::Codec;
  compress::CodecConfig c;
  const auto comp = w.optional_child("compression");
  if (!comp)
    return c;
  comp->allow_keys(
      {"codec", "ratio", "levels", "elias", "rank", "error_feedback", "granularity", "exchange", "stream"});
  c.codec = static_cast<Codec>(comp->child("codec").as_choice(compress::codec_names()));
  const std::string name = compress::to_string(c.codec);
  const auto only_for = [&](std::string_view key, bool applies, std::string_view which) {
    if (!applies && comp->has(key))
      comp->child(key).fail(fmt::format("'{}' applies to {}; this codec is '{}'", key, which, name));
  };
  only_for("ratio", compress::sparsifier(c.codec), "topk, randomk, dgc and threshold");
  only_for("levels", c.codec == Codec::qsgd, "qsgd");
  only_for("elias", c.codec == Codec::qsgd, "qsgd");
  only_for("rank", c.codec == Codec::powersgd, "powersgd");
  only_for("error_feedback", compress::error_feedback_applies(c.codec), "codecs that lose information");
  only_for("granularity", c.codec != Codec::none && c.codec != Codec::powersgd,
           "codecs other than none and powersgd (PowerSGD works on each weight matrix)");
  only_for("exchange", c.codec != Codec::none, "compressed gradients");
  only_for("stream", c.codec != Codec::none, "compressed gradients");
  if (compress::sparsifier(c.codec)) {
    const JsonNode ratio = comp->child("ratio");
    c.ratio = ratio.as_number(Bound::any);
    if (!(c.ratio > 0 && c.ratio < 1))
      ratio.fail(fmt::format("found {}; expected a ratio in (0, 1): the fraction of gradient elements sent", c.ratio));
  }
  if (c.codec == Codec::qsgd) {
    const JsonNode levels = comp->child("levels");
    const long long s = levels.as_integer(std::numeric_limits<long long>::min());
    if (s < 1 || s > (1 << 24))
      levels.fail(fmt::format("found {}; expected quantization levels s in [1, 16777216] (QSGD sends "
                              "1 + ceil(log2(s + 1)) bits an element)",
                              s));
    c.levels = static_cast<int>(s);
    c.elias = comp->boolean_or("elias", false);
  }
  if (c.codec == Codec::powersgd) {
    const JsonNode rank = comp->child("rank");
    const long long q = rank.as_integer(std::numeric_limits<long long>::min());
    if (q < 1 || q > 1024)
      rank.fail(fmt::format("found {}; expected a rank in [1, 1024] (the columns of PowerSGD's P and Q)", q));
    c.rank = static_cast<int>(q);
  }
  c.error_feedback = comp->boolean_or("error_feedback", compress::error_feedback_by_default(c.codec));
  c.granularity = static_cast<compress::Granularity>(comp->choice_or("granularity", {"tensor", "bucket"}, 0));
  const bool summable = compress::summable(c.codec);
  c.exchange = static_cast<compress::Exchange>(comp->choice_or(
      "exchange", compress::exchange_names(),
      static_cast<std::size_t>(summable ? compress::Exchange::allreduce : compress::Exchange::allgather)));
  if (comp->has("exchange"))
    check_exchange(comp->child("exchange"), c, t);
  c.separate_stream = comp->choice_or("stream", {"compute", "separate"}, 0) == 1;
  if (c.codec == Codec::none)
    return c;
  check_codec_supported(comp->child("codec"), c, t);
  return c;
}

nlohmann::json compression_json(const compress::CodecConfig& c, ArchitectureKind architecture)
{
  using compress::Codec;
  nlohmann::json j = {{"codec", compress::to_string(c.codec)}};
  if (c.codec == Codec::none)
    return j;
  if (compress::sparsifier(c.codec))
    j["ratio"] = c.ratio;
  if (c.codec == Codec::qsgd) {
    j["levels"] = c.levels;
    j["elias"] = c.elias;
  }
  if (c.codec == Codec::powersgd)
    j["rank"] = c.rank;
  else
    j["granularity"] = c.granularity == compress::Granularity::tensor ? "tensor" : "bucket";
  if (compress::error_feedback_applies(c.codec))
    j["error_feedback"] = c.error_feedback;
  j["stream"] = c.separate_stream ? "separate" : "compute";
  if (architecture == ArchitectureKind::allreduce)
    j["exchange"] = compress::exchange_names()[static_cast<std::size_t>(c.exchange)];
  return j;
}

}  // namespace ddlsim::scenario
