// nesgd/data/download.h - verified download: temp file -> checksum -> rename.
//
// A download never leaves a file that looks valid unless it is: bytes go to a
// temporary file in the destination folder (durable_write.h), the size and
// SHA-256 are checked, and only then is the file renamed onto `dest`.
// On any failure the temporary file is removed and nesgd::Error is thrown.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace nesgd::data {

struct DownloadOptions {
  uint64_t expected_bytes = 0;   // 0: do not check the size
  std::string expected_sha256;   // required, lowercase hex
  long timeout_seconds = 600;    // whole transfer
  // Called with (bytes so far, total or 0) as data arrives; may be empty.
  std::function<void(uint64_t, uint64_t)> progress;
};

// Downloads `url` to `dest` with verification. Throws nesgd::Error.
void download_verified(const std::string& url, const std::string& dest, const DownloadOptions& options);

// True if this build can download (it was built with libcurl).
bool download_supported();

}  // namespace nesgd::data
