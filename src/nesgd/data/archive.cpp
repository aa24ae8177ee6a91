#include "nesgd/data/archive.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include "nesgd/data/sha256.h"
#include "nesgd/durable_write.h"
#include "nesgd/error.h"

#if defined(NESGD_WITH_LIBARCHIVE)
#include <archive.h>
#include <archive_entry.h>
#endif

namespace nesgd::data {

#if defined(NESGD_WITH_LIBARCHIVE)

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kBlock = std::size_t{1} << 20;

using Reader = std::unique_ptr<struct archive, int (*)(struct archive*)>;

// Temporary files written so far; removed unless commit() moved them all into place.
class Staging {
 public:
  void add(std::unique_ptr<DurableFile> file) { files_.push_back(std::move(file)); }
  void commit() {
    for (auto& file : files_) file->commit();
    files_.clear();
  }

 private:
  std::vector<std::unique_ptr<DurableFile>> files_;
};

// Streams the current entry's data to a temporary file beside member.dest.
void write_entry(struct archive* a, const std::string& archive_path, ArchiveMember& member, Staging& staging) {
  auto file = std::make_unique<DurableFile>(member.dest);
  const std::string& tmp = file->path();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(tmp.c_str(), "wb"), &std::fclose);
  if (!out) throw Error(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  auto fail = [&](const std::string& why) -> Error {
    out.reset();
    return Error(why);  // `file` removes the temporary file
  };
  Sha256 hasher;
  std::vector<char> buffer(kBlock);
  uint64_t total = 0;
  for (;;) {
    const la_ssize_t got = archive_read_data(a, buffer.data(), buffer.size());
    if (got < 0) {
      throw fail(fmt::format("{}: corrupt or truncated archive while reading {}: {}", archive_path, member.path,
                             archive_error_string(a) ? archive_error_string(a) : "unknown error"));
    }
    if (got == 0) break;
    // An expected size bounds what is written: a small archive whose member
    // inflates to gigabytes (or never ends) stops here, not on a full disk.
    if (member.bytes != 0 && total + static_cast<uint64_t>(got) > member.bytes) {
      throw fail(fmt::format("{}: member {} holds more than {} bytes: not the official archive", archive_path,
                             member.path, member.bytes));
    }
    if (std::fwrite(buffer.data(), 1, static_cast<std::size_t>(got), out.get()) != static_cast<std::size_t>(got)) {
      throw fail(fmt::format("writing {} failed (disk full?)", tmp));
    }
    hasher.update(buffer.data(), static_cast<std::size_t>(got));
    total += static_cast<uint64_t>(got);
  }
  if (std::fflush(out.get()) != 0) throw fail(fmt::format("writing {} failed (disk full?)", tmp));
  out.reset();
  if (member.bytes != 0 && total != member.bytes) {
    throw fail(fmt::format("{}: member {} holds {} bytes, want {}: not the official archive", archive_path,
                           member.path, total, member.bytes));
  }
  member.sha256 = hasher.hex_digest();
  staging.add(std::move(file));
}

}  // namespace

bool archive_supported() { return true; }

void extract_members(const std::string& archive_path, std::vector<ArchiveMember>& members) {
  Reader a(archive_read_new(), &archive_read_free);
  if (!a) throw Error("libarchive: out of memory");
  // Only the compressions libarchive decodes in process. support_filter_all()
  // would also accept lrzip, lzop or grzip data by running those programs on
  // it: an archive from outside must never make nesgd start a program.
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_bzip2(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), archive_path.c_str(), kBlock) != ARCHIVE_OK) {
    throw Error(fmt::format("{}: cannot open as an archive: {}", archive_path,
                            archive_error_string(a.get()) ? archive_error_string(a.get()) : "unknown error"));
  }
  std::map<std::string, ArchiveMember*> wanted;
  for (auto& m : members) wanted[m.path] = &m;
  std::map<std::string, bool> done;
  Staging staging;  // all members land together, or none does
  struct archive_entry* entry = nullptr;
  for (;;) {
    const int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      throw Error(fmt::format("{}: corrupt or truncated archive: {}", archive_path,
                              archive_error_string(a.get()) ? archive_error_string(a.get()) : "unknown error"));
    }
    std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    if (name.rfind("./", 0) == 0) name = name.substr(2);
    const auto it = wanted.find(name);
    if (it == wanted.end() || done[name]) {
      archive_read_data_skip(a.get());
      continue;
    }
    if (archive_entry_filetype(entry) != AE_IFREG) {
      throw Error(fmt::format("{}: member {} is not a regular file", archive_path, name));
    }
    write_entry(a.get(), archive_path, *it->second, staging);
    done[name] = true;
  }
  std::string missing;
  for (const auto& m : members) {
    if (!done[m.path]) missing += (missing.empty() ? "" : ", ") + m.path;
  }
  if (!missing.empty()) {
    throw Error(fmt::format("{}: archive lacks {}: not the official archive", archive_path, missing));
  }
  staging.commit();
}

#else  // no libarchive

bool archive_supported() { return false; }

void extract_members(const std::string& archive_path, std::vector<ArchiveMember>&) {
  throw Error(archive_path +
              ": this nesgd was built without libarchive, so it cannot unpack archives; unpack it by hand "
              "(e.g. `tar xzf`) into the data folder, or rebuild with libarchive-dev installed");
}

#endif

}  // namespace nesgd::data
