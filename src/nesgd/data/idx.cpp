#include "nesgd/data/idx.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "nesgd/data/sha256.h"
#include "nesgd/error.h"

namespace nesgd::data {
namespace {

constexpr uint8_t kUint8Type = 0x08;
constexpr std::size_t kMaxDims = 4;
// A corrupt header must not make us allocate terabytes; no dataset here comes
// near this (Fashion-MNIST train images are 47 MB).
constexpr uint64_t kMaxPayloadBytes = uint64_t{1} << 32;
// gzread/gzwrite take an unsigned int length; move data in 1 MiB pieces.
constexpr std::size_t kChunk = std::size_t{1} << 20;

std::string dims_text(const std::vector<uint32_t>& dims) { return fmt::format("{}", fmt::join(dims, "x")); }

// An open gzip-or-raw file whose decompressed bytes are hashed as they are read.
class Source {
 public:
  explicit Source(const std::string& path) : path_(path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      throw Error(path + ": file not found");
    }
    if (std::filesystem::is_directory(path, ec)) {
      throw Error(path + ": is a directory, expected an IDX file");
    }
    gz_ = gzopen(path.c_str(), "rb");
    if (gz_ == nullptr) {
      throw Error(path + ": cannot open: " + std::strerror(errno));
    }
    gzbuffer(gz_, 1u << 17);
  }
  ~Source() { gzclose(gz_); }
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  // Reads up to `size` bytes; fewer only at the end of the data. A gzip stream
  // that stops early is not an error here (the caller reports the truncation
  // with sizes); corrupt compressed data is.
  uint64_t read(uint8_t* out, uint64_t size) {
    uint64_t done = 0;
    while (done < size) {
      const auto want = static_cast<unsigned>(std::min<uint64_t>(size - done, kChunk));
      const int got = gzread(gz_, out + done, want);
      if (got <= 0) {
        break;
      }
      hasher_.update(out + done, static_cast<std::size_t>(got));
      done += static_cast<uint64_t>(got);
    }
    int errnum = Z_OK;
    const char* message = gzerror(gz_, &errnum);
    if (errnum == Z_BUF_ERROR) {
      stream_cut_ = true;
    } else if (errnum == Z_ERRNO) {
      throw Error(path_ + ": read error: " + std::strerror(errno));
    } else if (errnum != Z_OK) {
      throw Error(fmt::format("{}: gzip data is corrupt ({}); delete the file and fetch it again", path_, message));
    }
    return done;
  }

  // Counts the bytes left after the current position (reading them to the end
  // also makes zlib check the gzip CRC).
  uint64_t count_rest() {
    std::vector<uint8_t> scratch(kChunk);
    uint64_t total = 0;
    uint64_t got = 0;
    while ((got = read(scratch.data(), scratch.size())) > 0) {
      total += got;
    }
    return total;
  }

  bool stream_cut() const { return stream_cut_; }
  std::string hex_digest() { return hasher_.hex_digest(); }

 private:
  std::string path_;
  gzFile gz_ = nullptr;
  Sha256 hasher_;
  bool stream_cut_ = false;
};

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

IdxReadResult read_idx(const std::string& path) {
  Source source(path);
  const std::string cut_note = " (the gzip stream ends early)";

  uint8_t magic[4];
  const uint64_t magic_got = source.read(magic, 4);
  if (magic_got == 0) {
    throw Error(path + ": file is empty" + (source.stream_cut() ? cut_note : "") + ", expected an IDX file");
  }
  if (magic_got < 4) {
    throw Error(fmt::format("{}: truncated: {} bytes, shorter than the 4-byte IDX magic", path, magic_got));
  }
  const uint32_t magic_value = read_be32(magic);
  const std::size_t rank = magic[3];
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != kUint8Type || rank < 1 || rank > kMaxDims) {
    // 0x09..0x0E are the other IDX element types: a real IDX file, just not one we read.
    const bool other_type = magic[0] == 0 && magic[1] == 0 && magic[2] >= 0x09 && magic[2] <= 0x0E;
    throw Error(
        fmt::format("{}: wrong magic 0x{:08X} (expected 0x0000080X for uint8 IDX, X = 1..4 dimensions) "
                    "— is this an IDX file?{}",
                    path, magic_value,
                    other_type ? fmt::format(" (IDX element type 0x{:02X} is not supported, only uint8)", magic[2])
                               : std::string()));
  }

  IdxReadResult result;
  auto& dims = result.array.dims;
  std::vector<uint8_t> header(4 * rank);
  const uint64_t header_got = source.read(header.data(), header.size());
  if (header_got < header.size()) {
    throw Error(fmt::format("{}: truncated in the header: {} dimensions need {} bytes, only {} present{}", path, rank,
                            header.size(), header_got, source.stream_cut() ? cut_note : ""));
  }
  uint64_t payload = 1;
  for (std::size_t i = 0; i < rank; ++i) {
    dims.push_back(read_be32(&header[4 * i]));
    if (dims[i] == 0) {
      throw Error(fmt::format("{}: dimension {} of {} is zero (dims {})", path, i + 1, rank, dims_text(dims)));
    }
    payload *= dims[i];
    if (payload > kMaxPayloadBytes) {
      throw Error(fmt::format("{}: header declares more than {} bytes of data (dims {}...) — corrupt header?", path,
                              kMaxPayloadBytes, dims_text(dims)));
    }
  }

  // The buffer grows with the data actually read, never to the header's claim
  // at once: a 12-byte file whose header claims 2^31 images must be reported
  // as truncated, not allocate 2 GB first. At most twice the data present (or
  // one chunk) is ever allocated.
  auto& data = result.array.data;
  uint64_t payload_got = 0;
  while (payload_got < payload) {
    const uint64_t next = std::min(payload, std::max<uint64_t>(2 * payload_got, kChunk));
    data.resize(next);
    const uint64_t got = source.read(data.data() + payload_got, next - payload_got);
    payload_got += got;
    if (payload_got < next) break;
  }
  if (payload_got < payload) {
    throw Error(fmt::format("{}: truncated: dims {} need {} bytes of data, only {} present{}", path, dims_text(dims),
                            payload, payload_got, source.stream_cut() ? cut_note : ""));
  }
  const uint64_t trailing = source.count_rest();
  if (trailing > 0) {
    throw Error(fmt::format("{}: {} trailing bytes after the {} bytes of data declared by dims {} — wrong header?",
                            path, trailing, payload, dims_text(dims)));
  }
  if (source.stream_cut()) {
    throw Error(path + ": truncated gzip file: the data is complete but the gzip end marker and CRC are missing");
  }
  result.sha256_raw = source.hex_digest();
  return result;
}

void write_idx(const std::string& path, const IdxArray& array, bool gzip) {
  const auto& dims = array.dims;
  if (dims.empty() || dims.size() > kMaxDims) {
    throw Error(fmt::format("write_idx {}: {} dimensions, IDX allows 1..4", path, dims.size()));
  }
  uint64_t payload = 1;
  for (uint32_t d : dims) {
    payload *= d;
  }
  if (payload == 0 || payload != array.data.size()) {
    throw Error(fmt::format("write_idx {}: dims {} need {} bytes, data holds {}", path, dims_text(dims), payload,
                            array.data.size()));
  }
  std::vector<uint8_t> header = {0, 0, kUint8Type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    header.insert(header.end(), {static_cast<uint8_t>(d >> 24), static_cast<uint8_t>(d >> 16),
                                 static_cast<uint8_t>(d >> 8), static_cast<uint8_t>(d)});
  }

  // "T" writes without compression through the same interface.
  gzFile gz = gzopen(path.c_str(), gzip ? "wb" : "wbT");
  if (gz == nullptr) {
    throw Error(path + ": cannot open for writing: " + std::strerror(errno));
  }
  auto put = [&](const uint8_t* bytes, std::size_t size) {
    for (std::size_t done = 0; done < size;) {
      const auto n = static_cast<unsigned>(std::min(size - done, kChunk));
      if (gzwrite(gz, bytes + done, n) != static_cast<int>(n)) {
        int errnum = Z_OK;
        const std::string message = gzerror(gz, &errnum);
        gzclose(gz);
        throw Error(path + ": write failed: " + message);
      }
      done += n;
    }
  };
  put(header.data(), header.size());
  put(array.data.data(), array.data.size());
  if (gzclose(gz) != Z_OK) {
    throw Error(path + ": write failed when closing (disk full?)");
  }
}

}  // namespace nesgd::data
