// nesgd/csv.h - one CSV field, RFC 4180 style (pandas.read_csv reads it as is).
#pragma once

#include <string>

namespace nesgd {

// `field` as it stands in a CSV line: quoted when it holds a comma, a double
// quote or a line break, with its double quotes doubled; else unchanged.
inline std::string csv_field(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string quoted = "\"";
  for (char c : field) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace nesgd
