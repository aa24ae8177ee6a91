// IDX reader/writer and SHA-256: round trips, and for every malformed file an
// error whose message names the file and the exact problem.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "nesgd/data/idx.h"
#include "nesgd/data/sha256.h"
#include "nesgd/error.h"
#include "support/fs.h"
#include "support/limits.h"

namespace fs = std::filesystem;
using namespace nesgd::data;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const Bytes& bytes, bool gzip = false) {
  gzFile gz = gzopen(path.c_str(), gzip ? "wb" : "wbT");
  ASSERT_NE(gz, nullptr) << path;
  ASSERT_EQ(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(gz), Z_OK);
}

// Header bytes: magic then dims, big-endian.
Bytes header(uint32_t magic, const std::vector<uint32_t>& dims) {
  Bytes out;
  auto put = [&out](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
  };
  put(magic);
  for (uint32_t d : dims) put(d);
  return out;
}

// Pseudo-random bytes (fixed seed): incompressible, so cutting a .gz file in
// half really cuts the data.
IdxArray sample_array(const std::vector<uint32_t>& dims) {
  IdxArray a;
  a.dims = dims;
  std::size_t n = 1;
  for (uint32_t d : dims) n *= d;
  std::mt19937 rng(1234);
  for (std::size_t i = 0; i < n; ++i) a.data.push_back(static_cast<uint8_t>(rng()));
  return a;
}

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "nesgd-idx-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { nesgd::testing::remove_tree(dir_.string()); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // read_idx must throw nesgd::Error naming the file and every fragment.
  static void expect_error(const std::string& file, const std::vector<std::string>& fragments) {
    try {
      read_idx(file);
      ADD_FAILURE() << "read_idx(" << file << ") did not throw";
    } catch (const nesgd::Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(file), std::string::npos) << "message does not name the file: " << message;
      for (const auto& fragment : fragments) {
        EXPECT_NE(message.find(fragment), std::string::npos) << "missing '" << fragment << "' in: " << message;
      }
    }
  }

  fs::path dir_;
};

TEST(Sha256, KnownVectors) {
  Sha256 empty;
  EXPECT_EQ(empty.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 abc;
  abc.update("a", 1);
  abc.update("bc", 2);
  EXPECT_EQ(abc.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(IdxTest, Sha256File) {
  write_bytes(path("abc"), Bytes{'a', 'b', 'c'});
  EXPECT_EQ(sha256_file(path("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_THROW(sha256_file(path("absent")), nesgd::Error);
}

TEST_F(IdxTest, RoundTripRawAndGzip) {
  for (const auto& dims : std::vector<std::vector<uint32_t>>{{7}, {3, 4, 5}, {2, 1, 3, 2}}) {
    const IdxArray array = sample_array(dims);
    write_idx(path("a.idx"), array, false);
    write_idx(path("a.idx.gz"), array, true);

    const Bytes raw = read_bytes(path("a.idx"));
    const Bytes expected_header = header(0x00000800u | static_cast<uint32_t>(dims.size()), dims);
    ASSERT_EQ(raw.size(), expected_header.size() + array.data.size());
    EXPECT_TRUE(std::equal(expected_header.begin(), expected_header.end(), raw.begin()));
    const Bytes gz = read_bytes(path("a.idx.gz"));
    ASSERT_GE(gz.size(), 2u);
    EXPECT_EQ(gz[0], 0x1f);  // gzip magic
    EXPECT_EQ(gz[1], 0x8b);

    for (const auto* name : {"a.idx", "a.idx.gz"}) {
      const IdxReadResult result = read_idx(path(name));
      EXPECT_EQ(result.array.dims, dims) << name;
      EXPECT_EQ(result.array.data, array.data) << name;
      // The sum is of the decompressed content, so both files give the raw file's sum.
      EXPECT_EQ(result.sha256_raw, sha256_file(path("a.idx"))) << name;
    }
  }
}

TEST_F(IdxTest, TruncatedRaw) {
  write_idx(path("t.idx"), sample_array({10, 28, 28}), false);
  Bytes bytes = read_bytes(path("t.idx"));
  bytes.resize(bytes.size() - 100);
  write_bytes(path("t.idx"), bytes);
  expect_error(path("t.idx"), {"truncated", "10x28x28", "need 7840 bytes", "only 7740 present"});
}

TEST_F(IdxTest, TruncatedGzip) {
  write_idx(path("t.idx.gz"), sample_array({4000}), true);
  Bytes bytes = read_bytes(path("t.idx.gz"));
  bytes.resize(bytes.size() / 2);
  write_bytes(path("t.idx.gz"), bytes);
  expect_error(path("t.idx.gz"), {"truncated", "need 4000 bytes", "gzip stream ends early"});
}

TEST_F(IdxTest, GzipWithoutTrailer) {
  write_idx(path("t.idx.gz"), sample_array({4000}), true);
  Bytes bytes = read_bytes(path("t.idx.gz"));
  bytes.resize(bytes.size() - 8);  // drop CRC-32 and length
  write_bytes(path("t.idx.gz"), bytes);
  expect_error(path("t.idx.gz"), {"truncated gzip file", "CRC"});
}

TEST_F(IdxTest, CorruptGzip) {
  write_idx(path("crc.gz"), sample_array({4000}), true);
  Bytes bytes = read_bytes(path("crc.gz"));
  bytes[bytes.size() - 6] ^= 0xff;  // inside the stored CRC-32
  write_bytes(path("crc.gz"), bytes);
  expect_error(path("crc.gz"), {"gzip data is corrupt", "incorrect data check"});

  write_idx(path("mid.gz"), sample_array({4000}), true);
  bytes = read_bytes(path("mid.gz"));
  for (std::size_t i = 20; i < 40; ++i) bytes[i] ^= 0x5a;  // inside the deflate stream
  write_bytes(path("mid.gz"), bytes);
  expect_error(path("mid.gz"), {"gzip data is corrupt"});
}

TEST_F(IdxTest, WrongMagic) {
  Bytes bytes = header(0x00000903, {2});
  bytes.insert(bytes.end(), {1, 2});
  write_bytes(path("m.idx"), bytes);
  expect_error(path("m.idx"), {"wrong magic 0x00000903", "expected 0x0000080X", "is this an IDX file?"});

  write_bytes(path("text.gz"), Bytes{'h', 'e', 'l', 'l', 'o', '\n'}, true);
  expect_error(path("text.gz"), {"wrong magic 0x68656C6C"});

  write_bytes(path("rank5.idx"), header(0x00000805, {1, 1, 1, 1, 1}));
  expect_error(path("rank5.idx"), {"wrong magic 0x00000805"});
}

TEST_F(IdxTest, NonUint8ElementType) {
  write_bytes(path("f.idx"), header(0x00000D01, {1}));  // 0x0D: float
  expect_error(path("f.idx"), {"wrong magic 0x00000D01", "IDX element type 0x0D is not supported, only uint8"});
}

TEST_F(IdxTest, ZeroOrHugeDimension) {
  write_bytes(path("z.idx"), header(0x00000803, {3, 0, 5}));
  expect_error(path("z.idx"), {"dimension 2 of 3 is zero"});
  // Must be refused from the header alone, without trying to allocate 16 EiB.
  write_bytes(path("h.idx"), header(0x00000802, {0xffffffffu, 0xffffffffu}));
  expect_error(path("h.idx"), {"corrupt header"});
}

// Found by fuzzing (fuzz/corpus/idx/claims-2e31-images): a 10-byte file whose
// header claims 2^31 one-byte images made read_idx allocate (and zero) 2 GiB
// before noticing the data was not there. It must fail on the missing data,
// within a small allocation, raw and gzip alike.
TEST_F(IdxTest, HeaderClaimingGigabytesFailsWithoutAllocatingThem) {
  constexpr uint64_t kHeadroom = uint64_t{256} << 20;  // far below the 2 GiB claimed
  for (bool gzip : {false, true}) {
    Bytes bytes = header(0x00000801, {0x80000000u});
    bytes.insert(bytes.end(), {1, 2});
    const std::string file = path(gzip ? "claims.gz" : "claims.idx");
    write_bytes(file, bytes, gzip);
    expect_error(file, {"truncated", "dims 2147483648 need 2147483648 bytes of data, only 2 present"});
    const auto outcome = nesgd::testing::run_with_memory_headroom(kHeadroom, [&] { read_idx(file); });
    EXPECT_EQ(outcome, nesgd::testing::LimitedOutcome::kNesgdError)
        << (gzip ? "gzip: " : "raw: ") << nesgd::testing::to_string(outcome);
  }
}

TEST_F(IdxTest, TrailingBytes) {
  for (bool gzip : {false, true}) {
    Bytes bytes = header(0x00000801, {4});
    bytes.insert(bytes.end(), {1, 2, 3, 4, 9, 9, 9});
    const std::string file = path(gzip ? "tr.gz" : "tr.idx");
    write_bytes(file, bytes, gzip);
    expect_error(file, {"3 trailing bytes", "dims 4"});
  }
}

TEST_F(IdxTest, EmptyShortOrMissing) {
  write_bytes(path("empty"), Bytes{});
  expect_error(path("empty"), {"file is empty"});
  write_bytes(path("short"), Bytes{0, 0});
  expect_error(path("short"), {"truncated", "shorter than the 4-byte IDX magic"});
  write_bytes(path("dims"), Bytes{0, 0, 8, 3, 0, 0, 0, 1});
  expect_error(path("dims"), {"truncated in the header", "3 dimensions need 12 bytes, only 4 present"});
  expect_error(path("absent.gz"), {"file not found"});
}

TEST_F(IdxTest, WriteRejectsInconsistentArray) {
  IdxArray array = sample_array({2, 3});
  array.data.pop_back();
  EXPECT_THROW(write_idx(path("bad.idx"), array, false), nesgd::Error);
  array.dims = {};
  EXPECT_THROW(write_idx(path("bad.idx"), array, false), nesgd::Error);
}

}  // namespace
