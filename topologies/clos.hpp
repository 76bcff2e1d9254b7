#pragma once
// Folded Clos networks: the fat-tree and the rail-optimized layout.
#include "topologies/network.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace ddlsim::topo {

enum class ClosRouting { d_mod_k, ecmp };

/// A folded Clos of switches with `radix` ports.
/// Leaf (edge) switches have `down = radix * r / (r + 1)` host ports and `up = radix - down`
/// uplinks, r being the oversubscription (1 for a non-blocking tree, 2 for 2:1, ...).
/// 2 tiers: every leaf has one link to each of `up` spines; at most `radix` leaves.
/// 3 tiers: pods of radix/2 leaves and `up` aggregation switches (each leaf linked to each),
/// aggregation switches with radix/2 links down and radix/2 up; `up` groups of radix/2 core
/// switches, aggregation switch j of every pod linked to each core of group j; at most `radix`
/// pods. At r = 1 and full size this is Al-Fares et al.'s k-ary fat-tree (SIGCOMM 2008):
/// k^3/4 hosts, 5k^2/4 switches.
/// Routing: `d_mod_k` picks the uplink from the destination's index (InfiniBand's ftree routing:
/// destination-based, so flows to one host share a path); `ecmp` hashes (seed, source,
/// destination) as Ethernet switches hash flows.
/// `planes` > 1 builds that many identical, separate Clos networks (multi-plane fabrics such as
/// Spectrum-X or multi-rail InfiniBand): every NIC has one port, one `link`, in each plane, and a
/// flow uses one plane, chosen like the uplinks (destination index for d_mod_k, hash for ecmp).
/// `switch_reduce_bytes_per_s` > 0: switches sum the data passing through them (SHARP), as
/// `aggregation_trees` trees (1 to `up`): every leaf is in every tree; tree j adds spine j (2 tiers)
/// or aggregation switch j of every pod and core j-0 (3 tiers). They become aggregators, hosts
/// after the GPUs: the leaves, then tree 0's switches, tree 1's, ...; in tree j a leaf sends up
/// to spine j or its pod's aggregation switch j, which sends up to core j-0. Routes to and from
/// them take those switches' links. One plane only.
/// A Clos that `failed_links` make impossible: a name that is not a link between two switches,
/// or no path left between two leaves. what() starts "failed_links: "; detail() is the rest.
class FailedLinksError : public std::invalid_argument {
public:
  explicit FailedLinksError(const std::string& detail)
      : std::invalid_argument("failed_links: " + detail), detail_(detail)
  {
  }
  const std::string& detail() const { return detail_; }

private:
  std::string detail_;
};

struct ClosParams {
  int tiers;
  int radix;
  double oversubscription;
  ClosRouting routing;
  std::uint64_t seed;
  LinkSpec link;
  int planes = 1;
  double switch_reduce_bytes_per_s = 0;
  int aggregation_trees = 1;
  /// Links between switches that are down, by name: routes avoid them, taking the next uplink
  /// index (and core) after the one their rule picks whose links are all up.
  std::vector<std::string> failed_links = {};
};

struct ClosShape {
  int down, up;        ///< leaf ports
  int leaves, spines;  ///< 2 tiers: spines; 3 tiers: aggregation switches in all pods
  int pods, cores;     ///< 3 tiers only (0 otherwise)
};

/// Shape for `leaves` leaf switches; throws std::invalid_argument naming the parameter at fault.
ClosShape clos_shape(const ClosParams& params, int leaves);

/// Fat-tree: endpoint e on leaf e / down. Throws std::invalid_argument if the endpoints do not fit.
/// With summing switches, `endpoint_aggregator` (if given) receives each endpoint's leaf aggregator
/// host, and the route function takes aggregator k (the k-th added here) as endpoint count + k.
EndpointRouteFn build_fat_tree(Topology& t, const std::vector<Vertex>& endpoints, const ClosParams& params,
                               std::vector<std::uint32_t>* endpoint_aggregator = nullptr);

/// Rail-optimized (DGX SuperPOD, Spectrum-X): nodes of `gpus_per_node` GPUs each with its NIC
/// (endpoint e = node * gpus_per_node + i); the NIC of GPU i of every node in a group of `down`
/// nodes goes to that group's rail-i leaf; leaves are joined by the Clos's upper tiers.
EndpointRouteFn build_rail_optimized(Topology& t, const std::vector<Vertex>& endpoints, int gpus_per_node,
                                     const ClosParams& params,
                                     std::vector<std::uint32_t>* endpoint_aggregator = nullptr);

/// Leaves needed for a fat-tree / rail-optimized network of `endpoints` endpoints.
int fat_tree_leaves(const ClosParams& params, std::uint32_t endpoints);
int rail_leaves(const ClosParams& params, std::uint32_t endpoints, int gpus_per_node);

}  // namespace ddlsim::topo
