// nesgd/error.h - the one exception type the library throws for bad input.
//
// Every message names the problem and, where there is one, the fix ("... run
// `nesgd data fetch fashion-mnist` or pass --data-dir"). Callers (the CLI)
// print `what()` and exit non-zero; nothing here prints or exits by itself.
#pragma once

#include <stdexcept>
#include <string>

namespace nesgd {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace nesgd
