// `nesgd data fetch|verify|list`: explicit dataset management.
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "common.h"
#include "nesgd/data/registry.h"
#include "nesgd/error.h"

namespace nesgd::cli {
namespace {

struct DataState {
  std::string name;
  DataFlags flags;
};

// "30.9 MB", "170.1 MB"
std::string megabytes(uint64_t bytes) { return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6); }

// Each dataset, its download size and where it is found now (the first source
// of the resolution order that holds it), else what the first use would do.
int run_list(const DataState& s) {
  const data::DataOptions options = s.flags.options();
  for (const auto& spec : data::registered_datasets()) {
    std::printf("%-16s %s\n", spec.name.c_str(), spec.description.c_str());
    const uint64_t download = data::download_bytes(spec);
    std::string size = download == 0 ? "no download URL"
                       : spec.derived_from.empty()
                           ? "download " + megabytes(download)
                           : fmt::format("made from {} (download {})", spec.derived_from, megabytes(download));
    std::string found;
    try {
      const data::Located where = data::locate_dataset(spec, options);
      found = fmt::format("found: {} ({})", where.folder, where.origin);
    } catch (const Error&) {
      found = !spec.derived_from.empty() ? "absent: made on first use, or `nesgd data fetch " + spec.name + "`"
              : download != 0            ? "absent: downloaded on first use, or `nesgd data fetch " + spec.name + "`"
                                         : "absent";
    }
    std::printf("%-16s %s; %s\n", "", size.c_str(), found.c_str());
  }
  return 0;
}

int run_fetch(const DataState& s) {
  const auto& spec = data::find_dataset(s.name);
  const std::string folder = data::fetch_dataset(spec, s.flags.options());
  std::printf("%s: ready in %s\n", spec.name.c_str(), folder.c_str());
  return 0;
}

int run_verify(const DataState& s) {
  const auto& spec = data::find_dataset(s.name);
  data::Located where;
  const auto checks = data::verify_dataset(spec, s.flags.options(), &where);
  bool ok = true;
  std::printf("%s in %s (%s)\n", spec.name.c_str(), where.folder.c_str(), where.origin.c_str());
  for (const auto& c : checks) {
    std::printf("  %-4s %-30s %s\n", c.ok ? "ok" : "BAD", c.file.c_str(), c.detail.c_str());
    ok = ok && c.ok;
  }
  if (!ok) std::printf("some files failed: remove them and run `nesgd data fetch %s`\n", spec.name.c_str());
  return ok ? 0 : 1;
}

}  // namespace

Command add_data_command(CLI::App& app) {
  auto state = std::make_shared<DataState>();
  auto* cmd = app.add_subcommand("data", "Fetch, verify or list datasets");
  cmd->require_subcommand(1);
  auto* fetch = cmd->add_subcommand("fetch",
                                    "Download a dataset into the cache (or --data-dir), verifying SHA-256 sums; "
                                    "cifar10-subset is made from cifar10 (downloaded first if absent)");
  auto* verify = cmd->add_subcommand("verify", "Check a dataset's files against the registry's SHA-256 sums");
  auto* list = cmd->add_subcommand(
      "list", "List the known datasets, their download sizes and where each is found now (or that it is absent)");
  for (auto* sub : {fetch, verify}) {
    sub->add_option("dataset", state->name, "Dataset name (see `nesgd data list`)")->required();
  }
  for (auto* sub : {fetch, verify, list}) {
    state->flags.add_to(sub, /*with_layout=*/false);
  }
  return {cmd, [state, fetch, verify, list]() -> int {
            if (fetch->parsed()) return run_fetch(*state);
            if (verify->parsed()) return run_verify(*state);
            if (list->parsed()) return run_list(*state);
            return 2;
          }};
}

}  // namespace nesgd::cli
