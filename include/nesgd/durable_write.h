// nesgd/durable_write.h - replacing a file so that it is either the old one or the whole new one.
//
// Results, checkpoints, model files, downloads, unpacked data and manifests are
// all written the same way: into a unique temporary file in the target's own
// folder (hidden: `.<name>.tmp-XXXXXX`, so folder readers skip it), fsync of
// the file, rename over the target (atomic on POSIX file systems), fsync of
// the folder (so the rename itself survives a power cut). A reader never sees
// half a file, a crash or an exception leaves the previous file intact, and
// no temporary file is left behind on any failure this process survives.
// Errors are nesgd::Error naming the path. Torch-free; nothing here prints.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace nesgd {

// A temporary file beside `target`, removed on destruction unless commit()
// moved it into place. For writers that produce the bytes themselves: write
// through fd() or open path() by name (any descriptor of the same file is
// flushed by commit()'s fsync), then commit().
class DurableFile {
 public:
  // Creates the target's folder if needed and the temporary file in it.
  explicit DurableFile(std::string target);
  ~DurableFile();
  DurableFile(const DurableFile&) = delete;
  DurableFile& operator=(const DurableFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  const std::string& target() const { return target_; }

  // fsync, rename over target(), fsync of the folder. Once only.
  void commit();

 private:
  std::string target_;
  std::string path_;
  int fd_ = -1;
};

// Replaces `path` with `bytes`.
void write_file_durable(const std::string& path, std::string_view bytes);

// Replaces `path` with what `writer` writes to the stream (e.g.
// torch::serialize::OutputArchive::save_to(std::ostream&)). If `writer`
// throws, the exception propagates and `path` is untouched.
void write_file_durable(const std::string& path, const std::function<void(std::ostream&)>& writer);

}  // namespace nesgd
