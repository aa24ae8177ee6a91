// nesgd/data/sha256.h - SHA-256 of files and byte streams (OpenSSL EVP).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace nesgd::data {

// Incremental hasher: update() any number of times, then hex_digest() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t size);
  std::string hex_digest();  // lowercase hex, 64 characters

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// SHA-256 of bytes held in memory, lowercase hex.
std::string sha256_bytes(const std::string& bytes);

// SHA-256 of a whole file; throws nesgd::Error if it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace nesgd::data
