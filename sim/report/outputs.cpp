#include "sim/report/outputs.hpp"

#include "sim/report/summary.hpp"
#include "sim/scenario/error.hpp"
#include "sim/scenario/json_reader.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

namespace ddlsim::report {

using scenario::SimulationError;

std::string collective_csv(const nlohmann::json& report)
{
  std::string out = "size_B,count,time_us,algbw_GBps,busbw_GBps,algorithm\n";
  for (const auto& row : report.at("results"))
    out += fmt::format("{:.0f},{:.0f},{},{},{},{}\n", row.at("size_bytes").get<double>(), row.at("count").get<double>(),
                       row.at("time_us").get<double>(), row.at("algbw_GBps").get<double>(),
                       row.at("busbw_GBps").get<double>(), row.at("algorithm").get<std::string>());
  return out;
}

void write_outputs(const scenario::Scenario& s, const RunResult& result, const std::string& dir)
{
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw SimulationError("cannot create the output folder " + dir + ": " + ec.message());
  // Each file is written under a temporary name and renamed: none is left half-written.
  auto write = [&](const std::string& name, const std::string& text) {
    scenario::write_file_atomically((std::filesystem::path(dir) / name).string(), text);
  };
  write("report.json", result.report.dump(2) + "\n");
  write("summary.txt", summary_text(s, result.report));
  if (s.kind == scenario::WorkloadKind::collective)
    write("results.csv", collective_csv(result.report));
  if (!result.links_csv.empty())
    write("links.csv", result.links_csv);
  if (!result.trace.is_null())
    write("trace.json", result.trace.dump());
}

}  // namespace ddlsim::report
