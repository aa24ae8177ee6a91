#include "nesgd/data/resolve.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pwd.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "nesgd/data/archive.h"
#include "nesgd/data/cifar.h"
#include "nesgd/data/cifar_subset.h"
#include "nesgd/data/download.h"
#include "nesgd/data/idx.h"
#include "nesgd/data/sha256.h"
#include "nesgd/durable_write.h"
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

// Archive datasets: `fetch` writes the SHA-256 of every file it unpacked from
// the verified archive here, so later checks can compare whole contents even
// though no per-file sums are published.
constexpr const char* kManifestName = "SHA256SUMS";

// The sum recorded for `name` in folder/SHA256SUMS ("<hex>  <name>" lines), or "".
std::string manifest_sum(const fs::path& folder, const std::string& name) {
  std::FILE* f = std::fopen((folder / kManifestName).c_str(), "r");
  if (f == nullptr) {
    return "";
  }
  std::string found;
  char line[1024];
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
      text.pop_back();
    }
    const auto space = text.find("  ");
    if (space == 64 && text.substr(space + 2) == name) {
      found = text.substr(0, space);
    }
  }
  std::fclose(f);
  return found;
}

// The sum a file must have: the registry's, else the unpack manifest's, else "" (size only).
std::string expected_sum(const fs::path& folder, const DatasetFile& file) {
  return content_sum(file).empty() ? manifest_sum(folder, file.name) : content_sum(file);
}

// Checks one present file: by SHA-256 where a sum is known, else by size.
// Never throws for a bad file; `detail` says what was found.
bool check_content(const std::string& path, const DatasetFile& file, std::string* detail) {
  const fs::path folder = fs::path(path).parent_path();
  const std::string want = expected_sum(folder, file);
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  std::string d;
  bool ok = false;
  try {
    if (want.empty()) {
      ok = !ec && (file.bytes == 0 || size == file.bytes);
      d = ok ? fmt::format("size ok ({} bytes; no published checksum for this file)", size)
             : fmt::format("size {} bytes, want {}", size, file.bytes);
    } else {
      const std::string got = content_sha256(path);
      ok = got == want;
      const std::string source = content_sum(file).empty() ? " (against SHA256SUMS written when unpacking)"
                                 : ends_with(path, ".gz")  ? " (decompressed)"
                                                           : "";
      d = ok ? "sha256 ok" + source : fmt::format("sha256 mismatch: got {}, want {}{}", got, want, source);
    }
  } catch (const Error& e) {
    ok = false;
    d = std::string("unreadable: ") + e.what();
  }
  if (detail != nullptr) {
    *detail = d;
  }
  return ok;
}

bool has_content(const std::string& path, const DatasetFile& file) { return check_content(path, file, nullptr); }

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

// "run `nesgd data fetch X`, " where X can be downloaded or derived; nothing otherwise.
std::string fetch_hint(const DatasetSpec& spec, const std::string& data_dir = "") {
  if (!spec.derived_from.empty()) {
    return data_dir.empty()
               ? fmt::format("run `nesgd data fetch {}` (made from {}, downloaded first if absent), ", spec.name,
                             spec.derived_from)
               : fmt::format("run `nesgd data fetch {} --data-dir {}` to make it there from {}, or ", spec.name,
                             data_dir, spec.derived_from);
  }
  if (spec.base_url.empty()) {
    return "";
  }
  return data_dir.empty() ? fmt::format("run `nesgd data fetch {}`, ", spec.name)
                          : fmt::format("run `nesgd data fetch {} --data-dir {}` to download it there, or ",
                                        spec.name, data_dir);
}

// Walks the roots in the documented order. Records every place looked at in
// `looked`; an explicitly named root without the dataset is an error (unless
// `lenient`: then the search goes on, as it does for a derived dataset's
// source). With `accept_partial` a folder missing some files counts (verify
// reports them).
std::optional<Located> search(const DatasetSpec& spec, const DataOptions& options, std::vector<std::string>& looked,
                              bool accept_partial = false, bool lenient = false) {
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
    if (lenient) {
      return std::nullopt;
    }
    if (missing_files(spec, root).empty()) {
      throw Error(
          fmt::format("{} not found where {} points: {}. {} itself holds the {} files: point {} at its parent "
                      "folder {} instead",
                      spec.name, origin, looked.back(), root, spec.name, origin, parent_folder(root)));
    }
    throw Error(
        fmt::format("{} not found where {} points: {}. Fix: {}point {} at the folder that holds {}/",
                    spec.name, origin, looked.back(), fetch_hint(spec, root), origin, spec.folder));
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
  text += fmt::format("\nFix: {}pass --data-dir DIR with the files in DIR/{}/, set NESGD_DATA_DIR=DIR{}.",
                      fetch_hint(spec), spec.folder, install_hint(spec));
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

void say(const DataOptions& options, const std::string& line) {
  if (options.report.message) options.report.message(line);
}

// The download's progress callback, forwarding to the report (none if it has none).
std::function<void(uint64_t, uint64_t)> progress_of(const DataOptions& options, const std::string& file) {
  if (!options.report.progress) return {};
  return [report = options.report.progress, file](uint64_t got, uint64_t total) { report(file, got, total); };
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

// True when `folder` already holds every file of `spec` with the registry's content (said
// through the report): an archive or a derivation then has nothing to do.
bool folder_complete(const DatasetSpec& spec, const DataOptions& options, const fs::path& folder) {
  for (const auto& file : spec.files) {
    const std::string existing = find_file(folder, file);
    if (existing.empty() || !has_content(existing, file)) return false;
  }
  say(options, fmt::format("  {}: all {} files present and valid", folder.string(), spec.files.size()));
  return true;
}

// Archive datasets (CIFAR): if any file is missing or bad, get the archive
// (an already present copy in the root with the right SHA-256, else a
// verified download), unpack the registered files into root/<folder>/, record
// their sums in SHA256SUMS, and delete the archive if we downloaded it.
std::string fetch_archive(const DatasetSpec& spec, const DataOptions& options, const fs::path& root,
                          const std::string& base) {
  const fs::path folder = root / spec.folder;
  if (folder_complete(spec, options, folder)) return folder.string();
  const std::string unpack_hint = fmt::format("unpack {} by hand (`tar xzf {} -C {}`) so that {} holds the files",
                                              spec.archive.name, spec.archive.name, root.string(), folder.string());
  if (!archive_supported()) {
    throw Error("this nesgd was built without libarchive and cannot unpack " + spec.archive.name + ": " + unpack_hint);
  }
  const fs::path archive = root / spec.archive.name;
  bool downloaded = false;
  std::error_code ec;
  if (fs::is_regular_file(archive, ec) && sha256_file(archive.string()) == spec.archive.sha256) {
    say(options, fmt::format("  {}: present, sha256 ok", archive.string()));
  } else {
    if (base.empty()) {
      throw Error(fmt::format("{} has no download URL; place {} in {} or {}", spec.name, spec.archive.name,
                              root.string(), unpack_hint));
    }
    if (!download_supported()) {
      throw Error(fmt::format("this nesgd was built without download support; place {} in {} and run the fetch "
                              "again, or {}",
                              spec.archive.name, root.string(), unpack_hint));
    }
    DownloadOptions download;
    download.expected_bytes = spec.archive.bytes;
    download.expected_sha256 = spec.archive.sha256;
    const std::string url = join_url(base, spec.archive.name);
    say(options, fmt::format("downloading {} -> {}", url, archive.string()));
    download.progress = progress_of(options, spec.archive.name);
    try {
      download_verified(url, archive.string(), download);
    } catch (const Error& e) {
      const std::string env_hint = spec.mirror_env.empty() ? "" : " (or set " + spec.mirror_env + ")";
      throw Error(fmt::format("{} A mirror given with --mirror{} must serve the official {}.", e.what(), env_hint,
                              spec.archive.name));
    }
    downloaded = true;
    say(options, fmt::format("  {}: {}, sha256 ok", spec.archive.name, size_text(spec.archive.bytes)));
  }

  std::vector<ArchiveMember> members;
  for (const auto& file : spec.files) {
    members.push_back({spec.folder + "/" + file.name, (folder / file.name).string(), file.bytes, ""});
  }
  extract_members(archive.string(), members);
  std::string manifest = fmt::format("# SHA-256 of the files nesgd unpacked from {} (sha256 {})\n",
                                     spec.archive.name, spec.archive.sha256);
  for (const auto& m : members) {
    manifest += m.sha256 + "  " + fs::path(m.dest).filename().string() + "\n";
  }
  const fs::path manifest_path = folder / kManifestName;
  try {
    write_file_durable(manifest_path.string(), manifest);
  } catch (const Error&) {
    // Best effort: the manifest only speeds up later checks; the files are in place.
  }
  say(options, fmt::format("  unpacked {} files into {}", members.size(), folder.string()));
  if (downloaded) {
    fs::remove(archive, ec);
  }
  return folder.string();
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(path + ": cannot open");
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    throw Error(path + ": read error");
  }
  return bytes;
}

// The selection rule of a derived dataset, applied to its source's files.
std::vector<DerivedFile> derive_files(const DatasetSpec& spec,
                                      const std::function<std::string(const std::string&)>& source_file) {
  if (spec.name == "cifar10-subset") {
    return select_cifar10_subset(source_file("data_batch_1.bin"), source_file("test_batch.bin"));
  }
  throw Error(spec.name + ": no rule to derive it from " + spec.derived_from);
}

// Derived datasets (cifar10-subset): if any file is missing or bad, find the
// source dataset in any root (fetched into `root` first if absent and
// downloads are allowed), read and check its files as load_dataset would,
// apply the selection, check every result against the registry's SHA-256,
// and only then write the files into root/<folder>/ and a SHA256SUMS
// manifest. A source that is not the official data writes nothing.
std::string fetch_derived(const DatasetSpec& spec, const DataOptions& options, const fs::path& root) {
  const fs::path folder = root / spec.folder;
  if (folder_complete(spec, options, folder)) return folder.string();
  const DatasetSpec& source = find_dataset(spec.derived_from);
  std::vector<std::string> looked;
  std::optional<Located> from = search(source, options, looked, /*accept_partial=*/false, /*lenient=*/true);
  if (!from) {
    if (!options.allow_download) {
      std::string text = fmt::format("{} is made from {}, which was not found either. Looked for {} in:",
                                     spec.name, source.name, source.name);
      for (const auto& place : looked) {
        text += "\n  " + place;
      }
      throw Error(text + fmt::format("\nDownloading was not allowed. Fix: run `nesgd data fetch {}` (downloads {}, {}), "
                                     "or, with {} in DIR/{}/, `nesgd data fetch {} --data-dir DIR`",
                                     spec.name, source.name, size_text(download_bytes(source)), source.name,
                                     source.folder, spec.name));
    }
    say(options, fmt::format("{} is made from {}, which is not here yet: fetching it first", spec.name,
                             source.name));
    from = Located{fetch_dataset(source, options), "downloaded"};
  }
  say(options, fmt::format("deriving {} from {} ({})", spec.name, from->folder, from->origin));
  const std::string fix = fmt::format("Fix: delete {} and run `nesgd data fetch {}`", from->folder, source.name);
  auto source_file = [&](const std::string& name) {
    for (const auto& file : source.files) {
      if (file.name != name) {
        continue;
      }
      const std::string path = find_file(from->folder, file);
      if (path.empty()) {
        throw Error(fmt::format("{}: {} is missing. {}", from->folder, name, fix));
      }
      std::string bytes = read_whole_file(path);
      const std::string want = expected_sum(from->folder, file);
      if (file.bytes != 0 && bytes.size() != file.bytes) {
        throw Error(fmt::format("{}: {} bytes, want {}: not the official {} file. {}", path, bytes.size(), file.bytes,
                                source.name, fix));
      }
      if (!want.empty() && sha256_bytes(bytes) != want) {
        throw Error(fmt::format("{}: SHA-256 is {}, want {}: the file is corrupt. {}", path, sha256_bytes(bytes), want,
                                fix));
      }
      return bytes;
    }
    throw Error(fmt::format("{}: registry has no file {}", source.name, name));
  };
  const std::vector<DerivedFile> derived = derive_files(spec, source_file);
  std::string manifest = fmt::format("# SHA-256 of the files nesgd derived from {} (cifar_subset.h's rule)\n",
                                     source.name);
  for (const auto& d : derived) {
    const auto entry = std::find_if(spec.files.begin(), spec.files.end(),
                                    [&](const DatasetFile& f) { return f.name == d.name; });
    const std::string got = sha256_bytes(d.content);
    if (entry == spec.files.end() || (!entry->sha256.empty() && got != entry->sha256)) {
      throw Error(fmt::format(
          "{} made from {} gives {} with SHA-256 {}, want {}: that {} is not the official data, so nothing was "
          "written. {}",
          spec.name, from->folder, d.name, got, entry == spec.files.end() ? "(not registered)" : entry->sha256,
          source.name, fix));
    }
    manifest += got + "  " + d.name + "\n";
  }
  fs::create_directories(folder);
  for (const auto& d : derived) {
    write_file_durable((folder / d.name).string(), d.content);
  }
  write_file_durable((folder / kManifestName).string(), manifest);
  say(options, fmt::format("  wrote {} files into {}, sha256 ok", derived.size(), folder.string()));
  return folder.string();
}

// Reads the CIFAR splits: every registered .bin file whose name starts with
// "test" is test data, the other .bin files (in registry order) training data.
void read_cifar_splits(const DatasetSpec& spec, const Located& where, bool verify, DatasetSplits& splits) {
  const CifarVariant variant = spec.format == DataFormat::kCifar10 ? CifarVariant::kCifar10 : CifarVariant::kCifar100;
  for (const auto& file : spec.files) {
    if (!ends_with(file.name, ".bin")) {
      continue;
    }
    const std::string path = find_file(where.folder, file);
    if (path.empty()) {
      throw Error(fmt::format("{}: {} is missing; {}see `nesgd data verify {}`", where.folder, file.name,
                              fetch_hint(spec), spec.name));
    }
    CifarReadResult part = read_cifar(path, variant);
    if (verify) {
      const std::string want = expected_sum(where.folder, file);
      if (file.bytes != 0 && part.bytes != file.bytes) {
        throw Error(fmt::format("{}: {} bytes, want {}: not the official {} file. Fix: delete it and {}", path,
                                part.bytes, file.bytes, spec.name, fetch_hint(spec).empty()
                                                                       ? "restore it from its source"
                                                                       : "run `nesgd data fetch " + spec.name + "`"));
      }
      if (!want.empty() && part.sha256 != want) {
        throw Error(fmt::format("{}: SHA-256 is {}, want {}: the file is corrupt or not the official {} data. Fix: "
                                "delete it and {}",
                                path, part.sha256, want, spec.name,
                                fetch_hint(spec).empty() ? "restore it from its source"
                                                         : "run `nesgd data fetch " + spec.name + "`"));
      }
    }
    part.images.num_classes = spec.num_classes;
    append_images(file.name.rfind("test", 0) == 0 ? splits.test : splits.train, part.images);
  }
  if (splits.train.n == 0 || splits.test.n == 0) {
    throw Error(spec.name + ": registry lists no training or no test .bin file");
  }
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
  if (!spec.derived_from.empty()) {
    return fetch_derived(spec, options, fs::path(fetch_root(options)));
  }
  const std::string base = download_base(spec, options);
  if (!spec.archive.name.empty()) {
    return fetch_archive(spec, options, fs::path(fetch_root(options)), base);
  }
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
      say(options, fmt::format("  {}: present, sha256 ok", existing));
      continue;
    }
    const std::string url = join_url(base, file.name);
    const std::string dest = (folder / file.name).string();
    DownloadOptions download;
    download.expected_bytes = file.bytes;
    download.expected_sha256 = file.sha256;
    say(options, fmt::format("downloading {} -> {}", url, dest));
    download.progress = progress_of(options, file.name);
    try {
      download_verified(url, dest, download);
    } catch (const Error& e) {
      const std::string env_hint = spec.mirror_env.empty() ? "" : " (or set " + spec.mirror_env + ")";
      throw Error(fmt::format("{} A mirror given with --mirror{} must serve the official {} files.", e.what(), env_hint,
                              spec.name));
    }
    say(options, fmt::format("  {}: {}, sha256 ok", file.name, size_text(file.bytes)));
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
      check.ok = check_content(path, file, &check.detail);
    }
    checks.push_back(check);
  }
  return checks;
}

DatasetSplits load_dataset(const std::string& name, const DataOptions& options) {
  if (is_numpy_dataset(name)) {
    return load_numpy_dataset(name.substr(std::string(kNumpyDatasetPrefix).size()), options.layout);
  }
  const DatasetSpec& spec = find_dataset(name);
  std::vector<std::string> looked;
  std::optional<Located> where = search(spec, options, looked);
  if (!where && !spec.derived_from.empty()) {
    // Made on first use from its source (no download when the source is here).
    try {
      where = Located{fetch_dataset(spec, options), "cache, derived from " + spec.derived_from};
    } catch (const Error& e) {
      std::string text = spec.name + " not found. Looked in:";
      for (const auto& place : looked) {
        text += "\n  " + place;
      }
      throw Error(text + "\n" + e.what());
    }
  }
  if (!where) {
    if (!options.allow_download || download_base(spec, options).empty()) {
      throw not_found(spec, options, looked);
    }
    where = Located{fetch_dataset(spec, options), "cache, downloaded"};
  }
  DatasetSplits splits;
  splits.name = spec.name;
  splits.source = fmt::format("{} ({})", where->folder, where->origin);
  if (spec.format == DataFormat::kCifar10 || spec.format == DataFormat::kCifar100) {
    read_cifar_splits(spec, *where, options.verify, splits);
    return splits;
  }
  if (!is_idx_dataset(spec)) {
    throw Error(spec.name + ": no reader for this dataset's format");
  }
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
