#pragma once
// The one reader of input JSON. Every accessor knows its file and JSON path, so every error says
// where it is, what was found and what was expected. Never operator[] on input elsewhere.
#include "sim/scenario/units.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ddlsim::scenario {

/// The largest input file ddlsim reads (scenario, sweep, profile, calibration, log): 64 MiB.
inline constexpr std::uint64_t MAX_INPUT_BYTES = 64ull << 20;

/// Parses `path` as JSON; throws ScenarioError for a missing file or malformed JSON (with line and
/// column), and for what check_json_structure refuses (duplicate keys, deep nesting, overflow).
nlohmann::json read_json_file(const std::string& path);
/// The bytes of a regular file of at most MAX_INPUT_BYTES; a ScenarioError naming it otherwise
/// (missing, unreadable, a folder, a FIFO, a device, too large).
std::string read_text_file(const std::string& path);
/// Writes `text` to path.tmp, then renames it over `path`, so no reader sees half a file;
/// SimulationError when either fails.
void write_file_atomically(const std::string& path, const std::string& text);
/// Parses `text` (named `file` in messages); throws ScenarioError with line and column.
nlohmann::json parse_json_text(const std::string& text, const std::string& file);

/// "3", "'abc'", "an object", ...: how a found value is named in messages.
std::string describe_json(const nlohmann::json& value);

enum class Bound { any, positive, non_negative };

class JsonNode {
public:
  JsonNode(const nlohmann::json& value, std::string file, std::string path)
      : value_(&value), file_(std::move(file)), path_(std::move(path))
  {
  }

  const std::string& file() const { return file_; }
  /// RFC 6901 pointer of this node: "" for the root, "/cluster/nodes".
  const std::string& path() const { return path_; }
  const nlohmann::json& raw() const { return *value_; }
  std::string path_or_root() const { return path_.empty() ? "/" : path_; }

  [[noreturn]] void fail(const std::string& message) const;

  bool is_object() const { return value_->is_object(); }
  bool is_string() const { return value_->is_string(); }
  bool has(std::string_view key) const;
  /// Throws unless this is an object whose keys are all in `known` (listed in the message).
  void allow_keys(std::initializer_list<std::string_view> known) const;

  JsonNode child(std::string_view key) const;  ///< required
  std::optional<JsonNode> optional_child(std::string_view key) const;
  JsonNode element(std::size_t index) const;
  std::size_t array_size() const;  ///< throws unless an array

  // Values of this node.
  std::string as_string() const;
  long long as_integer(long long min) const;
  /// A whole number from `min` up to the largest int (counts, shapes, ranks); larger ones fail.
  int as_int(int min) const;
  double as_number(Bound bound) const;
  bool as_bool() const;
  double as_quantity(Dimension dim, Bound bound) const;
  /// Index of this node's string in `names`; the error lists them.
  std::size_t as_choice(const std::vector<std::string_view>& names) const;

  // Shorthands for members: `key` required, or `fallback` when absent.
  std::string string(std::string_view key) const { return child(key).as_string(); }
  long long integer(std::string_view key, long long min) const { return child(key).as_integer(min); }
  long long integer_or(std::string_view key, long long fallback, long long min) const;
  int int_value(std::string_view key, int min) const { return child(key).as_int(min); }
  int int_or(std::string_view key, int fallback, int min) const { return has(key) ? child(key).as_int(min) : fallback; }
  double number_or(std::string_view key, double fallback, Bound bound) const;
  bool boolean_or(std::string_view key, bool fallback) const;
  double quantity(std::string_view key, Dimension dim, Bound bound) const { return child(key).as_quantity(dim, bound); }
  double quantity_or(std::string_view key, Dimension dim, double fallback, Bound bound) const;
  std::size_t choice_or(std::string_view key, const std::vector<std::string_view>& names, std::size_t fallback) const;

private:
  const nlohmann::json* value_;
  std::string file_;
  std::string path_;
};

/// "a, b, c" from a list of names.
std::string join_names(const std::vector<std::string>& names);

}  // namespace ddlsim::scenario
