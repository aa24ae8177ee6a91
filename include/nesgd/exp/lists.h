// nesgd/exp/lists.h - the list syntax of sweeps: "100,200,500", "1..11",
// "1..2:0.5", as flags (--batch-sizes, --alphas, --seeds) or in sweep files
// (a string, a number or an array of either). Torch-free.
//
// Values are computed as a + k * step, never accumulated, and every list is
// bounded (kMaxListValues), so a typo such as "1..1e9" is an error rather
// than gigabytes. Nothing here knows what the values mean.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nesgd::exp {

// The most values one list may hold (the paper's largest study has 520 runs).
constexpr size_t kMaxListValues = 100000;

// "100,200,500", "1..11", "1..2:0.5" (a..b with step, both ends included) or a
// mix: "1,1.5,2..4". Throws nesgd::Error naming `what`.
std::vector<double> parse_number_list(const std::string& text, const std::string& what);
std::vector<int64_t> parse_int_list(const std::string& text, const std::string& what);

// A list given as a JSON array (of numbers or range strings) or a single
// string or number. Nested arrays are not lists of lists: one level only.
std::vector<double> json_number_list(const nlohmann::json& value, const std::string& what);

// The values as whole numbers of type Int (int64_t or uint64_t), positive or,
// with allow_zero, non-negative; checked before the conversion, which is
// undefined for values out of range.
template <typename Int>
std::vector<Int> whole_numbers(const std::vector<double>& values, const std::string& what, bool allow_zero);

// Throws when a list of `n` values is longer than kMaxListValues.
void check_list_length(size_t n, const std::string& what);

}  // namespace nesgd::exp
