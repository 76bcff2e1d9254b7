#pragma once
// `ddlsim predict`: a single-GPU iteration of a zoo model predicted from a GPU profile's
// roofline (calib::predict_iteration), next to the bounds it sits above.
#include <nlohmann/json.hpp>

#include <string>

namespace ddlsim::cli {

struct PredictRequest {
  std::string model;
  int sequence = 0;  ///< 0: the model's default
  int batch = 32;
  std::string precision = "fp32";
  std::string profile;                     ///< a shipped name or a path ending in .json
  std::string fusion = "none";             ///< calib::Fusion by name
  std::string attention = "materialized";  ///< or "flash" (model::flash_attention)
};

/// The prediction as JSON (seconds; per layer kind; the profile's measured iteration when it has
/// one). Throws ScenarioError for an unknown model or profile, a dtype the GPU lacks.
nlohmann::json predict(const PredictRequest& request);

/// The prediction as the readable summary `ddlsim predict` prints.
std::string predict_text(const nlohmann::json& prediction);

}  // namespace ddlsim::cli
