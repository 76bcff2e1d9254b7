#include "topologies/link_presets.hpp"

#include <algorithm>

namespace ddlsim::topo {

namespace {
constexpr double GBIT = 1e9 / 8;  // bytes/s in one Gb/s
constexpr double GBYTE = 1e9;     // bytes/s in one GB/s
constexpr double US = 1e-6;

// Bandwidths are per direction, the data rate after line coding. Latencies are per link and are
// NOT measurements: they are round defaults (host links of RDMA fabrics ~1 us, Ethernet 2 us,
// NVLink/PCIe 0.5-1 us) to be replaced by `ddlsim calibrate --from-nccl-tests` or inline values.
std::vector<LinkPreset> make_presets()
{
  std::vector<LinkPreset> p{
      {"eth-1", {1 * GBIT, 2 * US}, "IEEE 802.3ab (1000BASE-T): 1 Gb/s"},
      {"eth-10", {10 * GBIT, 2 * US}, "IEEE 802.3ae: 10 Gb/s"},
      {"eth-25", {25 * GBIT, 2 * US}, "IEEE 802.3by: 25 Gb/s"},
      {"eth-40", {40 * GBIT, 2 * US}, "IEEE 802.3ba: 40 Gb/s"},
      {"eth-100", {100 * GBIT, 2 * US}, "IEEE 802.3ba: 100 Gb/s"},
      {"eth-200", {200 * GBIT, 2 * US}, "IEEE 802.3bs: 200 Gb/s"},
      {"eth-400", {400 * GBIT, 2 * US}, "IEEE 802.3bs: 400 Gb/s"},
      {"ib-edr-100", {100 * GBIT, 1 * US}, "InfiniBand EDR 4x: 100 Gb/s (IBTA specification, release 1.3)"},
      {"ib-hdr-200", {200 * GBIT, 1 * US}, "InfiniBand HDR 4x: 200 Gb/s (IBTA specification, release 1.4)"},
      {"ib-ndr-400", {400 * GBIT, 1 * US}, "InfiniBand NDR 4x: 400 Gb/s (IBTA specification, release 1.5)"},
      {"ib-xdr-800", {800 * GBIT, 1 * US}, "InfiniBand XDR 4x: 800 Gb/s (IBTA roadmap)"},
      {"nvlink-2", {150 * GBYTE, 0.5 * US}, "V100 SXM2 datasheet: NVLink 300 GB/s bidirectional per GPU"},
      {"nvlink-3", {300 * GBYTE, 0.5 * US}, "A100 SXM datasheet: NVLink 600 GB/s bidirectional per GPU"},
      {"nvlink-4", {450 * GBYTE, 0.5 * US}, "H100 SXM datasheet: NVLink 900 GB/s bidirectional per GPU"},
      {"nvlink-5", {900 * GBYTE, 0.5 * US}, "B200 datasheet: NVLink 1.8 TB/s bidirectional per GPU"},
      // PCIe x16: lanes * transfer rate * 128/130 coding / 8 bits (PCI-SIG base specifications 3.0, 4.0, 5.0)
      {"pcie-3-x16", {16 * 8.0 * 128 / 130 / 8 * GBYTE, 1 * US}, "PCIe 3.0: 8 GT/s per lane, 128b/130b"},
      {"pcie-4-x16", {16 * 16.0 * 128 / 130 / 8 * GBYTE, 1 * US}, "PCIe 4.0: 16 GT/s per lane, 128b/130b"},
      {"pcie-5-x16", {16 * 32.0 * 128 / 130 / 8 * GBYTE, 1 * US}, "PCIe 5.0: 32 GT/s per lane, 128b/130b"},
  };
  std::sort(p.begin(), p.end(), [](const LinkPreset& a, const LinkPreset& b) { return a.name < b.name; });
  return p;
}
}  // namespace

const std::vector<LinkPreset>& link_presets()
{
  static const std::vector<LinkPreset> presets = make_presets();
  return presets;
}

std::optional<LinkPreset> find_link_preset(std::string_view name)
{
  for (const LinkPreset& p : link_presets())
    if (p.name == name)
      return p;
  return std::nullopt;
}

std::vector<std::string> link_preset_names()
{
  std::vector<std::string> names;
  for (const LinkPreset& p : link_presets())
    names.push_back(p.name);
  return names;
}

}  // namespace ddlsim::topo
