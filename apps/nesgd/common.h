// Shared pieces of the CLI: data flags, train flags, atomic file writes,
// signal-driven stop, progress lines. The CLI only parses and prints; behaviour
// lives in the library.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "nesgd/data/resolve.h"
#include "nesgd/train/run_config.h"
#include "nesgd/train/trainer.h"

namespace nesgd::cli {

// A subcommand: its CLI11 node and what to run when it was parsed.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// Each subcommand registers itself on the top-level app (one file each).
Command add_train_command(CLI::App& app);
Command add_data_command(CLI::App& app);
Command add_noise_command(CLI::App& app);
Command add_sweep_command(CLI::App& app);
Command add_report_command(CLI::App& app);

// Checks for numeric flags whose failure reads as one sentence, e.g.
// "--batch-size must be a positive integer" (CLI11's own range checks print
// their limits as 300-digit numbers). They judge the text before it is
// converted, so "abc" or "1.5" for an integer flag get the same sentence.
// `note` is appended in parentheses, e.g. "0 = measured default".
CLI::Validator positive_integer();
CLI::Validator non_negative_integer(const std::string& note = "");
CLI::Validator positive_number();
CLI::Validator non_negative_number(const std::string& note = "");
CLI::Validator finite_number();
CLI::Validator number_in_unit_interval(bool zero_allowed);  // (0, 1) or [0, 1)

// How `nesgd` reports a command-line error: "nesgd: error: <one sentence>"
// and where help is ("--batch-size must be a positive integer", "--batch-size
// needs a value"); installed on the top-level app (main.cpp).
std::string format_failure(const CLI::App* app, const CLI::Error& e);

struct DataFlags {
  std::string data_dir;
  std::string mirror;
  bool offline = false;
  std::string layout = "auto";  // --layout of npz: datasets

  // `with_layout`: also --layout (commands that load data: train, sweep, noise).
  void add_to(CLI::App* app, bool with_layout = true);
  // With the data layer's report printed on stderr, unless `quiet`.
  data::DataOptions options(bool quiet = false) const;
};

// Prints the data layer's lines on stderr and, on a terminal, redraws one
// progress line per download.
data::DataReport stderr_data_report();

// Flags of `nesgd train` that define a RunConfig (reused by sweep).
// loss_measure is parsed into config by finish_train_options.
void add_train_options(CLI::App* cmd, train::RunConfig& config, std::string& loss_measure);
void finish_train_options(train::RunConfig& config, const std::string& loss_measure);

// One progress line (exp/progress.h words it) on stderr. On a terminal the
// line rewrites the previous one (and stays, ending in a newline, when
// end_line); elsewhere each call prints one line.
void print_progress_line(const std::string& line, bool tty, bool end_line);

// The command line as main() received it (argv[0] first), for commands that
// start copies of themselves (sweep --workers).
void set_program_arguments(int argc, char** argv);
const std::vector<std::string>& program_arguments();

// SIGINT/SIGTERM: the first asks running work to stop cleanly (stop_requested()
// turns true), the second exits at once with status 130.
void install_stop_handlers();
bool stop_requested();

}  // namespace nesgd::cli
