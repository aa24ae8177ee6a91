#include "nesgd/json_read.h"

#include <cmath>

#include "nesgd/error.h"

namespace nesgd::json_read {
namespace {

constexpr size_t kExcerptChars = 60;

// 2^63 and 2^64 as doubles: the first values that do not fit int64 / uint64.
constexpr double kTwoTo63 = 9223372036854775808.0;
constexpr double kTwoTo64 = 18446744073709551616.0;

Error wrong(const std::string& what, const char* expected, const nlohmann::json& v) {
  return Error(what + " must be " + expected + ", got " + excerpt(v));
}

std::string key_what(const std::string& what, const std::string& key) {
  return what.empty() ? "'" + key + "'" : what + ": '" + key + "'";
}

}  // namespace

std::string excerpt(const nlohmann::json& v) {
  // dump() of a huge value would be huge: render small values whole, others by type.
  if (v.is_structured() && v.size() > 8) return v.is_object() ? "an object" : "an array";
  std::string text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kExcerptChars) text = text.substr(0, kExcerptChars) + "...";
  return text;
}

const nlohmann::json& object(const nlohmann::json& v, const std::string& what) {
  if (!v.is_object()) throw wrong(what, "an object {...}", v);
  return v;
}

const nlohmann::json& array(const nlohmann::json& v, const std::string& what) {
  if (!v.is_array()) throw wrong(what, "a list [...]", v);
  return v;
}

std::string string(const nlohmann::json& v, const std::string& what) {
  if (!v.is_string()) throw wrong(what, "a string", v);
  return v.get<std::string>();
}

bool boolean(const nlohmann::json& v, const std::string& what) {
  if (!v.is_boolean()) throw wrong(what, "true or false", v);
  return v.get<bool>();
}

double number(const nlohmann::json& v, const std::string& what) {
  if (!v.is_number()) throw wrong(what, "a number", v);
  return v.get<double>();
}

int64_t integer(const nlohmann::json& v, const std::string& what, int64_t min, int64_t max) {
  int64_t value = 0;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) throw wrong(what, "a smaller integer", v);
    value = static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    value = v.get<int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    // Checked before the conversion, which is undefined for values out of range.
    if (!(d == std::floor(d) && d >= -kTwoTo63 && d < kTwoTo63)) throw wrong(what, "an integer", v);
    value = static_cast<int64_t>(d);
  } else {
    throw wrong(what, "an integer", v);
  }
  if (value < min || value > max) {
    throw Error(what + " must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
                std::to_string(value));
  }
  return value;
}

uint64_t unsigned_integer(const nlohmann::json& v, const std::string& what) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (i < 0) throw wrong(what, "a non-negative integer", v);
    return static_cast<uint64_t>(i);
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!(d == std::floor(d) && d >= 0 && d < kTwoTo64)) throw wrong(what, "a non-negative integer", v);
    return static_cast<uint64_t>(d);
  }
  throw wrong(what, "a non-negative integer", v);
}

const nlohmann::json* find(const nlohmann::json& obj, const std::string& key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

void get(const nlohmann::json& obj, const std::string& key, std::string& field, const std::string& what) {
  if (const auto* v = find(obj, key)) field = string(*v, key_what(what, key));
}
void get(const nlohmann::json& obj, const std::string& key, bool& field, const std::string& what) {
  if (const auto* v = find(obj, key)) field = boolean(*v, key_what(what, key));
}
void get(const nlohmann::json& obj, const std::string& key, double& field, const std::string& what) {
  if (const auto* v = find(obj, key)) field = number(*v, key_what(what, key));
}
void get(const nlohmann::json& obj, const std::string& key, int64_t& field, const std::string& what) {
  if (const auto* v = find(obj, key)) field = integer(*v, key_what(what, key));
}
void get(const nlohmann::json& obj, const std::string& key, uint64_t& field, const std::string& what) {
  if (const auto* v = find(obj, key)) field = unsigned_integer(*v, key_what(what, key));
}
void get(const nlohmann::json& obj, const std::string& key, int& field, const std::string& what) {
  if (const auto* v = find(obj, key)) {
    field = static_cast<int>(
        integer(*v, key_what(what, key), std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
  }
}

}  // namespace nesgd::json_read
