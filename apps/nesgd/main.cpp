// nesgd - command-line front end. Each subcommand lives in its own cmd_*.cpp
// and only parses flags, calls the library and prints.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <exception>
#include <vector>

#include <CLI/CLI.hpp>

#include "common.h"
#include "nesgd/error.h"
#include "nesgd/runtime/memory.h"

namespace {

// "[w1/2] " in a worker of `nesgd sweep --workers 2` (exp/workers.h), so that its error is known as its own.
std::string worker_tag() {
  const char* w = std::getenv("NESGD_SWEEP_WORKER");
  return w ? std::string("[w") + w + "] " : std::string();
}

}  // namespace

int main(int argc, char** argv) {
  nesgd::cli::set_program_arguments(argc, argv);
  // The heap policy before any large buffer exists (nesgd/runtime/memory.h).
  try {
    nesgd::runtime::apply_malloc_policy(nesgd::runtime::malloc_policy_from_environment());
  } catch (const nesgd::Error& e) {
    std::fprintf(stderr, "nesgd: error: %s\n", e.what());
    return 1;
  }
  CLI::App app{
      "nesgd - noise-enhanced SGD (Mori & Ueda, arXiv 2009.13094) on LibTorch.\n"
      "NE replaces the minibatch gradient by alpha*grad L_B + (1-alpha)*grad L_B' with two independent\n"
      "minibatches B, B', enlarging the gradient noise at a fixed batch size. See README.md."};
  app.footer(
      "Environment: NESGD_DATA_DIR (data root), NESGD_MALLOC=retain|default (heap policy: retain, the\n"
      "default, keeps freed memory for reuse instead of page-faulting it in again every step; docs/PERFORMANCE.md).");
  app.require_subcommand(1);
  app.failure_message(nesgd::cli::format_failure);
  app.set_version_flag("--version", std::string("nesgd ") + NESGD_VERSION);

  const std::vector<nesgd::cli::Command> commands{
      nesgd::cli::add_train_command(app),
      nesgd::cli::add_data_command(app),
      nesgd::cli::add_noise_command(app),
      nesgd::cli::add_sweep_command(app),
      nesgd::cli::add_report_command(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (const auto& c : commands) {
      if (c.app->parsed()) return c.run();
    }
  } catch (const nesgd::Error& e) {
    std::fprintf(stderr, "\n%snesgd: error: %s\n", worker_tag().c_str(), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\n%snesgd: internal error: %s\n", worker_tag().c_str(), e.what());
    return 1;
  }
  return 2;
}
