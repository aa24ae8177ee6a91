// `nesgd report`: a result store turned into the paper's tables and figures.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>

#include "common.h"
#include "nesgd/error.h"
#include "nesgd/exp/store.h"
#include "nesgd/report/render.h"

namespace nesgd::cli {
namespace {

struct ReportState {
  std::string store;
  report::ReportOptions options;
  bool no_figures = false;
};

int run(ReportState& s) {
  namespace fs = std::filesystem;
  if (!fs::exists(fs::path(s.store) / "store.json")) {
    throw Error("no nesgd result store at " + s.store + " (no store.json): run `nesgd sweep ... --store " + s.store +
                "` first, or check the path");
  }
  exp::ResultStore store(s.store);
  // The flattened exports are derived: rebuild them so they match runs/ exactly.
  try {
    store.write_exports();
  } catch (const Error& e) {
    std::fprintf(stderr, "warning: could not refresh %s/runs.csv: %s\n", s.store.c_str(), e.what());
  }
  const auto records = store.load_results();
  const auto sweeps = store.sweeps();
  if (s.options.title == report::ReportOptions{}.title) {
    std::string names;
    std::set<std::string> seen;
    for (const auto& sw : sweeps) {
      const std::string name = sw.value("name", std::string("?"));
      if (seen.insert(name).second) names += (names.empty() ? "" : ", ") + name;
    }
    if (!names.empty()) s.options.title = "nesgd report: " + names;
  }
  s.options.figures = !s.no_figures;
  const auto out = report::write_report(records, sweeps, s.options);
  for (const auto& w : out.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  std::printf("report: %zu runs, %zu points -> %s/index.html (%zu files%s)\n", out.runs, out.points,
              s.options.out_dir.c_str(), out.files.size(), out.figures_drawn ? ", figures by gnuplot" : ", no figures");
  return 0;
}

}  // namespace

Command add_report_command(CLI::App& app) {
  auto state = std::make_shared<ReportState>();
  auto* cmd = app.add_subcommand("report", "Turn a result store into the paper's tables and figures");
  cmd->footer(
      "Writes summary.csv (mean, std and 95 % t interval over seeds per config, B, alpha, with run counts),\n"
      "table2/table3 as Markdown and CSV (the paper's values beside ours), table2-tests/table3-tests (differences\n"
      "with 95 % intervals and t-test p-values: paired by seed where seeds are shared, else Welch; against the\n"
      "paper by Welch), figures 1-3 and every point's training-loss curves as SVG and PNG (gnuplot), report.md\n"
      "and index.html.\n"
      "Also refreshes STORE/runs.csv and STORE/runs.jsonl. Example:\n"
      "  nesgd report --store runs/f1-quick --out docs/results/f1-quick");
  cmd->add_option("--store", state->store, "Result store folder written by `nesgd sweep`")->required();
  cmd->add_option("--out,-o", state->options.out_dir, "Folder for the report (created)")->required();
  cmd->add_option("--title", state->options.title, "Page title (default: the sweeps in the store)");
  cmd->add_option("--gnuplot", state->options.gnuplot, "gnuplot program (default: $NESGD_GNUPLOT, then PATH)");
  cmd->add_flag("--no-figures", state->no_figures, "Skip the figures (no gnuplot needed)");
  return {cmd, [state] { return run(*state); }};
}

}  // namespace nesgd::cli
