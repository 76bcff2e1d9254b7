#include "sim/scenario/json_structure.hpp"

#include "sim/scenario/error.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <vector>

namespace ddlsim::scenario {

namespace {

/// An object or array being scanned: its JSON path, its keys so far (object) or the index of the
/// element being read (array).
struct Frame {
  bool object;
  std::string path;
  std::map<std::string, std::size_t> keys;  ///< key -> byte offset of its first occurrence
  std::string key;                          ///< the key whose value is being read
  bool expect_key = true;
  std::size_t index = 0;
};

std::string escape_token(const std::string& key)
{
  std::string out;
  for (char c : key)
    out += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
  return out;
}

class Scanner {
public:
  Scanner(const std::string& text, const std::string& file) : text_(text), file_(file) {}

  void run()
  {
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == '{' || c == '[')
        open(c == '{');
      else if (c == '}' || c == ']') {
        if (stack_.empty())
          return;  // malformed: the parser says where
        stack_.pop_back();
        ++i_;
      } else if (c == ',') {
        if (stack_.empty())
          return;
        if (stack_.back().object)
          stack_.back().expect_key = true;
        else
          ++stack_.back().index;
        ++i_;
      } else if (c == ':') {
        if (!stack_.empty())
          stack_.back().expect_key = false;
        ++i_;
      } else if (c == '"')
        string();
      else if (c == '-' || (c >= '0' && c <= '9'))
        number();
      else
        ++i_;  // white space, true, false, null, or what the parser will reject
    }
  }

private:
  std::string where(std::size_t byte) const { return line_column(text_, byte); }

  /// The JSON path of the value that starts here.
  std::string value_path() const
  {
    if (stack_.empty())
      return "";
    const Frame& f = stack_.back();
    return f.path + "/" + (f.object ? escape_token(f.key) : std::to_string(f.index));
  }

  [[noreturn]] void fail(const std::string& path, const std::string& message) const
  {
    throw ScenarioError(file_, path.empty() ? "/" : path, message);
  }

  void open(bool object)
  {
    if (stack_.size() >= MAX_JSON_DEPTH)
      fail(value_path(), fmt::format("nesting deeper than {} levels at {}; expected at most {} (objects and arrays "
                                     "within each other)",
                                     MAX_JSON_DEPTH, where(i_), MAX_JSON_DEPTH));
    stack_.push_back({object, value_path(), {}, {}, true, 0});
    ++i_;
  }

  void string()
  {
    const std::size_t start = i_++;
    while (i_ < text_.size() && text_[i_] != '"')
      i_ += text_[i_] == '\\' ? 2 : 1;
    const std::string raw = text_.substr(start + 1, std::min(i_, text_.size()) - start - 1);
    ++i_;
    if (stack_.empty() || !stack_.back().object || !stack_.back().expect_key)
      return;
    Frame& f = stack_.back();
    f.key = raw;
    f.expect_key = false;
    const auto [it, inserted] = f.keys.emplace(raw, start);
    if (!inserted)
      fail(f.path, fmt::format("key '{}' appears twice in this object, at {} and again at {}; expected each key once "
                               "(a JSON reader would keep only one of them)",
                               raw, where(it->second), where(start)));
  }

  void number()
  {
    const std::size_t start = i_;
    while (i_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[i_])) || text_[i_] == '-' ||
                                 text_[i_] == '+' || text_[i_] == '.' || text_[i_] == 'e' || text_[i_] == 'E'))
      ++i_;
    const std::string token = text_.substr(start, i_ - start);
    errno = 0;
    const double v = std::strtod(token.c_str(), nullptr);
    if (std::isinf(v))
      fail(value_path(), fmt::format("found the number {} at {}, which overflows a double; expected a number of "
                                     "magnitude at most 1.8e308",
                                     token, where(start)));
  }

  const std::string& text_;
  const std::string& file_;
  std::size_t i_ = 0;
  std::vector<Frame> stack_;
};

}  // namespace

std::string line_column(const std::string& text, std::size_t byte)
{
  std::size_t line = 1, column = 1;
  for (std::size_t k = 0; k < byte && k < text.size(); ++k) {
    if (text[k] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return fmt::format("line {}, column {}", line, column);
}

void check_json_structure(const std::string& text, const std::string& file)
{
  Scanner(text, file).run();
}

}  // namespace ddlsim::scenario
