// nesgd/exp/toml.h - nesgd's own reader of TOML text, for sweep files (torch-free).
//
// Reads TOML 1.0 (https://toml.io/en/v1.0.0) except dates and times, which
// have no meaning in a sweep file, and returns the equivalent JSON: tables
// become objects, arrays arrays, integers int64, floats doubles (inf and nan
// included), strings UTF-8. It is nesgd's own because toml++ 3.3, the version
// Debian 12 ships, has undefined behaviour on malformed input (found by
// fuzzing: "[=", "[[[1]]]", "a = [}]", and two bytes of a non-ASCII letter,
// "\xCA\xB5"), which no switch turns off. This reader is strict: anything TOML
// 1.0 does not allow (a duplicate key, a table defined twice, an unknown
// escape, an unterminated string, a control character, invalid UTF-8, an
// integer beyond 64 bits, a leading zero, ...) is an nesgd::Error
// "ORIGIN: invalid TOML at line L, column C: what", columns counted in
// characters. It must never read outside the text, recurse without bound
// (arrays, inline tables and tables nest at most kMaxTomlDepth deep), throw
// anything but nesgd::Error, or return a string that is not valid UTF-8; the
// fuzz target sweep_toml checks all of this under AddressSanitizer and
// UndefinedBehaviorSanitizer (docs/FUZZING.md).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace nesgd::exp {

// How deep tables, arrays and inline tables may nest below the document (a
// sweep file needs two or three levels); deeper is an error, not a recursion.
constexpr int kMaxTomlDepth = 64;

// Converts TOML text to the equivalent JSON object. `origin` (the file's path)
// starts every error message.
nlohmann::json toml_to_json(const std::string& text, const std::string& origin);

}  // namespace nesgd::exp
