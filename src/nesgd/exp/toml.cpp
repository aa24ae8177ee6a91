#include "nesgd/exp/toml.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "nesgd/error.h"

namespace nesgd::exp {
namespace {

// How a table came to be decides what may add to it later (TOML 1.0, "Table"):
// a table is defined once, by its [header], by a dotted key or inline.
enum class TableKind {
  kImplicit,  // made on the way to a header ([a.b] makes a): its own [a] may still define it, once
  kHeader,    // defined by [a], or an element of [[a]]; the document itself
  kDotted,    // made by a dotted key (a.b = 1 makes a): later dotted keys of its section add to it,
              // headers may go through it ([a.c]) but not define it ([a])
};

// The document as parsed: tables keep what made them until the end, when the
// whole is converted to JSON. Values (strings, numbers, arrays, inline tables)
// are complete as written and are JSON at once.
struct Node {
  enum class Type { kTable, kTableArray, kValue };
  Type type = Type::kTable;
  TableKind kind = TableKind::kHeader;
  int depth = 0;          // levels below the document
  size_t defined_at = 0;  // offset of the key or header that made it (named in messages)
  std::map<std::string, std::unique_ptr<Node>> children;  // kTable
  std::vector<std::unique_ptr<Node>> elements;            // kTableArray: tables, never none
  nlohmann::json value;                                   // kValue
};

struct KeyPart {
  std::string name;
  size_t at;  // offset of the part in the text
};

bool is_bare_key_char(int c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Characters a number, a boolean, inf or nan may be made of (a wider set than
// TOML's, so that "1a" or "truex" is read whole and named in the error).
bool is_word_char(int c) { return is_bare_key_char(c) || c == '.' || c == '+' || c == ':'; }

bool is_digit(int c, int base) {
  switch (base) {
    case 2: return c == '0' || c == '1';
    case 8: return c >= '0' && c <= '7';
    case 10: return c >= '0' && c <= '9';
    default: return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A key as a message shows it: bare parts as they are, others quoted.
std::string key_text(const std::vector<KeyPart>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out += '.';
    const std::string& name = parts[i].name;
    bool bare = !name.empty();
    for (char c : name) bare = bare && is_bare_key_char(static_cast<unsigned char>(c));
    if (bare) {
      out += name;
      continue;
    }
    out += '"';
    for (char c : name) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7F) {
        char hex[8];
        std::snprintf(hex, sizeof(hex), "\\u%04X", u);
        out += hex;
      } else {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
    }
    out += '"';
  }
  return out;
}

class Parser {
 public:
  Parser(const std::string& text, const std::string& origin) : text_(text), origin_(origin) {}

  nlohmann::json parse() {
    if (text_.compare(0, 3, "\xEF\xBB\xBF") == 0) start_ = pos_ = 3;  // a byte order mark, as some editors write
    check_characters();
    Node root;
    Node* current = &root;
    while (true) {
      skip_blanks();
      const int c = peek();
      if (c < 0) break;
      if (c == '[') {
        current = header(root);
      } else if (c != '#' && c != '\n' && c != '\r') {
        key_value(*current);
      }
      end_line();
    }
    return to_json(root);
  }

 private:
  // --- position and errors -------------------------------------------------------------------------

  int at(size_t i) const { return i < text_.size() ? static_cast<unsigned char>(text_[i]) : -1; }
  int peek(size_t ahead = 0) const { return at(pos_ + ahead); }
  bool starts_with(std::string_view s) const { return text_.compare(pos_, s.size(), s) == 0; }

  // Line and column (in characters, from 1) of the byte at `offset`.
  std::pair<size_t, size_t> location(size_t offset) const {
    size_t line = 1, column = 1;
    for (size_t i = start_; i < offset && i < text_.size(); ++i) {
      const auto b = static_cast<unsigned char>(text_[i]);
      if (b == '\n') {
        ++line;
        column = 1;
      } else if ((b & 0xC0) != 0x80) {
        ++column;
      }
    }
    return {line, column};
  }
  std::string line_of(size_t offset) const { return "line " + std::to_string(location(offset).first); }
  std::string where(size_t offset) const {
    const auto [line, column] = location(offset);
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
  }

  [[noreturn]] void fail(size_t offset, const std::string& what) const {
    throw Error(origin_ + ": invalid TOML at " + where(offset) + ": " + what);
  }

  // The character at `offset` as a message shows it (the text is valid UTF-8 by then).
  std::string describe(size_t offset) const {
    const int c = at(offset);
    if (c < 0) return "the end of the text";
    if (c == '\n' || c == '\r') return "the end of the line";
    const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    return "'" + text_.substr(offset, len) + "'";
  }

  // --- characters ----------------------------------------------------------------------------------

  // Valid UTF-8 throughout, and no control character but tab and the line
  // ends LF and CRLF (TOML allows no other anywhere, comments and strings
  // included). Everything after relies on both.
  void check_characters() const {
    const size_t n = text_.size();
    for (size_t i = start_; i < n;) {
      const int b = at(i);
      if (b < 0x80) {
        if (b == '\r' && at(i + 1) != '\n') {
          fail(i, "a carriage return not followed by a line feed (lines end in LF or CRLF)");
        }
        if ((b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7F) {
          char code[8];
          std::snprintf(code, sizeof(code), "U+%04X", static_cast<unsigned>(b));
          fail(i, std::string("control character ") + code +
                      " (TOML allows only tab and line ends; write others as escapes in a \"string\")");
        }
        ++i;
        continue;
      }
      // Well-formed sequences (Unicode 15, table 3-7): no overlong forms, no
      // surrogates, nothing above U+10FFFF.
      size_t len = 0;
      int lo = 0x80, hi = 0xBF;
      if (b >= 0xC2 && b <= 0xDF) {
        len = 2;
      } else if (b == 0xE0) {
        len = 3, lo = 0xA0;
      } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
        len = 3;
      } else if (b == 0xED) {
        len = 3, hi = 0x9F;
      } else if (b == 0xF0) {
        len = 4, lo = 0x90;
      } else if (b >= 0xF1 && b <= 0xF3) {
        len = 4;
      } else if (b == 0xF4) {
        len = 4, hi = 0x8F;
      }
      for (size_t k = 1; k < len; ++k) {
        const int c = at(i + k);
        if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) len = 0;
      }
      if (len == 0) {
        char code[8];
        std::snprintf(code, sizeof(code), "0x%02X", static_cast<unsigned>(b));
        fail(i, std::string("invalid UTF-8 (a sequence starting with byte ") + code +
                    "); save the file as UTF-8");
      }
      i += len;
    }
  }

  void skip_blanks() {
    while (peek() == ' ' || peek() == '\t') ++pos_;
  }

  void skip_comment() {
    while (peek() >= 0 && peek() != '\n' && peek() != '\r') ++pos_;
  }

  bool skip_newline() {
    if (peek() == '\n') {
      ++pos_;
      return true;
    }
    if (peek() == '\r') {  // always followed by '\n' (check_characters)
      pos_ += 2;
      return true;
    }
    return false;
  }

  // After a header or a key/value pair: blanks, perhaps a comment, then the
  // line's end or the text's.
  void end_line() {
    skip_blanks();
    if (peek() == '#') skip_comment();
    if (peek() < 0 || skip_newline()) return;
    fail(pos_, "expected the end of the line, found " + describe(pos_));
  }

  // Inside an array: blanks, comments and line ends, in any number.
  void skip_array_space() {
    while (true) {
      skip_blanks();
      if (peek() == '#') skip_comment();
      if (!skip_newline()) return;
    }
  }

  // --- keys and tables -----------------------------------------------------------------------------

  // A dotted key: simple keys separated by '.', blanks around each. Stops
  // after the blanks that follow the last part.
  std::vector<KeyPart> key() {
    std::vector<KeyPart> parts;
    while (true) {
      skip_blanks();
      parts.push_back(simple_key());
      skip_blanks();
      if (peek() != '.') return parts;
      ++pos_;
    }
  }

  KeyPart simple_key() {
    const size_t begin = pos_;
    if (peek() == '"' || peek() == '\'') {
      if (starts_with("\"\"\"") || starts_with("'''")) fail(begin, "a key cannot be a multi-line string");
      return {peek() == '"' ? basic_string() : literal_string(), begin};
    }
    while (is_bare_key_char(peek())) ++pos_;
    if (pos_ == begin) {
      fail(begin, "expected a key, found " + describe(begin) +
                      " (bare keys are made of A-Z a-z 0-9 _ -; quote any other, as in \"key\")");
    }
    return {text_.substr(begin, pos_ - begin), begin};
  }

  Node& add_child(Node& parent, const KeyPart& part, Node::Type type, TableKind kind) {
    if (type != Node::Type::kValue && parent.depth >= kMaxTomlDepth) {  // values: value() checks
      fail(part.at, "nested more than " + std::to_string(kMaxTomlDepth) +
                        " levels deep (tables, arrays and inline tables together)");
    }
    auto node = std::make_unique<Node>();
    node->type = type;
    node->kind = kind;
    node->depth = parent.depth + 1;
    node->defined_at = part.at;
    Node& added = *node;
    parent.children[part.name] = std::move(node);
    return added;
  }

  static Node* find(Node& table, const std::string& name) {
    const auto it = table.children.find(name);
    return it == table.children.end() ? nullptr : it->second.get();
  }

  // [a.b.c] or [[a.b.c]] at pos_; returns the table that the lines below fill.
  Node* header(Node& root) {
    const size_t begin = pos_;
    const bool is_array = starts_with("[[");
    pos_ += is_array ? 2 : 1;
    const std::vector<KeyPart> parts = key();
    if (is_array ? !starts_with("]]") : peek() != ']') {
      const std::string close = is_array ? "]]" : "]";
      fail(pos_, "expected '" + close + "' to close the header, found " + describe(pos_));
    }
    pos_ += is_array ? 2 : 1;

    // Headers go through any table: implicit, defined or made by dotted keys,
    // and into the last element of an array of tables.
    Node* table = &root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      Node* child = find(*table, parts[i].name);
      if (child == nullptr) {
        child = &add_child(*table, parts[i], Node::Type::kTable, TableKind::kImplicit);
      } else if (child->type == Node::Type::kTableArray) {
        child = child->elements.back().get();
      } else if (child->type == Node::Type::kValue) {
        fail(parts[i].at, "'" + key_text(parts, i + 1) + "' already holds a value (" + line_of(child->defined_at) +
                              "), so it cannot hold a table");
      }
      table = child;
    }

    const KeyPart& last = parts.back();
    const std::string name = key_text(parts, parts.size());
    Node* node = find(*table, last.name);
    if (is_array) {
      if (node == nullptr) {
        node = &add_child(*table, last, Node::Type::kTableArray, TableKind::kHeader);
      } else if (node->type != Node::Type::kTableArray) {
        fail(last.at, "[[" + name + "]] needs an array of tables, but '" + name + "' is already " +
                          (node->type == Node::Type::kTable ? "a table" : "a value") + " (" +
                          line_of(node->defined_at) + ")");
      }
      if (node->depth >= kMaxTomlDepth) {
        fail(last.at, "nested more than " + std::to_string(kMaxTomlDepth) +
                          " levels deep (tables, arrays and inline tables together)");
      }
      auto element = std::make_unique<Node>();
      element->depth = node->depth + 1;
      element->defined_at = begin;
      node->elements.push_back(std::move(element));
      return node->elements.back().get();
    }
    if (node == nullptr) {
      node = &add_child(*table, last, Node::Type::kTable, TableKind::kHeader);
      node->defined_at = begin;
      return node;
    }
    if (node->type == Node::Type::kTableArray) {
      fail(last.at, "'" + name + "' is an array of tables ([[" + name + "]] at " + line_of(node->defined_at) +
                        "); [" + name + "] cannot define it as a table");
    }
    if (node->type == Node::Type::kValue) {
      fail(last.at, "'" + name + "' already holds a value (" + line_of(node->defined_at) + ")");
    }
    if (node->kind == TableKind::kHeader) {
      fail(begin, "table [" + name + "] is defined twice (first at " + line_of(node->defined_at) + ")");
    }
    if (node->kind == TableKind::kDotted) {
      fail(begin, "table [" + name + "] was already defined by a dotted key (" + line_of(node->defined_at) + ")");
    }
    node->kind = TableKind::kHeader;
    node->defined_at = begin;
    return node;
  }

  // key = value at pos_, into `table` (the section's table or an inline table).
  void key_value(Node& table) {
    const std::vector<KeyPart> parts = key();
    if (peek() != '=') {
      fail(pos_, "expected '=' after the key '" + key_text(parts, parts.size()) + "', found " + describe(pos_));
    }
    ++pos_;
    skip_blanks();

    // Dotted keys make tables, or go into tables that dotted keys made.
    Node* parent = &table;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      Node* child = find(*parent, parts[i].name);
      const std::string name = key_text(parts, i + 1);
      if (child == nullptr) {
        child = &add_child(*parent, parts[i], Node::Type::kTable, TableKind::kDotted);
      } else if (child->type == Node::Type::kValue) {
        fail(parts[i].at, "'" + name + "' already holds a value (" + line_of(child->defined_at) + ")" +
                              (child->value.is_object() ? "; an inline table is complete as written" : ""));
      } else if (child->type == Node::Type::kTableArray) {
        fail(parts[i].at, "'" + name + "' is an array of tables (" + line_of(child->defined_at) +
                              "); a dotted key cannot add to it");
      } else if (child->kind != TableKind::kDotted) {
        fail(parts[i].at, "the table '" + name + "' is made by a [header] (" + line_of(child->defined_at) +
                              "); a dotted key cannot add to it, only a key under its own header");
      }
      parent = child;
    }
    const KeyPart& last = parts.back();
    if (const Node* existing = find(*parent, last.name)) {
      fail(last.at, "duplicate key '" + key_text(parts, parts.size()) + "' (first at " +
                        line_of(existing->defined_at) + ")");
    }
    nlohmann::json v = value(parent->depth + 1);
    add_child(*parent, last, Node::Type::kValue, TableKind::kHeader).value = std::move(v);
  }

  static nlohmann::json to_json(Node& node) {
    switch (node.type) {
      case Node::Type::kValue:
        return std::move(node.value);
      case Node::Type::kTableArray: {
        nlohmann::json out = nlohmann::json::array();
        for (auto& element : node.elements) out.push_back(to_json(*element));
        return out;
      }
      case Node::Type::kTable:
        break;
    }
    nlohmann::json out = nlohmann::json::object();
    for (auto& [name, child] : node.children) out[name] = to_json(*child);
    return out;
  }

  // --- values --------------------------------------------------------------------------------------

  // The value at pos_; `depth`: the level it will sit at below the document.
  nlohmann::json value(int depth) {
    const int c = peek();
    if (c == '"') return starts_with("\"\"\"") ? multiline_string('"') : basic_string();
    if (c == '\'') return starts_with("'''") ? multiline_string('\'') : literal_string();
    if (c == '[' || c == '{') {
      if (depth > kMaxTomlDepth) {
        fail(pos_, "nested more than " + std::to_string(kMaxTomlDepth) +
                       " levels deep (tables, arrays and inline tables together)");
      }
      return c == '[' ? array(depth) : inline_table(depth);
    }
    if (is_word_char(c)) return word();
    fail(pos_, "expected a value (a \"string\", a number, true or false, an [array] or an {inline table}), found " +
                   describe(pos_));
  }

  nlohmann::json word() {
    const size_t begin = pos_;
    // A date or a time: 1979-05-27..., 07:32:00...
    const auto digits_then = [&](size_t count, int sep) {
      for (size_t i = 0; i < count; ++i) {
        if (!is_digit(at(begin + i), 10)) return false;
      }
      return at(begin + count) == sep;
    };
    if (digits_then(4, '-') || digits_then(2, ':')) {
      throw Error(origin_ + ": " + where(begin) + ": dates and times have no meaning in a sweep file");
    }
    while (is_word_char(peek())) ++pos_;
    const std::string w = text_.substr(begin, pos_ - begin);
    if (w == "true" || w == "false") return w == "true";
    if (w == "inf" || w == "+inf") return std::numeric_limits<double>::infinity();
    if (w == "-inf") return -std::numeric_limits<double>::infinity();
    if (w == "nan" || w == "+nan") return std::numeric_limits<double>::quiet_NaN();
    if (w == "-nan") return -std::numeric_limits<double>::quiet_NaN();
    const char first = w[0] == '+' || w[0] == '-' ? (w.size() > 1 ? w[1] : ' ') : w[0];
    if (!is_digit(first, 10)) {
      const std::string shown = w.size() > 40 ? w.substr(0, 40) + "..." : w;
      fail(begin, "'" + shown + "' is not a value; strings go in quotes (\"" + shown +
                      "\"), and numbers look like 42, -1.5, 5e-4, 0xff, inf or nan");
    }
    return number(w, begin);
  }

  // Digits of `base` with single underscores between them, appended to `out`
  // without the underscores, from w[i]; leaves i after them.
  void digits(const std::string& w, size_t& i, std::string& out, int base, size_t begin) const {
    if (i >= w.size() || !is_digit(static_cast<unsigned char>(w[i]), base)) {
      fail(begin + std::min(i, w.size()), "expected a digit in the number '" + w + "'");
    }
    while (i < w.size()) {
      const auto c = static_cast<unsigned char>(w[i]);
      if (is_digit(c, base)) {
        out += static_cast<char>(c);
      } else if (c == '_' && i + 1 < w.size() && is_digit(static_cast<unsigned char>(w[i + 1]), base)) {
        // an underscore between two digits
      } else if (c == '_') {
        fail(begin + i, "an underscore in a number must stand between two digits ('" + w + "')");
      } else {
        break;
      }
      ++i;
    }
  }

  nlohmann::json number(const std::string& w, size_t begin) const {
    const bool sign = w[0] == '+' || w[0] == '-';
    size_t i = sign ? 1 : 0;
    std::string out;
    if (w.compare(i, 2, "0x") == 0 || w.compare(i, 2, "0o") == 0 || w.compare(i, 2, "0b") == 0) {
      if (sign) fail(begin, "a hexadecimal, octal or binary integer takes no sign ('" + w + "')");
      const int base = w[1] == 'x' ? 16 : w[1] == 'o' ? 8 : 2;
      i = 2;
      digits(w, i, out, base, begin);
      if (i != w.size()) fail(begin + i, "unexpected '" + w.substr(i, 1) + "' in the integer '" + w + "'");
      return integer(out, base, w, begin);
    }
    if (w[0] == '-') out += '-';
    const size_t integer_part = i;
    digits(w, i, out, 10, begin);
    if (out.size() - (w[0] == '-' ? 1 : 0) > 1 && out[w[0] == '-' ? 1 : 0] == '0') {
      fail(begin + integer_part, "leading zeros are not allowed ('" + w + "')");
    }
    bool is_float = false;
    if (i < w.size() && w[i] == '.') {
      is_float = true;
      out += w[i++];
      digits(w, i, out, 10, begin);
    }
    if (i < w.size() && (w[i] == 'e' || w[i] == 'E')) {
      is_float = true;
      out += w[i++];
      if (i < w.size() && (w[i] == '+' || w[i] == '-')) out += w[i++];
      digits(w, i, out, 10, begin);
    }
    if (i != w.size()) fail(begin + i, "unexpected '" + w.substr(i, 1) + "' in the number '" + w + "'");
    if (!is_float) return integer(out, 10, w, begin);
    double v = 0;
    const auto [end, ec] = std::from_chars(out.data(), out.data() + out.size(), v);
    if (ec != std::errc() || end != out.data() + out.size()) {
      fail(begin, "the number '" + w + "' is out of the range of a double (magnitudes 5e-324 to 1.8e308)");
    }
    return v;
  }

  nlohmann::json integer(const std::string& digits, int base, const std::string& w, size_t begin) const {
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
      fail(begin, "the integer '" + w + "' does not fit in 64 bits (-9223372036854775808 to 9223372036854775807)");
    }
    return v;
  }

  // "..." at pos_: one line, with escapes.
  std::string basic_string() {
    const size_t open = pos_++;
    std::string out;
    while (true) {
      const int c = peek();
      if (c < 0 || c == '\n' || c == '\r') {
        fail(open, "the string is not closed on its line (a \"...\" string ends on the line it starts; "
                   "\"\"\"...\"\"\" may span lines)");
      }
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        escape(out);
      } else {
        out += static_cast<char>(c);
        ++pos_;
      }
    }
  }

  // '...' at pos_: one line, taken as it is.
  std::string literal_string() {
    const size_t open = pos_++;
    std::string out;
    while (true) {
      const int c = peek();
      if (c < 0 || c == '\n' || c == '\r') {
        fail(open, "the string is not closed on its line (a '...' string ends on the line it starts; "
                   "'''...''' may span lines)");
      }
      ++pos_;
      if (c == '\'') return out;
      out += static_cast<char>(c);
    }
  }

  // The escape at pos_ (a backslash), appended to `out` as UTF-8.
  void escape(std::string& out) {
    const size_t begin = pos_;
    const int e = peek(1);
    const char* simple = nullptr;
    switch (e) {
      case 'b': simple = "\b"; break;
      case 't': simple = "\t"; break;
      case 'n': simple = "\n"; break;
      case 'f': simple = "\f"; break;
      case 'r': simple = "\r"; break;
      case '"': simple = "\""; break;
      case '\\': simple = "\\"; break;
      case 'u':
      case 'U': break;
      default:
        fail(begin, "unknown escape '\\' followed by " + describe(begin + 1) +
                        " (TOML's escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX)");
    }
    if (simple != nullptr) {
      out += simple;
      pos_ += 2;
      return;
    }
    const size_t count = e == 'u' ? 4 : 8;
    uint32_t cp = 0;
    for (size_t i = 0; i < count; ++i) {
      const int h = peek(2 + i);
      if (!is_digit(h, 16)) {
        fail(begin, std::string("\\") + static_cast<char>(e) + " takes exactly " + std::to_string(count) +
                        " hexadecimal digits");
      }
      cp = cp * 16 + static_cast<uint32_t>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      fail(begin, "'" + text_.substr(begin, 2 + count) +
                      "' is not a Unicode character (surrogates D800-DFFF and values above 10FFFF are not)");
    }
    append_utf8(out, cp);
    pos_ += 2 + count;
  }

  // """...""" (with escapes and line-ending backslashes) or '''...''' at pos_.
  // A line end right after the opening quotes is dropped; CRLF reads as LF.
  std::string multiline_string(char quote) {
    const size_t open = pos_;
    pos_ += 3;
    skip_newline();
    std::string out;
    while (true) {
      const int c = peek();
      if (c < 0) {
        fail(open, std::string("the multi-line string is never closed (") + std::string(3, quote) + " expected)");
      }
      if (c == quote) {
        // Up to two quotes may stand right before the closing three.
        size_t run = 0;
        while (peek(run) == quote) ++run;
        if (run >= 3) {
          if (run > 5) fail(pos_, std::string("too many ") + quote + " in a row: three end the string");
          out.append(run - 3, quote);
          pos_ += run;
          return out;
        }
        out.append(run, quote);
        pos_ += run;
      } else if (c == '\\' && quote == '"') {
        // A backslash last on its line (blanks may follow it) joins the lines,
        // dropping the line end and the blanks and line ends after it.
        size_t j = pos_ + 1;
        while (at(j) == ' ' || at(j) == '\t') ++j;
        if (at(j) == '\n' || at(j) == '\r') {
          pos_ = j;
          while (true) {
            if (peek() == ' ' || peek() == '\t') {
              ++pos_;
            } else if (!skip_newline()) {
              break;
            }
          }
        } else {
          escape(out);
        }
      } else if (skip_newline()) {
        out += '\n';
      } else {
        out += static_cast<char>(c);
        ++pos_;
      }
    }
  }

  // [v, v, ...] at pos_: over several lines, with comments, a trailing comma allowed.
  nlohmann::json array(int depth) {
    const size_t open = pos_++;
    nlohmann::json out = nlohmann::json::array();
    while (true) {
      skip_array_space();
      if (peek() == ']') break;
      if (peek() < 0) fail(pos_, "the array opened at " + where(open) + " is never closed (']' expected)");
      out.push_back(value(depth + 1));
      skip_array_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') break;
      fail(pos_, "expected ',' or ']' in the array opened at " + where(open) + ", found " + describe(pos_));
    }
    ++pos_;
    return out;
  }

  // {k = v, ...} at pos_: on one line (values such as arrays may span lines),
  // no trailing comma, complete as written (TOML 1.0).
  nlohmann::json inline_table(int depth) {
    const size_t open = pos_++;
    Node table;
    table.depth = depth;
    table.defined_at = open;
    skip_blanks();
    if (peek() != '}') {
      while (true) {
        if (peek() == '\n' || peek() == '\r') {
          fail(pos_, "an inline table { ... } stays on the line it starts (TOML 1.0)");
        }
        key_value(table);
        skip_blanks();
        if (peek() == '}') break;
        if (peek() != ',') {
          fail(pos_, "expected ',' or '}' in the inline table opened at " + where(open) + ", found " + describe(pos_) +
                         " (an inline table stays on one line)");
        }
        ++pos_;
        skip_blanks();
        if (peek() == '}') fail(pos_, "a comma before '}' (inline tables take no trailing comma)");
      }
    }
    ++pos_;
    return to_json(table);
  }

  const std::string& text_;
  const std::string& origin_;
  size_t start_ = 0;  // after a byte order mark
  size_t pos_ = 0;
};

}  // namespace

nlohmann::json toml_to_json(const std::string& text, const std::string& origin) {
  return Parser(text, origin).parse();
}

}  // namespace nesgd::exp
