// nesgd/json_read.h - typed reading of JSON that nesgd did not necessarily write.
//
// Sweep files, stored runs, store markers, model headers and checkpoints are
// JSON that a person may have edited or a disk may have damaged. nlohmann::json's
// own accessors answer a wrong type with its own exception, and convert an
// out-of-range number to an integer with undefined behaviour (1e300 as a batch
// size); these helpers instead check the type and the range and throw
// nesgd::Error naming the value ("sweep file: 'batch_size' must be an integer,
// got \"many\""). They never print, never allocate beyond the value itself.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

namespace nesgd::json_read {

// `what` names the value in the message, e.g. "sweep file: 'seeds'".
const nlohmann::json& object(const nlohmann::json& v, const std::string& what);
const nlohmann::json& array(const nlohmann::json& v, const std::string& what);
std::string string(const nlohmann::json& v, const std::string& what);
bool boolean(const nlohmann::json& v, const std::string& what);
double number(const nlohmann::json& v, const std::string& what);
// A JSON integer, or a number with no fractional part, in [min, max].
int64_t integer(const nlohmann::json& v, const std::string& what, int64_t min = std::numeric_limits<int64_t>::min(),
                int64_t max = std::numeric_limits<int64_t>::max());
uint64_t unsigned_integer(const nlohmann::json& v, const std::string& what);

// The member `key` of `object` (which must be an object), or nullptr if absent.
const nlohmann::json* find(const nlohmann::json& object, const std::string& key);

// Reads member `key` into `field` if present (field keeps its value otherwise),
// checking its type; `what` prefixes the key in the message ("sweep file").
void get(const nlohmann::json& object, const std::string& key, std::string& field, const std::string& what);
void get(const nlohmann::json& object, const std::string& key, bool& field, const std::string& what);
void get(const nlohmann::json& object, const std::string& key, double& field, const std::string& what);
void get(const nlohmann::json& object, const std::string& key, int64_t& field, const std::string& what);
void get(const nlohmann::json& object, const std::string& key, uint64_t& field, const std::string& what);
void get(const nlohmann::json& object, const std::string& key, int& field, const std::string& what);

// A short rendering of `v` for messages (at most ~60 characters).
std::string excerpt(const nlohmann::json& v);

}  // namespace nesgd::json_read
