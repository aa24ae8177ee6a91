#include "nesgd/data/download.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#ifdef NESGD_WITH_CURL
#include <curl/curl.h>
#endif

#include "nesgd/data/sha256.h"
#include "nesgd/error.h"

namespace nesgd::data {
namespace {

constexpr const char* kFix =
    "Fix: check the network and the URL, pass --mirror BASE_URL to use another server, or download the file by "
    "hand and place it in the dataset folder under --data-dir.";

// The temporary `<dest>.part-XXXXXX`: deleted on every path except commit(),
// so a failed or interrupted download never leaves a plausible-looking file.
class PartFile {
 public:
  explicit PartFile(const std::string& dest) {
    std::vector<char> name(dest.begin(), dest.end());
    const std::string suffix = ".part-XXXXXX";
    name.insert(name.end(), suffix.begin(), suffix.end());
    name.push_back('\0');
    fd_ = ::mkstemp(name.data());
    if (fd_ < 0) {
      throw Error(
          fmt::format("cannot create a temporary file beside {}: {}. Fix: choose a writable folder with "
                      "--data-dir, or set XDG_CACHE_HOME",
                      dest, std::strerror(errno)));
    }
    path_ = name.data();
    ::fchmod(fd_, 0644);  // mkstemp makes 0600; the data is not secret
  }
  ~PartFile() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    if (!path_.empty()) {
      ::unlink(path_.c_str());
    }
  }
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // fsync before rename: otherwise a crash can leave `dest` named but empty.
  void commit(const std::string& dest) {
    if (::fsync(fd_) != 0 || ::close(fd_) != 0) {
      fd_ = -1;
      throw Error(fmt::format("cannot write {}: {}", path_, std::strerror(errno)));
    }
    fd_ = -1;
    if (std::rename(path_.c_str(), dest.c_str()) != 0) {
      throw Error(fmt::format("cannot rename {} to {}: {}", path_, dest, std::strerror(errno)));
    }
    path_.clear();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

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

  PartFile part(dest);
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) {
    throw Error("cannot download " + url + ": libcurl failed to initialise");
  }
  Transfer transfer;
  transfer.curl = curl.get();
  transfer.fd = part.fd();
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
      problem = fmt::format("cannot write {}: {}", part.path(), transfer.write_error);
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
  part.commit(dest);
#endif
}

}  // namespace nesgd::data
