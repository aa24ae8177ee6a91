#include "nesgd/data/download.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#ifdef NESGD_WITH_CURL
#include <curl/curl.h>
#endif

#include "nesgd/data/sha256.h"
#include "nesgd/durable_write.h"
#include "nesgd/error.h"

namespace nesgd::data {
namespace {

constexpr const char* kFix =
    "Fix: check the network and the URL, pass --mirror BASE_URL to use another server, or download the file by "
    "hand and place it in the dataset folder under --data-dir.";

#ifdef NESGD_WITH_CURL
struct Transfer {
  CURL* curl = nullptr;
  int fd = -1;
  const DownloadOptions* options = nullptr;
  Sha256 hasher;
  uint64_t bytes = 0;
  bool too_big = false;
  std::string write_error;
};

// Returning less than asked makes curl abort the transfer.
size_t on_data(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  const uint64_t expected = t.options->expected_bytes;
  if (expected > 0 && t.bytes + n > expected) {
    t.too_big = true;  // not the file we want; stop before it fills the disk
    return 0;
  }
  for (size_t done = 0; done < n;) {
    const ssize_t w = ::write(t.fd, data + done, n - done);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      t.write_error = std::strerror(errno);
      return 0;
    }
    done += static_cast<size_t>(w);
  }
  t.hasher.update(data, n);
  t.bytes += n;
  if (t.options->progress) {
    curl_off_t length = -1;
    curl_easy_getinfo(t.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    t.options->progress(t.bytes, expected > 0 ? expected : (length > 0 ? static_cast<uint64_t>(length) : 0));
  }
  return n;
}
#endif

}  // namespace

bool download_supported() {
#ifdef NESGD_WITH_CURL
  return true;
#else
  return false;
#endif
}

void download_verified(const std::string& url, const std::string& dest, const DownloadOptions& options) {
  if (options.expected_sha256.size() != 64) {
    throw Error("download_verified " + url +
                ": expected_sha256 must be 64 hex digits; refusing an unverified download");
  }
#ifndef NESGD_WITH_CURL
  throw Error(
      fmt::format("cannot download {}: this nesgd was built without libcurl. Fix: download the file by hand "
                  "to {} (or into the dataset folder under --data-dir)",
                  url, dest));
#else
  const std::filesystem::path parent = std::filesystem::path(dest).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      throw Error(fmt::format("cannot create folder {}: {}. Fix: choose a writable folder with --data-dir",
                              parent.string(), ec.message()));
    }
  }
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!curl_ready) {
    throw Error("cannot download " + url + ": libcurl failed to initialise");
  }

  // The temporary file is removed on every path but commit(), so a failed or
  // interrupted download never leaves a plausible-looking file.
  std::optional<DurableFile> part;
  try {
    part.emplace(dest);
  } catch (const Error& e) {
    throw Error(fmt::format("{}. Fix: choose a writable folder with --data-dir, or set XDG_CACHE_HOME", e.what()));
  }
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) {
    throw Error("cannot download " + url + ": libcurl failed to initialise");
  }
  Transfer transfer;
  transfer.curl = curl.get();
  transfer.fd = part->fd();
  transfer.options = &options;
  char curl_error[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);  // HTTP >= 400 is an error, not a body to save
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_error);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, options.timeout_seconds);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled server fails after a minute instead of waiting for the whole timeout.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "nesgd");

  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    std::string problem;
    if (transfer.too_big) {
      problem =
          fmt::format("the server sent more than the expected {} bytes (a different file?)", options.expected_bytes);
    } else if (!transfer.write_error.empty()) {
      problem = fmt::format("cannot write {}: {}", part->path(), transfer.write_error);
    } else if (rc == CURLE_HTTP_RETURNED_ERROR) {
      problem = fmt::format("HTTP status {}{}", status, status == 404 ? " (not found on this server)" : "");
    } else {
      problem = curl_error[0] != '\0' ? curl_error : curl_easy_strerror(rc);
    }
    throw Error(fmt::format("download of {} failed: {}. {}", url, problem, kFix));
  }
  if (options.expected_bytes > 0 && transfer.bytes != options.expected_bytes) {
    throw Error(
        fmt::format("download of {} failed: got {} bytes, expected {} (truncated transfer or a different "
                    "file). {}",
                    url, transfer.bytes, options.expected_bytes, kFix));
  }
  const std::string got = transfer.hasher.hex_digest();
  if (got != options.expected_sha256) {
    throw Error(fmt::format("download of {} failed: SHA-256 mismatch: got {}, want {} (corrupt or different file). {}",
                            url, got, options.expected_sha256, kFix));
  }
  part->commit();
#endif
}

}  // namespace nesgd::data
