#pragma once
// What nlohmann's parser lets through or fails on without a JSON path: keys given twice in one
// object (it keeps the last), nesting deep enough to exhaust the stack of recursive code that
// walks the document, and numbers beyond a double's range (a raw out_of_range exception).
// Checked on the text before it is parsed, with the JSON path and line and column of each.
#include <cstddef>
#include <string>

namespace ddlsim::scenario {

/// Deepest nesting of objects and arrays an input file may have (shipped files nest 6 deep).
inline constexpr std::size_t MAX_JSON_DEPTH = 64;

/// "line L, column C" of byte `byte` of `text`, as messages about a file's text give it.
std::string line_column(const std::string& text, std::size_t byte);

/// Throws ScenarioError (file, JSON path, what was found, what was expected) for a duplicate key,
/// nesting deeper than MAX_JSON_DEPTH, or a number that overflows a double. Text that is not
/// well-formed JSON is left to the parser, which reports it with its line and column.
void check_json_structure(const std::string& text, const std::string& file);

}  // namespace ddlsim::scenario
