// The list syntax of sweeps (exp/lists.h): numbers, ranges, and lists in sweep files.
#include "nesgd/exp/lists.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "nesgd/error.h"
#include "nesgd/json_read.h"
#include "nesgd/text.h"

namespace nesgd::exp {
namespace {

double parse_list_number(const std::string& text, const std::string& what) {
  const std::string t = trim(text);
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(v)) {
    throw Error(what + ": '" + text + "' is not a number (lists look like 100,200,500 or 1..11 or 1..2:0.5)");
  }
  return v;
}

// "a..b" or "a..b:step", appended to `out`.
void append_range(const std::string& item, size_t dots, const std::string& what, std::vector<double>& out) {
  const std::string rest = item.substr(dots + 2);
  const size_t colon = rest.find(':');
  const double a = parse_list_number(item.substr(0, dots), what);
  const double b = parse_list_number(rest.substr(0, colon), what);
  const double step = colon == std::string::npos ? 1.0 : parse_list_number(rest.substr(colon + 1), what);
  if (!(step > 0) || b < a) {
    throw Error(what + ": range '" + item + "' must run upwards with a positive step (e.g. 1..11 or 1..2:0.5)");
  }
  // a + k * step for k = 0..floor((b - a) / step), with a tolerance so 1..2:0.1 includes 2.
  // The count is bounded as a double first: converting a huge one is undefined.
  const double span = std::floor((b - a) / step + 1e-9);
  if (!(span < static_cast<double>(kMaxListValues))) {
    throw Error(what + ": range '" + item + "' has more than " + std::to_string(kMaxListValues) + " values");
  }
  const auto count = static_cast<int64_t>(span);
  for (int64_t k = 0; k <= count; ++k) out.push_back(a + static_cast<double>(k) * step);
}

std::vector<double> json_list_level(const nlohmann::json& v, const std::string& what, bool nested) {
  if (v.is_string()) return parse_number_list(v.get<std::string>(), what);
  if (v.is_number()) return {v.get<double>()};
  if (nested || !v.is_array()) {
    throw Error(what + ": expected a list such as [100, 200] or \"1..11\", got " + json_read::excerpt(v));
  }
  std::vector<double> out;
  for (const auto& e : v) {
    const auto part = json_list_level(e, what, true);
    out.insert(out.end(), part.begin(), part.end());
    check_list_length(out.size(), what);
  }
  return out;
}

}  // namespace

void check_list_length(size_t n, const std::string& what) {
  if (n > kMaxListValues) {
    throw Error(what + ": more than " + std::to_string(kMaxListValues) + " values; a sweep that large is a typo");
  }
}

std::vector<double> parse_number_list(const std::string& text, const std::string& what) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (item.empty()) throw Error(what + ": empty item in '" + text + "'");
    const size_t dots = item.find("..");
    if (dots == std::string::npos) {
      out.push_back(parse_list_number(item, what));
      continue;
    }
    append_range(item, dots, what, out);
    check_list_length(out.size(), what);
  }
  if (out.empty()) throw Error(what + ": the list is empty; give at least one value");
  return out;
}

std::vector<int64_t> parse_int_list(const std::string& text, const std::string& what) {
  return whole_numbers<int64_t>(parse_number_list(text, what), what, true);
}

std::vector<double> json_number_list(const nlohmann::json& value, const std::string& what) {
  return json_list_level(value, what, false);
}

template <typename Int>
std::vector<Int> whole_numbers(const std::vector<double>& values, const std::string& what, bool allow_zero) {
  // The first double that does not fit Int.
  const double limit = std::ldexp(1.0, std::numeric_limits<Int>::digits);
  std::vector<Int> out;
  for (double v : values) {
    if (v != std::floor(v) || v < (allow_zero ? 0 : 1)) {
      throw Error(what + ": " + std::to_string(v) + " is not a " + (allow_zero ? "non-negative" : "positive") +
                  " integer");
    }
    if (!(v < limit)) throw Error(what + ": " + std::to_string(v) + " is too large");
    out.push_back(static_cast<Int>(v));
  }
  return out;
}

template std::vector<int64_t> whole_numbers<int64_t>(const std::vector<double>&, const std::string&, bool);
template std::vector<uint64_t> whole_numbers<uint64_t>(const std::vector<double>&, const std::string&, bool);

}  // namespace nesgd::exp
