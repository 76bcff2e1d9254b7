#include "sim/scenario/json_reader.hpp"

#include "sim/scenario/error.hpp"
#include "sim/scenario/json_structure.hpp"

#include <sys/stat.h>

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace ddlsim::scenario {

namespace {

std::string escape_pointer_token(std::string_view key)
{
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string bound_text(Bound bound)
{
  switch (bound) {
  case Bound::positive: return "greater than zero";
  case Bound::non_negative: return "zero or more";
  case Bound::any: return "";
  }
  return "";
}

void check_bound(const JsonNode& node, double value, Bound bound)
{
  if (std::isnan(value) || std::isinf(value))
    node.fail(fmt::format("found {}; expected a finite value", describe_json(node.raw())));
  const bool ok =
      bound == Bound::any || (bound == Bound::positive && value > 0) || (bound == Bound::non_negative && value >= 0);
  if (!ok)
    node.fail(fmt::format("found {}; expected a value {}", describe_json(node.raw()), bound_text(bound)));
}

}  // namespace

nlohmann::json parse_json_text(const std::string& text, const std::string& file)
{
  check_json_structure(text, file);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann's message starts with "[json.exception.parse_error.101] parse error at line L, column C: ".
    std::string reason = e.what();
    if (const auto colon = reason.find(": "); colon != std::string::npos && reason.find("parse error") < colon)
      reason = reason.substr(colon + 2);
    const std::size_t byte = e.byte > 0 ? e.byte - 1 : 0;
    throw ScenarioError(file, "", fmt::format("malformed JSON at {}: {}", line_column(text, byte), reason));
  } catch (const nlohmann::json::exception& e) {  // what check_json_structure did not foresee
    throw ScenarioError(file, "", fmt::format("unreadable JSON: {}", e.what()));
  }
}

std::string read_text_file(const std::string& path)
{
  // Checked before opening: a FIFO would block the open, a device such as /dev/zero never ends.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw ScenarioError(path, "", fmt::format("cannot open the file: {}", std::strerror(errno)));
  if (!S_ISREG(st.st_mode))
    throw ScenarioError(path, "",
                        fmt::format("found {}; expected a regular file", S_ISDIR(st.st_mode)    ? "a folder"
                                                                         : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                                                                         : S_ISCHR(st.st_mode)  ? "a character device"
                                                                                                : "a special file"));
  if (static_cast<std::uint64_t>(st.st_size) > MAX_INPUT_BYTES)
    throw ScenarioError(
        path, "",
        fmt::format("the file is {} bytes; input files are at most {} bytes (64 MiB)", st.st_size, MAX_INPUT_BYTES));
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ScenarioError(path, "", "cannot open the file (does it exist and is it readable?)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

nlohmann::json read_json_file(const std::string& path)
{
  return parse_json_text(read_text_file(path), path);
}

void write_file_atomically(const std::string& path, const std::string& text)
{
  const std::string tmp = path + ".tmp";
  std::error_code ec;
  {
    errno = 0;
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.flush();
    if (!f) {
      const std::string reason = errno ? std::strerror(errno) : "write failed";
      std::filesystem::remove(tmp, ec);
      throw SimulationError("cannot write " + path + ": " + reason);
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    const std::string reason = ec.message();
    std::filesystem::remove(tmp, ec);
    throw SimulationError("cannot write " + path + ": " + reason);
  }
}

std::string describe_json(const nlohmann::json& value)
{
  if (value.is_string())
    return fmt::format("'{}'", value.get<std::string>());
  if (value.is_object())
    return "an object";
  if (value.is_array())
    return "an array";
  if (value.is_null())
    return "null";
  return value.dump();
}

std::string join_names(const std::vector<std::string>& names)
{
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

void JsonNode::fail(const std::string& message) const
{
  throw ScenarioError(file_, path_or_root(), message);
}

bool JsonNode::has(std::string_view key) const
{
  return value_->is_object() && value_->contains(key);
}

void JsonNode::allow_keys(std::initializer_list<std::string_view> known) const
{
  if (!value_->is_object())
    fail(fmt::format("found {}; expected an object", describe_json(*value_)));
  for (const auto& [key, v] : value_->items()) {
    bool found = false;
    for (auto k : known)
      found = found || k == key;
    if (!found) {
      std::vector<std::string> names(known.begin(), known.end());
      throw ScenarioError(file_, path_ + "/" + escape_pointer_token(key),
                          fmt::format("unknown key '{}'; expected one of: {}", key, join_names(names)));
    }
  }
}

JsonNode JsonNode::child(std::string_view key) const
{
  if (!value_->is_object())
    fail(fmt::format("found {}; expected an object", describe_json(*value_)));
  const auto it = value_->find(key);
  if (it == value_->end())
    fail(fmt::format("missing required key '{}'", key));
  return JsonNode(*it, file_, path_ + "/" + escape_pointer_token(key));
}

std::optional<JsonNode> JsonNode::optional_child(std::string_view key) const
{
  if (!has(key))
    return std::nullopt;
  return child(key);
}

std::size_t JsonNode::array_size() const
{
  if (!value_->is_array())
    fail(fmt::format("found {}; expected an array", describe_json(*value_)));
  return value_->size();
}

JsonNode JsonNode::element(std::size_t index) const
{
  if (index >= array_size())
    fail(fmt::format("no element {}", index));
  return JsonNode((*value_)[index], file_, path_ + "/" + std::to_string(index));
}

std::string JsonNode::as_string() const
{
  if (!value_->is_string())
    fail(fmt::format("found {}; expected a string", describe_json(*value_)));
  return value_->get<std::string>();
}

long long JsonNode::as_integer(long long min) const
{
  const bool integral = value_->is_number_integer() ||
                        (value_->is_number_float() && std::floor(value_->get<double>()) == value_->get<double>());
  if (!integral)
    fail(fmt::format("found {}; expected a whole number of at least {}", describe_json(*value_), min));
  const double v = value_->get<double>();
  if (v < double(min) || v > 9.0e15)
    fail(fmt::format("found {}; expected a whole number of at least {}", describe_json(*value_), min));
  return static_cast<long long>(v);
}

int JsonNode::as_int(int min) const
{
  const long long v = as_integer(min);
  if (v > std::numeric_limits<int>::max())
    fail(fmt::format("found {}; expected a whole number from {} to {}", describe_json(*value_), min,
                     std::numeric_limits<int>::max()));
  return static_cast<int>(v);
}

double JsonNode::as_number(Bound bound) const
{
  if (!value_->is_number())
    fail(fmt::format("found {}; expected a number", describe_json(*value_)));
  const double v = value_->get<double>();
  check_bound(*this, v, bound);
  return v;
}

bool JsonNode::as_bool() const
{
  if (!value_->is_boolean())
    fail(fmt::format("found {}; expected true or false", describe_json(*value_)));
  return value_->get<bool>();
}

double JsonNode::as_quantity(Dimension dim, Bound bound) const
{
  if (!value_->is_string())
    fail(fmt::format("found {}; expected {}", describe_json(*value_), expected_form(dim)));
  const auto v = parse_quantity(value_->get<std::string>(), dim);
  if (!v)
    fail(fmt::format("found {}; expected {}", describe_json(*value_), expected_form(dim)));
  check_bound(*this, *v, bound);
  return *v;
}

std::size_t JsonNode::as_choice(const std::vector<std::string_view>& names) const
{
  const std::string s = as_string();
  std::size_t i = 0;
  for (auto n : names) {
    if (n == s)
      return i;
    ++i;
  }
  std::vector<std::string> list(names.begin(), names.end());
  fail(fmt::format("found '{}'; expected one of: {}", s, join_names(list)));
}

long long JsonNode::integer_or(std::string_view key, long long fallback, long long min) const
{
  return has(key) ? child(key).as_integer(min) : fallback;
}

double JsonNode::number_or(std::string_view key, double fallback, Bound bound) const
{
  return has(key) ? child(key).as_number(bound) : fallback;
}

bool JsonNode::boolean_or(std::string_view key, bool fallback) const
{
  return has(key) ? child(key).as_bool() : fallback;
}

double JsonNode::quantity_or(std::string_view key, Dimension dim, double fallback, Bound bound) const
{
  return has(key) ? child(key).as_quantity(dim, bound) : fallback;
}

std::size_t JsonNode::choice_or(std::string_view key, const std::vector<std::string_view>& names,
                                std::size_t fallback) const
{
  return has(key) ? child(key).as_choice(names) : fallback;
}

}  // namespace ddlsim::scenario
