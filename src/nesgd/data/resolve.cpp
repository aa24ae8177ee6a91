#include "nesgd/data/resolve.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pwd.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "nesgd/data/download.h"
#include "nesgd/data/idx.h"
#include "nesgd/data/sha256.h"
#include "nesgd/error.h"

namespace nesgd::data {
namespace fs = std::filesystem;
namespace {

// MNIST-style IDX datasets hold 28x28 grey images.
constexpr uint32_t kIdxImageSide = 28;

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A dataset folder may hold a file as distributed or already decompressed;
// the official name is tried first.
std::string find_file(const fs::path& folder, const DatasetFile& file) {
  std::vector<std::string> names = {file.name};
  if (ends_with(file.name, ".gz")) {
    names.push_back(file.name.substr(0, file.name.size() - 3));
  }
  std::error_code ec;
  for (const auto& name : names) {
    if (fs::is_regular_file(folder / name, ec)) {
      return (folder / name).string();
    }
  }
  return "";
}

std::vector<std::string> missing_files(const DatasetSpec& spec, const fs::path& folder) {
  std::vector<std::string> missing;
  for (const auto& file : spec.files) {
    if (find_file(folder, file).empty()) {
      missing.push_back(file.name);
    }
  }
  return missing;
}

// The SHA-256 a file must have once decompressed: this identifies the data
// whatever gzip header (or none) it was stored with.
const std::string& content_sum(const DatasetFile& file) {
  return file.raw_sha256.empty() ? file.sha256 : file.raw_sha256;
}

std::string content_sha256(const std::string& path) {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> gz(gzopen(path.c_str(), "rb"), &gzclose);
  if (!gz) {
    throw Error(path + ": cannot open");
  }
  Sha256 hasher;
  std::vector<char> buffer(1 << 20);
  int got = 0;
  while ((got = gzread(gz.get(), buffer.data(), static_cast<unsigned>(buffer.size()))) > 0) {
    hasher.update(buffer.data(), static_cast<std::size_t>(got));
  }
  int errnum = Z_OK;
  const char* message = gzerror(gz.get(), &errnum);
  if (errnum != Z_OK) {
    throw Error(fmt::format("{}: gzip data is corrupt or truncated ({})", path, message));
  }
  return hasher.hex_digest();
}

bool has_content(const std::string& path, const DatasetFile& file) {
  try {
    return content_sha256(path) == content_sum(file);
  } catch (const Error&) {
    return false;
  }
}

std::string size_text(uint64_t bytes) {
  return bytes >= 1000000 ? fmt::format("{:.1f} MB", bytes / 1e6) : fmt::format("{:.1f} kB", bytes / 1e3);
}

std::string join_url(const std::string& base, const std::string& name) {
  return ends_with(base, "/") ? base + name : base + "/" + name;
}

std::string parent_folder(const std::string& folder) {
  fs::path path = fs::absolute(folder).lexically_normal();
  if (path.filename().empty()) {  // "a/b/" names b, not an empty entry in it
    path = path.parent_path();
  }
  return path.parent_path().string();
}

std::string install_hint(const DatasetSpec& spec) {
  return spec.system_dirs.empty() ? "" : fmt::format(", or `apt install dataset-{}`", spec.folder);
}

// Walks the roots in the documented order. Records every place looked at in
// `looked`; an explicitly named root without the dataset is an error. With
// `accept_partial` a folder missing some files counts (verify reports them).
std::optional<Located> search(const DatasetSpec& spec, const DataOptions& options, std::vector<std::string>& looked,
                              bool accept_partial = false) {
  auto try_folder = [&](const fs::path& folder, const std::string& origin) -> std::optional<std::string> {
    std::error_code ec;
    std::string problem;
    if (!fs::is_directory(folder, ec)) {
      problem = "no such folder";
    } else if (auto missing = missing_files(spec, folder); !missing.empty() && !accept_partial) {
      problem = fmt::format("missing {}", fmt::join(missing, ", "));
    } else {
      return fs::absolute(folder, ec).lexically_normal().string();
    }
    looked.push_back(fmt::format("{} ({}): {}", folder.string(), origin, problem));
    return std::nullopt;
  };
  auto explicit_root = [&](const std::string& root, const std::string& origin) -> std::optional<Located> {
    if (root.empty()) {
      return std::nullopt;
    }
    if (auto folder = try_folder(fs::path(root) / spec.folder, origin)) {
      return Located{*folder, origin};
    }
    if (missing_files(spec, root).empty()) {
      throw Error(
          fmt::format("{} not found where {} points: {}. {} itself holds the {} files: point {} at its parent "
                      "folder {} instead",
                      spec.name, origin, looked.back(), root, spec.name, origin, parent_folder(root)));
    }
    throw Error(
        fmt::format("{} not found where {} points: {}. Fix: run `nesgd data fetch {} --data-dir {}` to "
                    "download it there, or point {} at the folder that holds {}/",
                    spec.name, origin, looked.back(), spec.name, root, origin, spec.folder));
  };

  if (auto found = explicit_root(options.data_dir, "--data-dir")) {
    return found;
  }
  if (options.use_environment) {
    if (auto found = explicit_root(env_or_empty("NESGD_DATA_DIR"), "NESGD_DATA_DIR")) {
      return found;
    }
  }
  if (options.use_system_dirs) {
    for (const auto& dir : spec.system_dirs) {
      if (auto folder = try_folder(dir, "system package")) {
        return Located{*folder, "system package"};
      }
    }
  }
  try {
    const std::string cache = options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
    if (auto folder = try_folder(fs::path(cache) / spec.folder, "cache")) {
      return Located{*folder, "cache"};
    }
  } catch (const Error& e) {
    looked.push_back(std::string("cache: ") + e.what());
  }
  return std::nullopt;
}

Error not_found(const DatasetSpec& spec, const DataOptions& options, const std::vector<std::string>& looked) {
  std::string text = spec.name + " not found. Looked in:";
  for (const auto& place : looked) {
    text += "\n  " + place;
  }
  if (!options.allow_download) {
    text += "\nDownloading was not allowed.";
  }
  text += fmt::format(
      "\nFix: run `nesgd data fetch {}`, pass --data-dir DIR with the files in DIR/{}/, set NESGD_DATA_DIR=DIR{}.",
      spec.name, spec.folder, install_hint(spec));
  return Error(text);
}

// The root that fetch_dataset fills: where load_dataset will look first.
std::string fetch_root(const DataOptions& options) {
  if (!options.data_dir.empty()) {
    return options.data_dir;
  }
  if (options.use_environment && !env_or_empty("NESGD_DATA_DIR").empty()) {
    return env_or_empty("NESGD_DATA_DIR");
  }
  return options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
}

std::string download_base(const DatasetSpec& spec, const DataOptions& options) {
  if (!options.mirror.empty()) {
    return options.mirror;
  }
  if (options.use_environment && !spec.mirror_env.empty() && !env_or_empty(spec.mirror_env.c_str()).empty()) {
    return env_or_empty(spec.mirror_env.c_str());
  }
  return spec.base_url;
}

// Redraws one status line on a terminal; says nothing when stderr is a file,
// so logs get only the start and end lines.
std::function<void(uint64_t, uint64_t)> progress_line(const std::string& name) {
  if (::isatty(STDERR_FILENO) == 0) {
    return {};
  }
  auto last = std::make_shared<uint64_t>(UINT64_MAX);
  return [name, last](uint64_t got, uint64_t total) {
    const uint64_t step = total > 0 ? 100 * got / total : got >> 20;
    if (step == *last) {
      return;
    }
    *last = step;
    std::fprintf(stderr, "\r  %s: %.1f / %.1f MB", name.c_str(), got / 1e6, total / 1e6);
    std::fflush(stderr);
  };
}

struct IdxPart {
  std::string path;
  IdxArray array;
};

IdxPart read_part(const DatasetSpec& spec, const Located& where, const std::string& prefix, bool verify) {
  for (const auto& file : spec.files) {
    if (file.name.rfind(prefix, 0) != 0) {
      continue;
    }
    const std::string path = find_file(where.folder, file);
    if (path.empty()) {
      throw Error(fmt::format("{}: {} is missing; run `nesgd data fetch {}`", where.folder, file.name, spec.name));
    }
    IdxReadResult result = read_idx(path);
    if (verify && result.sha256_raw != content_sum(file)) {
      throw Error(fmt::format(
          "{}: SHA-256 of the decompressed content is {}, want {}: the file is corrupt or not the official {} data. "
          "Fix: delete it and run `nesgd data fetch {}` (for a system package folder, reinstall the package)",
          path, result.sha256_raw, content_sum(file), spec.name, spec.name));
    }
    return {path, std::move(result.array)};
  }
  throw Error(spec.name + ": registry has no file starting with " + prefix);
}

ImageSet make_image_set(IdxPart images, IdxPart labels, int64_t num_classes) {
  const auto& d = images.array.dims;
  if (d.size() != 3 || d[1] != kIdxImageSide || d[2] != kIdxImageSide) {
    throw Error(fmt::format("{}: dims {}, expected N x {} x {} images", images.path, fmt::join(d, " x "), kIdxImageSide,
                            kIdxImageSide));
  }
  if (labels.array.dims.size() != 1) {
    throw Error(fmt::format("{}: dims {}, expected one dimension (N labels)", labels.path,
                            fmt::join(labels.array.dims, " x ")));
  }
  if (labels.array.dims[0] != d[0]) {
    throw Error(fmt::format("count mismatch: {} holds {} images but {} holds {} labels", images.path, d[0], labels.path,
                            labels.array.dims[0]));
  }
  ImageSet set;
  set.n = d[0];
  set.channels = 1;
  set.height = d[1];
  set.width = d[2];
  set.num_classes = num_classes;
  set.labels.resize(labels.array.data.size());
  for (std::size_t i = 0; i < labels.array.data.size(); ++i) {
    const int64_t label = labels.array.data[i];
    if (label >= num_classes) {
      throw Error(fmt::format("{}: label {} at index {} is out of range [0, {})", labels.path, label, i, num_classes));
    }
    set.labels[i] = label;
  }
  set.images = std::move(images.array.data);
  return set;
}

bool is_idx_dataset(const DatasetSpec& spec) {
  for (const auto& file : spec.files) {
    if (file.name.find("-idx") == std::string::npos) {
      return false;
    }
  }
  return !spec.files.empty();
}

}  // namespace

std::string default_cache_dir() {
  const std::string xdg = env_or_empty("XDG_CACHE_HOME");
  if (!xdg.empty() && fs::path(xdg).is_absolute()) {  // the XDG spec says to ignore relative paths
    return (fs::path(xdg) / "nesgd").string();
  }
  std::string home = env_or_empty("HOME");
  if (home.empty()) {
    if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
      home = pw->pw_dir;
    }
  }
  if (home.empty()) {
    throw Error("cannot find a cache folder: neither XDG_CACHE_HOME nor HOME is set; pass --data-dir");
  }
  return (fs::path(home) / ".cache" / "nesgd").string();
}

Located locate_dataset(const DatasetSpec& spec, const DataOptions& options) {
  std::vector<std::string> looked;
  if (auto found = search(spec, options, looked)) {
    return *found;
  }
  throw not_found(spec, options, looked);
}

std::string fetch_dataset(const DatasetSpec& spec, const DataOptions& options) {
  const fs::path folder = fs::path(fetch_root(options)) / spec.folder;
  const std::string base = download_base(spec, options);
  if (base.empty()) {
    throw Error(fmt::format("{} has no download URL; place its files by hand in {}", spec.name, folder.string()));
  }
  if (!download_supported()) {
    throw Error(fmt::format("this nesgd was built without download support; place the {} files by hand in {}",
                            spec.name, folder.string()));
  }
  for (const auto& file : spec.files) {
    const std::string existing = find_file(folder, file);
    if (!existing.empty() && has_content(existing, file)) {
      if (!options.quiet) {
        std::fprintf(stderr, "  %s: present, sha256 ok\n", existing.c_str());
      }
      continue;
    }
    const std::string url = join_url(base, file.name);
    const std::string dest = (folder / file.name).string();
    DownloadOptions download;
    download.expected_bytes = file.bytes;
    download.expected_sha256 = file.sha256;
    if (!options.quiet) {
      std::fprintf(stderr, "downloading %s -> %s\n", url.c_str(), dest.c_str());
      download.progress = progress_line(file.name);
    }
    try {
      download_verified(url, dest, download);
    } catch (const Error& e) {
      if (!options.quiet && download.progress) {
        std::fputc('\n', stderr);
      }
      const std::string env_hint = spec.mirror_env.empty() ? "" : " (or set " + spec.mirror_env + ")";
      throw Error(fmt::format("{} A mirror given with --mirror{} must serve the official {} files.", e.what(), env_hint,
                              spec.name));
    }
    if (!options.quiet) {
      std::fprintf(stderr, "%s  %s: %s, sha256 ok\n", download.progress ? "\n" : "", file.name.c_str(),
                   size_text(file.bytes).c_str());
    }
    // An invalid decompressed copy would otherwise sit beside the good file.
    if (!existing.empty() && existing != dest) {
      std::error_code ec;
      fs::remove(existing, ec);
    }
  }
  return folder.string();
}

std::vector<FileCheck> verify_dataset(const DatasetSpec& spec, const DataOptions& options, Located* where) {
  // A complete folder first (what load_dataset would read), else the first
  // partial one, so that missing files are reported rather than thrown.
  std::vector<std::string> looked;
  std::optional<Located> found;
  try {
    found = search(spec, options, looked);
  } catch (const Error&) {  // an explicit root lacks files: the second pass reports which
  }
  if (!found) {
    std::vector<std::string> ignored;
    found = search(spec, options, ignored, /*accept_partial=*/true);
  }
  if (!found) {
    throw not_found(spec, options, looked);
  }
  const Located located = *found;
  if (where != nullptr) {
    *where = located;
  }
  std::vector<FileCheck> checks;
  for (const auto& file : spec.files) {
    FileCheck check;
    const std::string path = find_file(located.folder, file);
    check.file = path.empty() ? file.name : fs::path(path).filename().string();
    if (path.empty()) {
      check.detail = "missing";
    } else {
      try {
        const std::string got = content_sha256(path);
        check.ok = got == content_sum(file);
        check.detail = check.ok ? (ends_with(path, ".gz") ? "sha256 ok (decompressed)" : "sha256 ok")
                                : fmt::format("sha256 mismatch: got {}, want {}", got, content_sum(file));
      } catch (const Error& e) {
        check.detail = std::string("unreadable: ") + e.what();
      }
    }
    checks.push_back(check);
  }
  return checks;
}

DatasetSplits load_dataset(const std::string& name, const DataOptions& options) {
  const DatasetSpec& spec = find_dataset(name);
  std::vector<std::string> looked;
  std::optional<Located> where = search(spec, options, looked);
  if (!where) {
    if (!options.allow_download || download_base(spec, options).empty()) {
      throw not_found(spec, options, looked);
    }
    where = Located{fetch_dataset(spec, options), "cache, downloaded"};
  }
  if (!is_idx_dataset(spec)) {
    throw Error(spec.name + ": no reader for this dataset's format");
  }
  DatasetSplits splits;
  splits.name = spec.name;
  splits.source = fmt::format("{} ({})", where->folder, where->origin);
  // One at a time, in registry order, so that errors name files predictably.
  auto read_split = [&](const std::string& prefix) {
    IdxPart images = read_part(spec, *where, prefix + "-images", options.verify);
    IdxPart labels = read_part(spec, *where, prefix + "-labels", options.verify);
    return make_image_set(std::move(images), std::move(labels), spec.num_classes);
  };
  splits.train = read_split("train");
  splits.test = read_split("t10k");
  return splits;
}

}  // namespace nesgd::data
