// nesgd/text.h - the small text edits that readers of names and lists share:
// trimming white space and lowering ASCII letters (locale-independent).
#pragma once

#include <cctype>
#include <string>

namespace nesgd {

// `s` without leading and trailing white space.
inline std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

// `s` with its ASCII letters in lower case ("F1" -> "f1").
inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace nesgd
