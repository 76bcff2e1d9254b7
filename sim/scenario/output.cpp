// The output section: where a run writes, and whether (and which ranks) it traces.
#include "sim/scenario/sections.hpp"

#include "sim/scenario/error.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ddlsim::scenario {

OutputConfig parse_output(const JsonNode& root, const std::string& name, int gpus)
{
  OutputConfig o{"out/" + name, false, {}};
  if (auto out = root.optional_child("output")) {
    out->allow_keys({"dir", "trace", "trace_ranks"});
    if (out->has("dir"))
      o.dir = out->string("dir");
    o.trace = out->boolean_or("trace", false);
    if (auto ranks = out->optional_child("trace_ranks")) {
      const std::size_t n = ranks->array_size();
      if (n == 0)
        ranks->fail("found an empty list; expected the GPU ranks to trace, e.g. [0, 1, 8]");
      for (std::size_t i = 0; i < n; ++i) {
        const long long r = ranks->element(i).as_integer(0);
        if (r >= gpus)
          ranks->element(i).fail(fmt::format("found rank {}; the cluster has ranks 0 to {}", r, gpus - 1));
        o.trace_ranks.push_back(static_cast<std::uint32_t>(r));
      }
      std::sort(o.trace_ranks.begin(), o.trace_ranks.end());
      o.trace_ranks.erase(std::unique(o.trace_ranks.begin(), o.trace_ranks.end()), o.trace_ranks.end());
    }
  }
  if (o.trace_ranks.empty())
    for (int r = 0; r < std::min(gpus, 64); ++r)
      o.trace_ranks.push_back(static_cast<std::uint32_t>(r));
  return o;
}

nlohmann::json output_json(const OutputConfig& o)
{
  return {{"dir", o.dir}, {"trace", o.trace}, {"trace_ranks", o.trace_ranks}};
}

}  // namespace ddlsim::scenario
