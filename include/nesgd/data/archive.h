// nesgd/data/archive.h - safe extraction of named members from a .tar.gz (libarchive).
//
// Datasets shipped as one archive (CIFAR's tar.gz) are unpacked here, in
// process, never through a shell. Only the members asked for are written, each
// to a path the caller chose (an archive cannot place files anywhere else:
// no path traversal, no links), through a temporary file and a rename
// (durable_write.h), with its size checked when the caller knows it. Everything else in the
// archive is skipped. Torch-free; available when built with libarchive.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nesgd::data {

struct ArchiveMember {
  std::string path;     // path inside the archive, e.g. "cifar-10-batches-bin/data_batch_1.bin"
  std::string dest;     // where to write it
  uint64_t bytes = 0;   // expected size; 0: do not check
  std::string sha256;   // filled in by extract_members: SHA-256 of what was written
};

// True if this build can extract archives (it was built with libarchive).
bool archive_supported();

// Extracts every member of `members` from `archive_path` (a tar file, plain or
// compressed with gzip, bzip2 or xz; no other program is ever run). Throws
// nesgd::Error for an unreadable archive, a member that is missing, not a
// regular file or of the wrong size (writing stops as soon as a member passes
// its expected size); on error no destination file is written at all.
void extract_members(const std::string& archive_path, std::vector<ArchiveMember>& members);

}  // namespace nesgd::data
