// Helpers shared by the data-layer tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <memory>
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

// The CIFAR-10 subset (../shared/data beside the checkout, else $NESGD_DATA_DIR), its
// test set cut to `test_images`; null (the test skips) where none is present.
inline std::unique_ptr<data::DatasetSplits> cifar10_subset(int64_t test_images) {
  data::DataOptions o;
  o.allow_download = false;
  if (std::filesystem::exists(std::filesystem::path(NESGD_SHARED_DATA) / "cifar-10-subset")) {
    o.data_dir = NESGD_SHARED_DATA;
  }
  try {
    auto d = std::make_unique<data::DatasetSplits>(data::load_dataset("cifar10-subset", o));
    d->test.truncate(test_images);
    return d;
  } catch (const Error& e) {
    std::cerr << "no CIFAR-10 subset: " << e.what() << "\n";
    return nullptr;
  }
}

}  // namespace nesgd::testing
