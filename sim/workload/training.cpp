// A data-parallel training's task graph: per rank and iteration its compute, the policy's
// gradient buckets (or ByteScheduler's slices) synchronised by all-reduce, parameter server or
// gossip, codec kernels, and what the sync scheme makes the next iteration wait for.
#include "sim/workload/training.hpp"

#include "sim/collectives/algorithms.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>

using namespace ddlsim::scenario;
using namespace ddlsim::engine;

namespace ddlsim::workload {

namespace {

/// A bucket's compressed form: its payload and the GPU time of its codec.
struct CodecBucket {
  compress::Wire wire;
  compress::CodecSeconds seconds;
  double elements = 0;
};

class Builder {
public:
  Builder(const Scenario& s, const model::Model& model, const coll::GroupShape& shape, const TrainingHosts& hosts)
      : s_(s), t_(s.training), shape_(shape), hosts_(hosts), p_(static_cast<std::uint32_t>(t_.data_parallel)),
        codec_config_(t_.compression)
  {
    costs_ = layer_costs(model, t_, s.gpu, s.profile.get());
    plan_.buckets = make_buckets(model, costs_, t_, [this](double bytes) { return predicted(bytes); });
    plan_.forward_seconds = 0;
    for (const LayerCost& c : costs_)
      plan_.forward_seconds += c.forward_seconds;
    plan_.compute_seconds = plan_.forward_seconds;
    plan_.gradient_bytes = 0;
    for (const Bucket& b : plan_.buckets) {
      plan_.compute_seconds += b.backward_seconds;
      plan_.gradient_bytes += b.gradient_bytes;
    }
    plan_.fidelity = coll::ScheduleFidelity::step;
    if (t_.policy == SchedulingPolicy::priority) {
      slices_ = priority_order(plan_.buckets, t_.partition_bytes, t_.credit_slices(),
                               [this](double bytes) { return predicted(bytes); });
    } else {
      for (std::size_t b = 0; b < plan_.buckets.size(); ++b)
        if (plan_.buckets[b].gradient_bytes > 0)
          slices_.push_back({b, plan_.buckets[b].gradient_bytes});
    }
    plan_.slices = slices_.size();
    if (codec_config_.codec != compress::Codec::none)
      plan_codecs(model);
  }

  TrainingPlan build()
  {
    const std::size_t nb = plan_.buckets.size();
    // Per rank: the last compute task, and per bucket the tasks the bucket's next forward waits for.
    std::vector<std::uint32_t> compute(p_, NONE);
    std::vector<std::vector<std::uint32_t>> waits(p_);  // non-priority: the forward waits for these
    std::vector<std::vector<std::vector<std::uint32_t>>> bucket_waits(t_.policy == SchedulingPolicy::priority ? p_ : 0,
                                                                      std::vector<std::vector<std::uint32_t>>(nb));
    std::vector<std::vector<std::uint32_t>> push_joins;  // ssp: [iteration][slice] every worker's push done
    for (int it = 0; it < t_.iterations; ++it) {
      const bool sync = t_.sync != SyncScheme::local_sgd || (it + 1) % t_.period == 0;
      std::vector<double> factor(p_);
      for (std::uint32_t r = 0; r < p_; ++r)
        factor[r] = compute_factor(s_, r, it);
      for (std::uint32_t r = 0; r < p_; ++r)
        add_forward(r, factor[r], compute, waits, bucket_waits);
      const bool compressing = codec_config_.codec != compress::Codec::none && sync && p_ > 1;
      const std::vector<std::vector<std::uint32_t>> ready = add_backward(factor, sync, compressing, compute);
      std::vector<std::vector<std::uint32_t>> ends(p_);
      for (std::uint32_t r = 0; r < p_; ++r)
        ends[r].push_back(compute[r]);
      synchronise(it, sync, compressing, ready, waits, bucket_waits, ends, push_joins);
      plan_.iteration_end.push_back(std::move(ends));
    }
    return std::move(plan_);
  }

private:
  /// Rank r's forward (with priority, bucket by bucket from the input's), after what it waits for.
  void add_forward(std::uint32_t r, double factor, std::vector<std::uint32_t>& compute,
                   std::vector<std::vector<std::uint32_t>>& waits,
                   std::vector<std::vector<std::vector<std::uint32_t>>>& bucket_waits)
  {
    TaskGraph& g = plan_.graph;
    const std::size_t nb = plan_.buckets.size();
    if (t_.policy == SchedulingPolicy::priority) {
      for (std::size_t b = nb; b-- > 0;) {
        const std::uint32_t f = g.add_delay(r, Stream::compute, plan_.buckets[b].forward_seconds * factor, "forward");
        after(compute[r], f);
        for (std::uint32_t w : bucket_waits[r][b])
          g.add_dependency(w, f);
        bucket_waits[r][b].clear();
        compute[r] = f;
      }
    } else {
      const std::uint32_t f = g.add_delay(r, Stream::compute, plan_.forward_seconds * factor, "forward");
      after(compute[r], f);
      for (std::uint32_t w : waits[r])
        g.add_dependency(w, f);
      waits[r].clear();
      compute[r] = f;
    }
  }

  /// Every rank's backward, bucket by bucket, with its codec kernels and fusion-cycle waits;
  /// returns per bucket and rank the task after which the bucket may be synchronised.
  std::vector<std::vector<std::uint32_t>> add_backward(const std::vector<double>& factor, bool sync, bool compressing,
                                                       std::vector<std::uint32_t>& compute)
  {
    TaskGraph& g = plan_.graph;
    const std::size_t nb = plan_.buckets.size();
    std::vector<std::vector<std::uint32_t>> ready(nb, std::vector<std::uint32_t>(p_));
    std::vector<std::uint32_t> last_encode(p_, NONE);
    for (std::size_t b = 0; b < nb; ++b) {
      const Bucket& bucket = plan_.buckets[b];
      const std::string label = "backward bucket " + std::to_string(b);
      for (std::uint32_t r = 0; r < p_; ++r) {
        const std::uint32_t seg = g.add_delay(r, Stream::compute, bucket.backward_seconds * factor[r], label);
        after(compute[r], seg);
        compute[r] = seg;
        ready[b][r] = seg;
        if (compressing && bucket.gradient_bytes > 0) {
          // Encoding starts as soon as the bucket's gradients are there; on the compute stream it
          // holds back the next bucket's backward.
          const std::uint32_t enc =
              add_codec(r, codec_[b].seconds.encode * factor[r], 0, "encode bucket " + std::to_string(b));
          g.add_dependency(seg, enc);
          after(last_encode[r], enc);
          last_encode[r] = enc;
          if (!codec_config_.separate_stream)
            compute[r] = enc;
          ready[b][r] = enc;
        }
        if (bucket.release_delay_seconds > 0 && sync && p_ > 1) {
          const std::uint32_t tick = g.add_delay(r, Stream::none, bucket.release_delay_seconds, "fusion cycle wait");
          g.add_dependency(ready[b][r], tick);
          ready[b][r] = tick;
        }
      }
    }
    return ready;
  }

  /// The iteration's synchronisation, as the architecture, sync scheme and compression make it.
  void synchronise(int it, bool sync, bool compressing, const std::vector<std::vector<std::uint32_t>>& ready,
                   std::vector<std::vector<std::uint32_t>>& waits,
                   std::vector<std::vector<std::vector<std::uint32_t>>>& bucket_waits,
                   std::vector<std::vector<std::uint32_t>>& ends, std::vector<std::vector<std::uint32_t>>& push_joins)
  {
    if (compressing && !slices_.empty()) {
      synchronise_compressed(ready, waits, ends);
    } else if (sync && p_ > 1 && !slices_.empty()) {
      switch (t_.architecture) {
      case ArchitectureKind::allreduce:
      case ArchitectureKind::gossip: synchronise_collectively(it, ready, waits, bucket_waits, ends); break;
      case ArchitectureKind::ps:
        if (t_.sync == SyncScheme::ssp || t_.sync == SyncScheme::asp)
          synchronise_async(it, ready, waits, ends, push_joins);
        else
          synchronise_collectively(it, ready, waits, bucket_waits, ends);
        break;
      }
    }
  }

  static constexpr std::uint32_t NONE = UINT32_MAX;

  void after(std::uint32_t before, std::uint32_t task)
  {
    if (before != NONE)
      plan_.graph.add_dependency(before, task);
  }

  /// Predicted time to synchronise `bytes`: the all-reduce's alpha-beta cost, or a push and a pull
  /// through the servers' links. Only mg_wfbp and priority ask, and the loader refuses both on gossip.
  double predicted(double bytes) const
  {
    const coll::GroupShape& g = shape_;
    switch (t_.architecture) {
    case ArchitectureKind::allreduce: {
      const coll::Algorithm a =
          t_.algorithm == coll::Algorithm::auto_ ? coll::choose_algorithm(coll::Op::allreduce, g, bytes) : t_.algorithm;
      return coll::predicted_seconds(coll::Op::allreduce, a, g, bytes);
    }
    case ArchitectureKind::ps: {
      const double servers = std::max<std::size_t>(1, hosts_.servers.size());
      return 2 * (g.alpha_inter_s + p_ * bytes / (servers * g.bandwidth_inter));
    }
    case ArchitectureKind::gossip:
      return g.alpha_inter_s + double(gossip_neighbours(t_.graph, p_, 0).size()) * bytes / g.bandwidth_inter;
    }
    return 0;
  }

  /// The schedule and hosts that synchronise one slice over every rank at once.
  PlannedCollective collective_for(double bytes)
  {
    switch (t_.architecture) {
    case ArchitectureKind::allreduce: return plan_group(coll::Op::allreduce, bytes);
    case ArchitectureKind::ps: return ps_push_pull(bytes);
    case ArchitectureKind::gossip: break;
    }
    // Gossip (D-PSGD, Lian et al. 2017): every rank sends its `bytes` to each neighbour and averages
    // what it receives.
    coll::Schedule sched(p_);
    std::vector<coll::Transfer> step;
    for (std::uint32_t r = 0; r < p_; ++r)
      for (std::uint32_t n : gossip_neighbours(t_.graph, p_, r))
        step.push_back({r, n, bytes, 1, bytes});
    sched.add_step(std::move(step));
    std::vector<std::uint32_t> ranks(p_);
    std::iota(ranks.begin(), ranks.end(), 0U);
    return {std::move(sched), std::move(ranks), coll::Algorithm::direct, coll::ScheduleFidelity::step};
  }

  /// BSP parameter server: every worker pushes bytes/S to each server (which sums it), then each
  /// server sends its reduced shard back to every worker once all pushes reached it. Group ranks
  /// 0..p-1 are the workers, p..p+S-1 the servers (a server process of its own even when it shares
  /// a GPU's host: it does not wait for that GPU's compute); a shard a worker keeps on its own
  /// host is not sent.
  PlannedCollective ps_push_pull(double bytes)
  {
    std::vector<std::uint32_t> ranks(p_);
    std::iota(ranks.begin(), ranks.end(), 0U);
    ranks.insert(ranks.end(), hosts_.servers.begin(), hosts_.servers.end());
    std::vector<coll::Rank> shares;  // a server on GPU host h shares it with worker h
    for (std::uint32_t h : hosts_.servers)
      shares.push_back(h < p_ ? h : coll::NO_WORKER);
    return {coll::ps_push_pull(p_, shares, bytes), std::move(ranks), coll::Algorithm::ps, coll::ScheduleFidelity::step};
  }

  /// All-reduce, BSP parameter server or gossip: one collective per slice over all ranks. Each rank
  /// sends its slices in order, `window` at a time; the next forward waits for them.
  void synchronise_collectively(int it, const std::vector<std::vector<std::uint32_t>>& ready,
                                std::vector<std::vector<std::uint32_t>>& waits,
                                std::vector<std::vector<std::vector<std::uint32_t>>>& bucket_waits,
                                std::vector<std::vector<std::uint32_t>>& ends)
  {
    TaskGraph& g = plan_.graph;
    const std::size_t window =
        static_cast<std::size_t>(t_.policy == SchedulingPolicy::priority ? t_.credit_slices() : 1);
    std::vector<std::vector<std::uint32_t>> parts(p_);  // per rank, its parts in order
    for (std::size_t k = 0; k < slices_.size(); ++k) {
      const Slice& slice = slices_[k];
      PlannedCollective planned = collective_for(slice.bytes);
      if (it == 0 && t_.architecture == ArchitectureKind::allreduce)
        plan_.algorithms.push_back(planned.algorithm);
      const std::string label = std::string(t_.architecture == ArchitectureKind::gossip ? "gossip"
                                            : t_.architecture == ArchitectureKind::ps   ? "push-pull"
                                                                                        : "allreduce") +
                                " bucket " + std::to_string(slice.bucket) +
                                (t_.policy == SchedulingPolicy::priority ? " slice" : "");
      const std::uint32_t c = g.add_collective(std::move(planned.schedule), std::move(planned.hosts), label);
      for (std::size_t extra = p_; extra < g.collective(c).tasks.size(); ++extra)
        if (t_.architecture == ArchitectureKind::ps)
          g.set_stream(g.collective(c).tasks[extra], Stream::none);  // a server's part
      for (std::uint32_t r = 0; r < p_; ++r) {
        const std::uint32_t part = g.collective(c).tasks[r];
        g.add_dependency(ready[slice.bucket][r], part);
        if (parts[r].size() >= window)
          g.add_dependency(parts[r][parts[r].size() - window], part);
        parts[r].push_back(part);
        if (t_.policy == SchedulingPolicy::priority)
          bucket_waits[r][slice.bucket].push_back(part);
      }
    }
    for (std::uint32_t r = 0; r < p_; ++r) {
      const std::size_t n = parts[r].size();
      for (std::size_t i = n - std::min(n, window); i < n; ++i) {
        ends[r].push_back(parts[r][i]);
        if (t_.policy != SchedulingPolicy::priority)
          waits[r].push_back(parts[r][i]);
      }
    }
  }

  /// SSP / ASP parameter server: per worker and slice, a push to every server and a pull back.
  /// A worker pushes in order and pulls in order; a server answers the pull of iteration i once it
  /// has the worker's push and (ssp) every worker's push of iteration i - staleness; asp: only the
  /// worker's own push.
  void synchronise_async(int it, const std::vector<std::vector<std::uint32_t>>& ready,
                         std::vector<std::vector<std::uint32_t>>& waits, std::vector<std::vector<std::uint32_t>>& ends,
                         std::vector<std::vector<std::uint32_t>>& push_joins)
  {
    TaskGraph& g = plan_.graph;
    const auto servers = static_cast<std::uint32_t>(hosts_.servers.size());
    push_joins.emplace_back();
    std::vector<std::uint32_t>& joins = push_joins.back();  // per slice: every worker's push done
    if (t_.sync == SyncScheme::ssp)
      for (std::size_t k = 0; k < slices_.size(); ++k)
        joins.push_back(g.add_join("pushes of iteration " + std::to_string(it)));
    std::vector<std::uint32_t> last_push(p_, NONE), last_pull(p_, NONE);
    for (std::size_t k = 0; k < slices_.size(); ++k) {
      const Slice& slice = slices_[k];
      const double shard = slice.bytes / servers;
      for (std::uint32_t w = 0; w < p_; ++w) {
        // Group: the worker (rank 0), then the servers not on its own GPU.
        std::vector<std::uint32_t> ranks{w};
        for (std::uint32_t j = 0; j < servers; ++j)
          if (hosts_.servers[j] != w || t_.placement == PsPlacement::dedicated)
            ranks.push_back(hosts_.servers[j]);
        const auto n = static_cast<coll::Rank>(ranks.size());
        coll::Schedule push(n), pull(n);
        std::vector<coll::Transfer> up, down;
        for (coll::Rank j = 1; j < n; ++j) {
          up.push_back({0, j, shard, 1, shard});
          down.push_back({j, 0, shard, 1});
        }
        if (n > 1) {
          push.add_step(std::move(up));
          pull.add_step(std::move(down));
        }
        const std::string suffix = " bucket " + std::to_string(slice.bucket) + " worker " + std::to_string(w);
        const std::uint32_t cp = g.add_collective(std::move(push), ranks, "push" + suffix);
        const std::uint32_t cq = g.add_collective(std::move(pull), ranks, "pull" + suffix);
        const auto& push_tasks = g.collective(cp).tasks;
        const auto& pull_tasks = g.collective(cq).tasks;
        g.add_dependency(ready[slice.bucket][w], push_tasks[0]);
        after(last_push[w], push_tasks[0]);
        g.add_dependency(push_tasks[0], pull_tasks[0]);
        after(last_pull[w], pull_tasks[0]);
        for (coll::Rank j = 1; j < n; ++j) {
          g.set_stream(push_tasks[j], Stream::none);  // a server's parts
          g.set_stream(pull_tasks[j], Stream::none);
          g.add_dependency(push_tasks[j], pull_tasks[j]);  // the server has this worker's push
          if (t_.sync == SyncScheme::ssp) {
            g.add_dependency(push_tasks[j], joins[k]);
            const int needed = it - t_.staleness;
            if (needed >= 0 && static_cast<std::size_t>(needed) < push_joins.size())
              g.add_dependency(push_joins[static_cast<std::size_t>(needed)][k], pull_tasks[j]);
          }
        }
        if (t_.sync == SyncScheme::ssp && n == 1)
          g.add_dependency(push_tasks[0], joins[k]);
        last_push[w] = push_tasks[0];
        last_pull[w] = pull_tasks[0];
      }
    }
    for (std::uint32_t r = 0; r < p_; ++r) {
      ends[r].push_back(last_push[r]);
      ends[r].push_back(last_pull[r]);
      waits[r].push_back(last_pull[r]);
    }
    if (static_cast<std::size_t>(it) >= plan_.last_push.size()) {
      plan_.last_push.resize(static_cast<std::size_t>(it) + 1);
      plan_.last_pull.resize(static_cast<std::size_t>(it) + 1);
    }
    plan_.last_push[static_cast<std::size_t>(it)] = last_push;
    plan_.last_pull[static_cast<std::size_t>(it)] = last_pull;
  }

  Lane lane() const { return codec_config_.separate_stream ? Lane::codec : Lane::compute; }

  /// Each bucket's payload and codec seconds, from its layers' tensors and the GPU profile.
  void plan_codecs(const model::Model& model)
  {
    const double e = bytes_per_element(t_.precision);
    for (const Bucket& b : plan_.buckets) {
      std::vector<model::Tensor> tensors;
      for (std::size_t l = b.first_layer; l < b.first_layer + b.layers; ++l)
        for (const model::Tensor& t : model.layers[l].parameter_tensors())
          tensors.push_back(t);
      const std::vector<model::Tensor> units = compress::codec_tensors(codec_config_, tensors);
      CodecBucket c;
      c.wire = compress::wire_bytes(codec_config_, units, e);
      c.seconds = compress::codec_seconds(codec_config_, units, e, *s_.profile);
      c.elements = b.gradient_bytes / e;
      if (codec_config_.exchange == compress::Exchange::ring && c.elements > 0) {
        // Per hop: decode the received chunk, add, re-encode; at the end decode the p chunks.
        const std::vector<model::Tensor> chunk{{std::max<std::int64_t>(1, std::llround(c.elements / p_)), 1}};
        compress::CodecConfig flat = codec_config_;
        flat.error_feedback = false;
        chunk_wire_.push_back(compress::wire_bytes(flat, chunk, e).first);
        chunk_seconds_.push_back(compress::codec_seconds(flat, chunk, e, *s_.profile));
      } else {
        chunk_wire_.push_back(0);
        chunk_seconds_.push_back({});
      }
      plan_.compression.extra_memory_bytes += compress::extra_memory_bytes(codec_config_, units, e);
      codec_.push_back(c);
    }
    for (const Slice& slice : slices_)
      plan_.compression.wire_bytes += codec_[slice.bucket].wire.total();
  }

  /// Codec kernels of rank r that encode and decode for the given seconds, as one task on its lane;
  /// rank 0's of the first synchronising iteration make the stats.
  std::uint32_t add_codec(std::uint32_t r, double encode, double decode, const std::string& label)
  {
    if (r == 0 && !codec_counted_) {
      plan_.compression.encode_seconds += encode;
      plan_.compression.decode_seconds += decode;
    }
    return plan_.graph.add_codec(r, encode + decode, label, lane());
  }

  /// `op` over the data-parallel group by the scenario's algorithm (ring where that algorithm does
  /// not implement `op`), for `bytes` (all-gather: the gathered total); notes flow fidelity.
  PlannedCollective plan_group(coll::Op op, double bytes)
  {
    coll::Algorithm algorithm = t_.algorithm;
    const auto& valid = coll::algorithms_for(op);
    if (algorithm != coll::Algorithm::auto_ && std::find(valid.begin(), valid.end(), algorithm) == valid.end())
      algorithm = coll::Algorithm::ring;
    PlannedCollective planned = plan_collective(op, algorithm, t_.fidelity, shape_, bytes);
    if (planned.fidelity == coll::ScheduleFidelity::flow)
      plan_.fidelity = planned.fidelity;
    return planned;
  }

  std::uint32_t add_group_collective(coll::Op op, double bytes, const std::string& label)
  {
    PlannedCollective planned = plan_group(op, bytes);
    return plan_.graph.add_collective(std::move(planned.schedule), std::move(planned.hosts), label);
  }

  /// Compressed synchronisation, bucket by bucket on one communication stream per rank: the
  /// payloads of summable codecs are all-reduced (PowerSGD: P, then orthogonalisation and Q = M^T P,
  /// then Q); others are all-gathered and every payload decoded, or passed round a ring that
  /// decodes, adds and re-encodes at each hop; a parameter server sums what workers push and
  /// sends back one payload. Each rank decodes what it received; the next forward waits for that.
  void synchronise_compressed(const std::vector<std::vector<std::uint32_t>>& ready,
                              std::vector<std::vector<std::uint32_t>>& waits,
                              std::vector<std::vector<std::uint32_t>>& ends)
  {
    TaskGraph& g = plan_.graph;
    std::vector<std::uint32_t> comm(p_, NONE), last_decode(p_, NONE);
    // Rank r's part of collective c follows `before[r]` and its previous communication.
    const auto join = [&](std::uint32_t c, const std::vector<std::uint32_t>& before) {
      std::vector<std::uint32_t> parts(p_);
      for (std::uint32_t r = 0; r < p_; ++r) {
        parts[r] = g.collective(c).tasks[r];
        g.add_dependency(before[r], parts[r]);
        after(comm[r], parts[r]);
        comm[r] = parts[r];
      }
      for (std::size_t extra = p_; extra < g.collective(c).tasks.size(); ++extra)
        g.set_stream(g.collective(c).tasks[extra], Stream::none);  // a server's or switch's part
      return parts;
    };
    const auto codec_tasks = [&](const std::vector<std::uint32_t>& before, double encode, double decode,
                                 const std::string& label) {
      std::vector<std::uint32_t> tasks(p_);
      for (std::uint32_t r = 0; r < p_; ++r) {
        tasks[r] = add_codec(r, encode, decode, label);
        g.add_dependency(before[r], tasks[r]);
      }
      return tasks;
    };
    for (const Slice& slice : slices_) {
      const CodecBucket& c = codec_[slice.bucket];
      const std::string suffix = " bucket " + std::to_string(slice.bucket);
      std::vector<std::uint32_t> received;
      double decode = c.seconds.decode;
      if (t_.architecture == ArchitectureKind::ps) {
        PlannedCollective planned = ps_push_pull(c.wire.first);
        received = join(g.add_collective(std::move(planned.schedule), std::move(planned.hosts), "push-pull" + suffix),
                        ready[slice.bucket]);
      } else if (codec_config_.exchange == compress::Exchange::allreduce) {
        received =
            join(add_group_collective(coll::Op::allreduce, c.wire.first, "allreduce" + suffix), ready[slice.bucket]);
        if (c.wire.second > 0) {
          const auto q = codec_tasks(received, c.seconds.second_encode, 0, "orthogonalise, Q = M^T P" + suffix);
          received = join(add_group_collective(coll::Op::allreduce, c.wire.second, "allreduce Q" + suffix), q);
        }
      } else if (codec_config_.exchange == compress::Exchange::allgather) {
        received = join(add_group_collective(coll::Op::allgather, p_ * c.wire.first, "allgather" + suffix),
                        ready[slice.bucket]);
        decode = p_ * c.seconds.decode;
      } else {
        received = compressed_ring(slice.bucket, ready[slice.bucket], join, codec_tasks);
        decode = p_ * chunk_seconds_[slice.bucket].decode;
      }
      const auto decoded = codec_tasks(received, 0, decode, "decode" + suffix);
      for (std::uint32_t r = 0; r < p_; ++r)
        last_decode[r] = decoded[r];
    }
    // A lane runs its tasks in the order they become ready, and decodes become ready in bucket
    // order (communication is serial per rank): the last decode ends last.
    for (std::uint32_t r = 0; r < p_; ++r) {
      ends[r].push_back(last_decode[r]);
      waits[r].push_back(last_decode[r]);
    }
    codec_counted_ = true;
  }

  /// A compressed ring all-reduce of bucket b: p-1 reduce-scatter hops, each sending an encoded
  /// chunk to the next rank, which decodes it, adds its own and re-encodes; then p-1 all-gather
  /// hops forwarding the reduced encoded chunks. Returns each rank's last hop.
  template <class Join, class CodecTasks>
  std::vector<std::uint32_t> compressed_ring(std::size_t b, const std::vector<std::uint32_t>& ready, Join& join,
                                             CodecTasks& codec_tasks)
  {
    std::vector<std::uint32_t> before = ready;
    const std::string suffix = " bucket " + std::to_string(b);
    for (std::uint32_t hop = 0; hop + 1 < 2 * p_ - 1; ++hop) {
      coll::Schedule step(p_);
      std::vector<coll::Transfer> transfers;
      for (std::uint32_t r = 0; r < p_; ++r)
        transfers.push_back({r, (r + 1) % p_, chunk_wire_[b], 1});
      step.add_step(std::move(transfers));
      std::vector<std::uint32_t> ranks(p_);
      std::iota(ranks.begin(), ranks.end(), 0U);
      const bool reducing = hop + 1 < p_;
      before = join(
          plan_.graph.add_collective(std::move(step), std::move(ranks),
                                     (reducing ? "compressed ring reduce hop" : "compressed ring gather hop") + suffix),
          before);
      if (reducing) {
        const compress::CodecSeconds& h = chunk_seconds_[b];
        before = codec_tasks(before, h.encode, h.decode, "decode, add, re-encode" + suffix);
      }
    }
    return before;
  }

  const Scenario& s_;
  const TrainingConfig& t_;
  const coll::GroupShape& shape_;
  const TrainingHosts& hosts_;
  const std::uint32_t p_;
  std::vector<LayerCost> costs_;
  std::vector<Slice> slices_;
  TrainingPlan plan_;
  const compress::CodecConfig& codec_config_;
  std::vector<CodecBucket> codec_;                     ///< per bucket, with a codec
  std::vector<double> chunk_wire_;                     ///< exchange ring: per bucket, an encoded chunk's bytes
  std::vector<compress::CodecSeconds> chunk_seconds_;  ///< exchange ring: per bucket, a chunk's codec seconds
  bool codec_counted_ = false;                         ///< plan_.compression has its codec seconds
};

}  // namespace

TrainingPlan build_training(const Scenario& s, const model::Model& model, const coll::GroupShape& shape,
                            const TrainingHosts& hosts)
{
  return Builder(s, model, shape, hosts).build();
}

}  // namespace ddlsim::workload
