#include "nesgd/data/npy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>

#include "nesgd/error.h"

// The zip reader is our own, on zlib, rather than libarchive: libarchive is an
// optional dependency of nesgd_core (a build without it still reads .npz), an
// .npz needs only the central directory, stored and deflated entries, and a
// reader this small checks every offset and size against the file itself,
// where a streaming reader would trust the local headers.

namespace nesgd::data {
namespace {

namespace fs = std::filesystem;

constexpr char kNpyMagic[] = "\x93NUMPY";
constexpr std::size_t kNpyMagicBytes = 6;
// The longest header accepted. NumPy writes well under 1 kB for any array here
// (and refuses to read headers over 10,000 bytes itself unless told otherwise).
constexpr uint64_t kMaxHeaderBytes = uint64_t{1} << 20;
constexpr std::size_t kNpyMaxDims = 32;  // NumPy 1.x's limit
// Products of absurd shapes stop here, before they can overflow; every real
// size is then checked against the bytes the file actually holds.
constexpr uint64_t kMaxArrayBytes = uint64_t{1} << 48;
// Files and zip entries are read in pieces of this size.
constexpr std::size_t kNpyChunk = std::size_t{1} << 20;

// Zip (PKWARE APPNOTE 6.3): record signatures and fixed sizes.
constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::size_t kLocalBytes = 30;
constexpr std::size_t kCentralBytes = 46;
constexpr std::size_t kEndBytes = 22;
constexpr std::size_t kZip64LocatorBytes = 20;
constexpr std::size_t kMaxCommentBytes = 65535;
constexpr uint16_t kMethodStored = 0;
constexpr uint16_t kMethodDeflated = 8;
constexpr uint16_t kFlagEncrypted = 1;
constexpr uint16_t kFlagDataDescriptor = 8;
// Deflate cannot expand data more than about 1032:1 (a maximal run costs
// 258 bytes per 2 bits); a larger declared size is a corrupt or hostile entry.
constexpr uint64_t kMaxDeflateRatio = 1032;

const std::string kZip64Fix =
    "zip64 archives (over 2 GB as np.savez writes them) are not supported: save the arrays as a folder of "
    "x_train.npy, y_train.npy, x_test.npy and y_test.npy (np.save each) and pass that folder";

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

using NpyFileHandle = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

// Size of a regular file, with an error that says what else it is.
uint64_t regular_file_size(const std::string& path, const std::string& expected) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path + ": file not found");
  if (fs::is_directory(path, ec)) throw Error(path + ": is a directory, expected " + expected);
  const uint64_t size = fs::file_size(path, ec);
  if (ec) throw Error(path + ": cannot read its size: " + ec.message());
  return size;
}

NpyFileHandle open_file(const std::string& path) {
  NpyFileHandle file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw Error(path + ": cannot open: " + std::strerror(errno));
  return file;
}

// Reads exactly `count` bytes at `offset`; the caller has checked the range
// against the file's size, so a short read means the file changed under us.
void read_at(std::FILE* file, const std::string& path, uint64_t offset, uint8_t* out, std::size_t count) {
  if (count == 0) return;
  if (::fseeko(file, static_cast<off_t>(offset), SEEK_SET) != 0 || std::fread(out, 1, count, file) != count) {
    throw Error(fmt::format("{}: read error at byte {}: {}", path, offset,
                            std::ferror(file) ? std::strerror(errno) : "the file shrank while being read"));
  }
}

// --- the .npy header ------------------------------------------------------------------------------

struct NpyHeader {
  uint64_t data_offset = 0;  // bytes before the elements
  std::string descr;         // a structured dtype's list is kept as its text, '[' first
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

std::string shape_text(const std::vector<int64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

// The header as printable text for an error message (at most 200 characters).
std::string printable(const std::string& text) {
  std::string out;
  for (char c : text.substr(0, 200)) {
    const auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? std::string(1, c) : fmt::format("\\x{:02x}", u);
  }
  return text.size() > 200 ? out + "..." : out;
}

// The header dict, parsed as the one grammar NumPy writes, never evaluated.
class HeaderParser {
 public:
  HeaderParser(const std::string& name, std::string text) : name_(name), text_(std::move(text)) {}

  NpyHeader parse() {
    // Padding spaces, then '\n', end the header.
    if (text_.empty() || text_.back() != '\n') fail("it does not end with a newline");
    end_ = text_.size() - 1;
    while (end_ > 0 && text_[end_ - 1] == ' ') --end_;
    NpyHeader h;
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    expect('{');
    for (;;) {
      skip_space();
      if (peek() == '}') break;
      const std::size_t key_at = pos_;
      const std::string key = string_literal();
      skip_space();
      expect(':');
      skip_space();
      if (key == "descr") {
        if (seen_descr) fail("'descr' appears twice", key_at);
        seen_descr = true;
        h.descr = peek() == '[' ? bracketed() : string_literal();
      } else if (key == "fortran_order") {
        if (seen_fortran) fail("'fortran_order' appears twice", key_at);
        seen_fortran = true;
        h.fortran_order = boolean();
      } else if (key == "shape") {
        if (seen_shape) fail("'shape' appears twice", key_at);
        seen_shape = true;
        h.shape = tuple();
      } else {
        fail(fmt::format("unknown key '{}' (a header holds 'descr', 'fortran_order' and 'shape')", key), key_at);
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_space();
      if (peek() != '}') fail("expected ',' or '}'");
    }
    ++pos_;
    if (pos_ != end_) fail("text after the closing '}'");
    if (!seen_descr || !seen_fortran || !seen_shape) {
      fail(fmt::format("missing {}", !seen_descr ? "'descr'" : !seen_fortran ? "'fortran_order'" : "'shape'"));
    }
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what, std::size_t at = std::string::npos) const {
    throw Error(fmt::format("{}: malformed .npy header: {} (at character {} of \"{}\"). Fix: save the array again "
                            "with np.save or np.savez",
                            name_, what, at == std::string::npos ? pos_ : at, printable(text_)));
  }
  char peek() const { return pos_ < end_ ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < end_ && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  void expect(char c) {
    if (peek() != c) fail(fmt::format("expected '{}'", c));
    ++pos_;
  }
  std::string string_literal() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    const std::size_t start = ++pos_;
    while (pos_ < end_ && text_[pos_] != quote) {
      if (text_[pos_] == '\\') fail("escape sequences in strings are not supported");
      ++pos_;
    }
    if (pos_ >= end_) fail("unterminated string", start - 1);
    return text_.substr(start, pos_++ - start);
  }
  bool boolean() {
    for (const auto& [word, value] : {std::pair<const char*, bool>{"True", true}, {"False", false}}) {
      const std::size_t n = std::strlen(word);
      if (text_.compare(pos_, n, word) == 0 && pos_ + n <= end_) {
        pos_ += n;
        return value;
      }
    }
    fail("expected True or False");
  }
  // A non-negative integer; Python 2's NumPy wrote a long suffix ("3L").
  int64_t integer() {
    const std::size_t start = pos_;
    int64_t value = 0;
    while (pos_ < end_ && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (value > (std::numeric_limits<int64_t>::max() - 9) / 10) fail("dimension too large", start);
      value = value * 10 + (text_[pos_++] - '0');
    }
    if (pos_ == start) fail("expected a non-negative integer");
    if (text_[start] == '0' && pos_ - start > 1) fail("integer with a leading zero", start);
    if (peek() == 'L') ++pos_;
    return value;
  }
  // "()", "(5,)", "(3, 4)" or "(3, 4,)"; "(5)" is an int in Python, not a tuple.
  std::vector<int64_t> tuple() {
    expect('(');
    std::vector<int64_t> values;
    skip_space();
    if (peek() == ')') {
      ++pos_;
      return values;
    }
    for (;;) {
      if (values.size() == kNpyMaxDims) fail(fmt::format("more than {} dimensions", kNpyMaxDims));
      values.push_back(integer());
      skip_space();
      const bool comma = peek() == ',';
      if (comma) ++pos_;
      skip_space();
      if (peek() == ')') {
        if (values.size() == 1 && !comma) fail("a one-element shape needs a trailing comma: (N,)");
        ++pos_;
        return values;
      }
      if (!comma) fail("expected ',' or ')' in the shape");
    }
  }
  // A structured dtype's field list, kept as text: it is refused, not read.
  std::string bracketed() {
    const std::size_t start = pos_;
    int depth = 0;
    char quote = 0;
    for (; pos_ < end_; ++pos_) {
      const char c = text_[pos_];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '[' || c == '(') {
        ++depth;
      } else if (c == ']' || c == ')') {
        if (--depth == 0) return text_.substr(start, ++pos_ - start);
      }
    }
    fail("unterminated list", start);
  }

  const std::string& name_;
  std::string text_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
};

// Reads and parses the header of a `total`-byte .npy image through `read`
// (offset, count, out), each range checked against `total` first.
NpyHeader read_header(const std::string& name, uint64_t total,
                      const std::function<void(uint64_t, std::size_t, uint8_t*)>& read) {
  if (total == 0) throw Error(name + ": file is empty, expected an .npy file");
  uint8_t head[12] = {};
  const std::size_t got = static_cast<std::size_t>(std::min<uint64_t>(total, sizeof(head)));
  read(0, got, head);
  const std::size_t magic_got = std::min(got, kNpyMagicBytes);
  if (std::memcmp(head, kNpyMagic, magic_got) != 0) {
    std::string what;
    if (got >= 2 && head[0] == 'P' && head[1] == 'K') {
      what = " (it is a zip archive: an .npz? pass it as npz:PATH)";
    } else if (got >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
      what = " (it is gzip-compressed: decompress it first)";
    }
    throw Error(fmt::format("{}: not an .npy file: it does not start with the NPY magic \\x93NUMPY{}. Fix: write it "
                            "with np.save",
                            name, what));
  }
  if (got < 8) {
    throw Error(fmt::format("{}: truncated: {} bytes, shorter than the 8-byte NPY magic and version", name, total));
  }
  const int major = head[6];
  const int minor = head[7];
  if (major < 1 || major > 3 || minor != 0) {
    throw Error(fmt::format("{}: NPY format version {}.{} is not supported (1.0, 2.0 and 3.0 are): written by a "
                            "newer NumPy? Fix: save it with np.save from NumPy 1.x or 2.x",
                            name, major, minor));
  }
  const std::size_t preamble = major == 1 ? 10 : 12;
  if (got < preamble) {
    throw Error(fmt::format("{}: truncated: {} bytes, shorter than the {}-byte preamble of an NPY {}.0 file", name,
                            total, preamble, major));
  }
  const uint64_t header_bytes = major == 1 ? le16(head + 8) : le32(head + 8);
  if (header_bytes > kMaxHeaderBytes) {
    throw Error(fmt::format("{}: header length {} bytes, over the {} that any real .npy header needs: corrupt file?",
                            name, header_bytes, kMaxHeaderBytes));
  }
  if (preamble + header_bytes > total) {
    throw Error(fmt::format("{}: truncated in the header: it declares a header of {} bytes, only {} present", name,
                            header_bytes, total - preamble));
  }
  std::string text(static_cast<std::size_t>(header_bytes), '\0');
  read(preamble, text.size(), reinterpret_cast<uint8_t*>(text.data()));
  NpyHeader h = HeaderParser(name, std::move(text)).parse();
  h.data_offset = preamble + header_bytes;
  return h;
}

// A descr's element type in words, for messages: "<f8" -> "float64".
std::string describe_descr(const std::string& descr) {
  if (descr.size() < 2) return "unknown dtype";
  const char kind = descr[1];
  const std::string size_text = descr.substr(2);
  int size = 0;
  for (char c : size_text) {
    if (c < '0' || c > '9' || size > 1000) {
      size = -1;
      break;
    }
    size = size * 10 + (c - '0');
  }
  std::string what;
  switch (kind) {
    case 'b': what = "bool"; break;
    case 'i': what = size > 0 ? fmt::format("int{}", 8 * size) : "int"; break;
    case 'u': what = size > 0 ? fmt::format("uint{}", 8 * size) : "uint"; break;
    case 'f': what = size == 16 || size == 12 ? "longdouble" : size > 0 ? fmt::format("float{}", 8 * size) : "float"; break;
    case 'c': what = size > 0 ? fmt::format("complex{}", 8 * size) : "complex"; break;
    case 'O': what = "object"; break;
    case 'U': what = "str"; break;
    case 'S': case 'a': what = "bytes"; break;
    case 'V': what = "void"; break;
    case 'M': what = "datetime64"; break;
    case 'm': what = "timedelta64"; break;
    default: return "unknown dtype";
  }
  return descr[0] == '>' ? what + ", big-endian" : what;
}

struct DtypeEntry {
  const char* code;  // kind and size, as in a descr after its byte-order character
  NpyDtype dtype;
};
constexpr DtypeEntry kDtypes[] = {{"u1", NpyDtype::kUint8},  {"i2", NpyDtype::kInt16}, {"u2", NpyDtype::kUint16},
                                  {"i4", NpyDtype::kInt32},  {"i8", NpyDtype::kInt64}, {"f4", NpyDtype::kFloat32}};

// The dtype of a parsed header if the caller accepts it; throws otherwise.
// Also checks the shape's size, so that what follows may allocate it.
NpyDtype check_header(const std::string& name, const NpyHeader& h, const NpyExpect& expect, uint64_t* data_bytes) {
  const std::string& var = expect.variable;
  if (!h.descr.empty() && h.descr[0] == '[') {
    throw Error(fmt::format("{} is a structured array (its dtype has named fields: {}); nesgd reads plain numeric "
                            "arrays: save each field as an array of its own",
                            name, printable(h.descr)));
  }
  std::string default_fix = "nesgd reads uint8, int16, uint16, int32, int64 and float32";
  const std::string& fix = expect.dtype_fix.empty() ? default_fix : expect.dtype_fix;
  if (h.descr.size() >= 2 && h.descr[1] == 'O') {
    throw Error(fmt::format("{} holds Python objects (dtype object, descr '{}'), which nesgd never unpickles; {}",
                            name, printable(h.descr), fix));
  }
  const char order = h.descr.empty() ? '\0' : h.descr[0];
  const std::string code = h.descr.empty() ? "" : h.descr.substr(1);
  std::optional<NpyDtype> dtype;
  for (const auto& entry : kDtypes) {
    if (code == entry.code) dtype = entry.dtype;
  }
  const bool accepted = dtype && (expect.dtypes.empty() || std::find(expect.dtypes.begin(), expect.dtypes.end(),
                                                                     *dtype) != expect.dtypes.end());
  if (order != '<' && order != '>' && order != '|' && order != '=') {
    throw Error(fmt::format("{}: malformed .npy header: descr '{}' does not start with a byte order (<, >, |). Fix: "
                            "save the array again with np.save",
                            name, printable(h.descr)));
  }
  if (!accepted) {
    throw Error(fmt::format("{} has dtype {} ({}); {}", name, printable(h.descr), describe_descr(h.descr), fix));
  }
  const std::size_t size = npy_dtype_size(*dtype);
  if (size > 1 && order == '>') {
    throw Error(fmt::format("{} is big-endian ({}); save it little-endian: {}.astype('<{}')", name, h.descr, var,
                            code));
  }
  if (size > 1 && order != '<') {
    throw Error(fmt::format("{}: descr '{}' has no byte order ('{}' is for one-byte types); save it with an explicit "
                            "one: {}.astype('<{}')",
                            name, h.descr, order, var, code));
  }
  if (h.fortran_order) {
    throw Error(fmt::format("{} is stored in Fortran order (fortran_order: True); save it in C order: "
                            "np.ascontiguousarray({})",
                            name, var));
  }
  uint64_t bytes = size;
  for (int64_t d : h.shape) {
    // d < 2^63 and bytes <= kMaxArrayBytes < 2^49: test before multiplying.
    if (d != 0 && bytes > kMaxArrayBytes / static_cast<uint64_t>(d)) {
      throw Error(fmt::format("{}: shape {} of {} would take more than {} bytes: corrupt header?", name,
                              shape_text(h.shape), npy_dtype_name(*dtype), kMaxArrayBytes));
    }
    bytes *= static_cast<uint64_t>(d);
  }
  *data_bytes = bytes;
  return *dtype;
}

void check_data_size(const std::string& name, const NpyHeader& h, NpyDtype dtype, uint64_t need, uint64_t present) {
  if (present < need) {
    throw Error(fmt::format("{}: truncated: shape {} of {} needs {} bytes of data, only {} present", name,
                            shape_text(h.shape), npy_dtype_name(dtype), need, present));
  }
  if (present > need) {
    throw Error(fmt::format("{}: {} trailing bytes after the {} bytes of data that shape {} of {} needs: damaged "
                            "file? Fix: save the array again with np.save",
                            name, present - need, need, shape_text(h.shape), npy_dtype_name(dtype)));
  }
}

}  // namespace

const char* npy_dtype_name(NpyDtype dtype) {
  switch (dtype) {
    case NpyDtype::kUint8: return "uint8";
    case NpyDtype::kInt16: return "int16";
    case NpyDtype::kUint16: return "uint16";
    case NpyDtype::kInt32: return "int32";
    case NpyDtype::kInt64: return "int64";
    case NpyDtype::kFloat32: return "float32";
  }
  return "?";
}

std::size_t npy_dtype_size(NpyDtype dtype) {
  switch (dtype) {
    case NpyDtype::kUint8: return 1;
    case NpyDtype::kInt16: case NpyDtype::kUint16: return 2;
    case NpyDtype::kInt32: case NpyDtype::kFloat32: return 4;
    case NpyDtype::kInt64: return 8;
  }
  return 1;
}

int64_t NpyArray::count() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

NpyArray read_npy(const std::string& path, const NpyExpect& expect) {
  const uint64_t size = regular_file_size(path, "an .npy file");
  NpyFileHandle file = open_file(path);
  auto read = [&](uint64_t offset, std::size_t count, uint8_t* out) { read_at(file.get(), path, offset, out, count); };
  const NpyHeader h = read_header(path, size, read);
  NpyArray a;
  uint64_t need = 0;
  a.dtype = check_header(path, h, expect, &need);
  check_data_size(path, h, a.dtype, need, size - h.data_offset);
  a.descr = h.descr;
  a.shape = h.shape;
  a.data.resize(static_cast<std::size_t>(need));
  read(h.data_offset, a.data.size(), a.data.data());
  return a;
}

NpyArray parse_npy(const std::string& name, std::vector<uint8_t> bytes, const NpyExpect& expect) {
  auto read = [&](uint64_t offset, std::size_t count, uint8_t* out) {
    std::memcpy(out, bytes.data() + offset, count);  // read_header checked the range
  };
  const NpyHeader h = read_header(name, bytes.size(), read);
  NpyArray a;
  uint64_t need = 0;
  a.dtype = check_header(name, h, expect, &need);
  check_data_size(name, h, a.dtype, need, bytes.size() - h.data_offset);
  a.descr = h.descr;
  a.shape = h.shape;
  // The data is already in place behind the header: move it, do not copy it.
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(h.data_offset));
  a.data = std::move(bytes);
  return a;
}

// --- .npz: the zip container ------------------------------------------------------------------------

struct NpzFile::Entry {
  std::string name;
  uint16_t flags = 0;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint32_t compressed = 0;
  uint32_t uncompressed = 0;
  uint64_t local_offset = 0;
  uint64_t directory_offset = 0;  // where the central directory starts: every entry's data ends before it
};

bool looks_like_zip(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  uint8_t magic[4] = {};
  if (!file || std::fread(magic, 1, 4, file.get()) != 4) return false;
  return magic[0] == 'P' && magic[1] == 'K' && ((magic[2] == 3 && magic[3] == 4) || (magic[2] == 5 && magic[3] == 6));
}

NpzFile::NpzFile(const std::string& path) : path_(path), file_(nullptr, &std::fclose) {
  size_ = regular_file_size(path, "an .npz file");
  file_ = open_file(path);
  const std::string fix = "Fix: save it again with np.savez or np.savez_compressed";
  if (size_ < kEndBytes) {
    if (size_ == 0) throw Error(path + ": file is empty, expected an .npz (zip) archive");
    throw Error(fmt::format("{}: {} bytes, too short for a zip archive (.npz): truncated? {}", path, size_, fix));
  }

  // The end record: the last 22 bytes, or more if the archive has a comment.
  const std::size_t tail_size = static_cast<std::size_t>(std::min<uint64_t>(size_, kEndBytes + kMaxCommentBytes));
  const uint64_t tail_start = size_ - tail_size;
  std::vector<uint8_t> tail(tail_size);
  read_at(file_.get(), path, tail_start, tail.data(), tail.size());
  std::size_t end_at = std::string::npos;
  for (std::size_t i = tail_size - kEndBytes + 1; i-- > 0;) {
    if (le32(&tail[i]) == kEndSig && i + kEndBytes + le16(&tail[i + 20]) == tail_size) {
      end_at = i;
      break;
    }
  }
  if (end_at == std::string::npos) {
    uint8_t head[6] = {};
    read_at(file_.get(), path, 0, head, std::min<uint64_t>(size_, sizeof(head)));
    if (head[0] == 'P' && head[1] == 'K') {
      throw Error(fmt::format("{}: the zip archive's end record is missing: the file is truncated (or still being "
                              "written). {}",
                              path, fix));
    }
    if (std::memcmp(head, kNpyMagic, kNpyMagicBytes) == 0) {
      throw Error(fmt::format("{} is a single .npy file, not an .npz archive: save the four arrays with "
                              "np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...), or pass a folder "
                              "holding x_train.npy, y_train.npy, x_test.npy and y_test.npy",
                              path));
    }
    throw Error(fmt::format("{}: not a zip archive (an .npz is one: np.savez writes it). {}", path, fix));
  }
  const uint8_t* end = &tail[end_at];
  const uint64_t end_offset = tail_start + end_at;
  const uint16_t disk = le16(end + 4), directory_disk = le16(end + 6);
  const uint16_t disk_entries = le16(end + 8), entries = le16(end + 10);
  const uint32_t directory_size = le32(end + 12), directory_offset = le32(end + 16);
  const bool zip64_locator = end_offset >= kZip64LocatorBytes && [&] {
    uint8_t sig[4];
    read_at(file_.get(), path, end_offset - kZip64LocatorBytes, sig, 4);
    return le32(sig) == kZip64LocatorSig;
  }();
  if (zip64_locator || entries == 0xFFFF || directory_size == 0xFFFFFFFF || directory_offset == 0xFFFFFFFF) {
    throw Error(fmt::format("{}: {}", path, kZip64Fix));
  }
  if (disk != 0 || directory_disk != 0 || disk_entries != entries) {
    throw Error(fmt::format("{}: a multi-part (split) zip archive is not supported. {}", path, fix));
  }
  if (uint64_t{directory_offset} + directory_size != end_offset) {
    throw Error(fmt::format("{}: corrupt zip archive: the central directory ({} bytes at {}) does not end where the "
                            "end record starts ({}). {}",
                            path, directory_size, directory_offset, end_offset, fix));
  }

  std::vector<uint8_t> directory(directory_size);
  read_at(file_.get(), path, directory_offset, directory.data(), directory.size());
  std::size_t at = 0;
  while (at < directory.size()) {
    if (directory.size() - at < kCentralBytes || le32(&directory[at]) != kCentralSig) {
      throw Error(fmt::format("{}: corrupt zip archive: bad central directory record at byte {}. {}", path,
                              directory_offset + at, fix));
    }
    const uint8_t* r = &directory[at];
    Entry e;
    e.flags = le16(r + 8);
    e.method = le16(r + 10);
    e.crc = le32(r + 16);
    e.compressed = le32(r + 20);
    e.uncompressed = le32(r + 24);
    const std::size_t name_bytes = le16(r + 28), extra_bytes = le16(r + 30), comment_bytes = le16(r + 32);
    e.local_offset = le32(r + 42);
    e.directory_offset = directory_offset;
    if (directory.size() - at - kCentralBytes < name_bytes + extra_bytes + comment_bytes) {
      throw Error(fmt::format("{}: corrupt zip archive: a central directory record at byte {} runs past the "
                              "directory. {}",
                              path, directory_offset + at, fix));
    }
    e.name.assign(reinterpret_cast<const char*>(r + kCentralBytes), name_bytes);
    if (e.compressed == 0xFFFFFFFF || e.uncompressed == 0xFFFFFFFF || e.local_offset == 0xFFFFFFFF) {
      throw Error(fmt::format("{}: entry {}: {}", path, printable(e.name), kZip64Fix));
    }
    if (e.name.empty() || has_entry(e.name)) {
      throw Error(fmt::format("{}: corrupt zip archive: {} entry name '{}' in the central directory. {}", path,
                              e.name.empty() ? "an empty" : "a repeated", printable(e.name), fix));
    }
    entries_.push_back(std::move(e));
    at += kCentralBytes + name_bytes + extra_bytes + comment_bytes;
  }
  if (entries_.size() != entries) {
    throw Error(fmt::format("{}: corrupt zip archive: the end record counts {} entries, the central directory holds "
                            "{}. {}",
                            path, entries, entries_.size(), fix));
  }
}

NpzFile::~NpzFile() = default;

std::vector<std::string> NpzFile::entry_names() const {
  std::vector<std::string> names;
  for (const auto& e : entries_) names.push_back(e.name);
  return names;
}

bool NpzFile::has_entry(const std::string& name) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; });
}

std::vector<uint8_t> NpzFile::read_entry(const std::string& name) const {
  const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; });
  if (it == entries_.end()) {
    throw Error(fmt::format("{}: no entry {} (it holds: {})", path_, name, fmt::join(entry_names(), ", ")));
  }
  const Entry& e = *it;
  const std::string where = fmt::format("{}: {}", path_, printable(name));
  const std::string fix = "Fix: save it again with np.savez or np.savez_compressed";
  if (e.flags & kFlagEncrypted) throw Error(where + ": the entry is encrypted; nesgd reads unencrypted archives only");
  if (e.method != kMethodStored && e.method != kMethodDeflated) {
    throw Error(fmt::format("{}: compression method {} is not supported (stored and deflated are: np.savez, "
                            "np.savez_compressed). {}",
                            where, e.method, fix));
  }

  // The local header: its name must match, and the data must lie before the directory.
  if (e.local_offset + kLocalBytes > e.directory_offset) {
    throw Error(fmt::format("{}: corrupt zip archive: the local header at byte {} lies past the central directory. {}",
                            where, e.local_offset, fix));
  }
  uint8_t local[kLocalBytes];
  read_at(file_.get(), path_, e.local_offset, local, kLocalBytes);
  const uint64_t name_bytes = le16(local + 26), extra_bytes = le16(local + 28);
  const uint64_t data_offset = e.local_offset + kLocalBytes + name_bytes + extra_bytes;
  if (le32(local) != kLocalSig || data_offset + e.compressed > e.directory_offset) {
    throw Error(fmt::format("{}: corrupt zip archive: bad local header at byte {}. {}", where, e.local_offset, fix));
  }
  std::string local_name(static_cast<std::size_t>(name_bytes), '\0');
  read_at(file_.get(), path_, e.local_offset + kLocalBytes, reinterpret_cast<uint8_t*>(local_name.data()),
          local_name.size());
  // Sizes and CRC in the local header are zero (data descriptor) or 0xFFFFFFFF
  // (zip64: NumPy forces it in local headers) or must agree with the directory.
  auto agrees = [&](uint32_t local_value, uint32_t central) {
    return (e.flags & kFlagDataDescriptor) || local_value == 0xFFFFFFFF || local_value == central;
  };
  if (local_name != e.name || le16(local + 8) != e.method || !agrees(le32(local + 14), e.crc) ||
      !agrees(le32(local + 18), e.compressed) || !agrees(le32(local + 22), e.uncompressed)) {
    throw Error(fmt::format("{}: corrupt zip archive: the local header disagrees with the central directory. {}",
                            where, fix));
  }

  std::vector<uint8_t> out;
  if (e.method == kMethodStored) {
    if (e.compressed != e.uncompressed) {
      throw Error(fmt::format("{}: corrupt zip archive: a stored entry of {} bytes claims {} uncompressed. {}", where,
                              e.compressed, e.uncompressed, fix));
    }
    out.resize(e.uncompressed);
    read_at(file_.get(), path_, data_offset, out.data(), out.size());
  } else {
    if (e.uncompressed > uint64_t{e.compressed} * kMaxDeflateRatio + 64) {
      throw Error(fmt::format("{}: corrupt zip archive: {} compressed bytes cannot inflate to the {} declared. {}",
                              where, e.compressed, e.uncompressed, fix));
    }
    out.resize(e.uncompressed);
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw Error(where + ": zlib cannot start inflating");
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, &inflateEnd);
    uint8_t nothing = 0;  // zlib wants an output pointer even for an empty entry
    zs.next_out = out.empty() ? &nothing : out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    std::vector<uint8_t> chunk(std::min<std::size_t>(kNpyChunk, std::max<uint32_t>(e.compressed, 1)));
    uint64_t left = e.compressed;
    uint64_t offset = data_offset;
    int ret = Z_OK;
    while (ret != Z_STREAM_END) {
      if (zs.avail_in == 0) {
        if (left == 0) break;
        const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(left, chunk.size()));
        read_at(file_.get(), path_, offset, chunk.data(), n);
        offset += n;
        left -= n;
        zs.next_in = chunk.data();
        zs.avail_in = static_cast<uInt>(n);
      }
      ret = inflate(&zs, Z_NO_FLUSH);
      if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT || ret == Z_MEM_ERROR || ret == Z_STREAM_ERROR) {
        throw Error(fmt::format("{}: corrupt deflate data ({}). {}", where, zs.msg ? zs.msg : "zlib error", fix));
      }
      if (ret == Z_BUF_ERROR && zs.avail_out == 0) break;  // more output than declared
    }
    if (ret != Z_STREAM_END) {
      throw Error(fmt::format("{}: {}. {}", where,
                              zs.avail_out == 0
                                  ? fmt::format("the deflate data inflates to more than the {} bytes declared",
                                                e.uncompressed)
                                  : fmt::format("the deflate data ends early ({} of {} bytes inflated)", zs.total_out,
                                                e.uncompressed),
                              fix));
    }
    if (zs.total_out != e.uncompressed || left + zs.avail_in != 0) {
      throw Error(fmt::format("{}: corrupt zip archive: the deflate stream gives {} bytes from {} compressed; the "
                              "directory says {} from {}. {}",
                              where, zs.total_out, e.compressed - left - zs.avail_in, e.uncompressed, e.compressed,
                              fix));
    }
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  for (std::size_t done = 0; done < out.size(); done += kNpyChunk) {
    crc = crc32(crc, out.data() + done, static_cast<uInt>(std::min(kNpyChunk, out.size() - done)));
  }
  if (crc != e.crc) {
    throw Error(fmt::format("{}: CRC-32 is {:08x}, the archive says {:08x}: the archive is damaged. {}", where, crc,
                            e.crc, fix));
  }
  return out;
}

NpyArray NpzFile::read_array(const std::string& name, const NpyExpect& expect) const {
  const std::string entry = name + ".npy";
  if (!has_entry(entry)) {
    std::vector<std::string> names = entry_names();
    throw Error(fmt::format("{} has no array '{}' (no entry {}; it holds {}). Fix: save it under that name, e.g. "
                            "np.savez(path, {}={}, ...)",
                            path_, name, entry,
                            names.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(names, ", ")), name,
                            name));
  }
  return parse_npy(path_ + ": " + entry, read_entry(entry), expect);
}

}  // namespace nesgd::data
