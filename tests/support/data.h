// Helpers shared by the data-layer tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nesgd/data/resolve.h"
#include "nesgd/error.h"

namespace nesgd::testing {

// Runs `body`, which must throw nesgd::Error whose message holds every fragment.
template <typename Body>
void expect_error(Body body, const std::vector<std::string>& fragments) {
  try {
    body();
    ADD_FAILURE() << "no nesgd::Error thrown";
  } catch (const nesgd::Error& e) {
    const std::string message = e.what();
    for (const auto& fragment : fragments) {
      EXPECT_NE(message.find(fragment), std::string::npos) << "missing '" << fragment << "' in: " << message;
    }
  }
}

// Options that see only what a test sets up, never this machine's folders or environment.
inline data::DataOptions isolated_options() {
  data::DataOptions options;
  options.use_environment = false;
  options.use_system_dirs = false;
  options.allow_download = false;
  return options;
}

}  // namespace nesgd::testing
