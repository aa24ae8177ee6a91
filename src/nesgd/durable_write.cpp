#include "nesgd/durable_write.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "nesgd/error.h"

namespace nesgd {
namespace fs = std::filesystem;

namespace {

std::string errno_text() { return std::strerror(errno); }

fs::path folder_of(const fs::path& target) { return target.has_parent_path() ? target.parent_path() : fs::path("."); }

void fsync_folder(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: some file systems refuse to open folders
  ::fsync(fd);
  ::close(fd);
}

void write_all(int fd, std::string_view bytes, const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error("writing " + path + " failed: " + errno_text() + " (disk full?)");
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace

DurableFile::DurableFile(std::string target) : target_(std::move(target)) {
  const fs::path t(target_);
  if (t.filename().empty()) throw Error("cannot write " + target_ + ": not a file name");
  const fs::path dir = folder_of(t);
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string pattern = (dir / ("." + t.filename().string() + ".tmp-XXXXXX")).string();
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  fd_ = ::mkstemp(name.data());
  if (fd_ < 0) {
    throw Error("cannot write " + target_ + ": cannot create a temporary file in " + dir.string() + " (" +
                errno_text() + "); check that the folder is writable");
  }
  path_ = name.data();
  ::fchmod(fd_, 0644);  // mkstemp makes 0600; nothing nesgd writes is secret
}

DurableFile::~DurableFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

void DurableFile::commit() {
  if (path_.empty()) throw Error("cannot write " + target_ + ": already committed");
  // Without the fsync a crash after the rename can leave `target` named but empty.
  const bool synced = ::fsync(fd_) == 0;
  const std::string why = synced ? std::string() : errno_text();
  const bool closed = ::close(fd_) == 0;
  fd_ = -1;
  if (!synced || !closed) {
    throw Error("writing " + target_ + " failed: " + (synced ? errno_text() : why) + " (disk full?)");
  }
  if (::rename(path_.c_str(), target_.c_str()) != 0) {
    throw Error("cannot write " + target_ + ": rename of " + path_ + " failed: " + errno_text());
  }
  path_.clear();
  fsync_folder(folder_of(fs::path(target_)));
}

void write_file_durable(const std::string& path, std::string_view bytes) {
  DurableFile file(path);
  write_all(file.fd(), bytes, path);
  file.commit();
}

void write_file_durable(const std::string& path, const std::function<void(std::ostream&)>& writer) {
  DurableFile file(path);
  {
    std::ofstream out(file.path(), std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write " + path + ": cannot open " + file.path());
    writer(out);
    out.flush();
    if (!out) throw Error("writing " + path + " failed (disk full?)");
  }
  file.commit();
}

}  // namespace nesgd
