// nesgd's TOML reader (exp/toml.h): every construct a sweep file or an
// ordinary TOML file uses, compared with its exact JSON (types included: the
// JSON text of 1 is "1", of 1.0 "1.0"); every error with its line and column;
// the inputs that crashed toml++ 3.3; nesting beyond the limit; the example
// sweep of docs/EXPERIMENTS.md.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "nesgd/error.h"
#include "nesgd/exp/grid.h"
#include "nesgd/exp/sweep_file.h"
#include "nesgd/exp/toml.h"

namespace ex = nesgd::exp;

namespace {

nlohmann::json toml(const std::string& text) { return ex::toml_to_json(text, "t.toml"); }

// The TOML text reads as exactly this JSON (same types, same values).
void expect_json(const std::string& text, const char* json) {
  SCOPED_TRACE(text);
  try {
    EXPECT_EQ(toml(text).dump(), nlohmann::json::parse(json).dump());
  } catch (const nesgd::Error& e) {
    ADD_FAILURE() << e.what();
  }
}

// The TOML text is refused with "t.toml: invalid TOML at line L, column C: " and `what` in the message.
void expect_invalid(const std::string& text, int line, int column, const std::string& what) {
  SCOPED_TRACE(text);
  const std::string where =
      "t.toml: invalid TOML at line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
  try {
    toml(text);
    ADD_FAILURE() << "no nesgd::Error thrown";
  } catch (const nesgd::Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(where, 0), 0u) << "expected it to start with '" << where << "': " << message;
    EXPECT_NE(message.find(what), std::string::npos) << "missing '" << what << "' in: " << message;
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

// --- what TOML 1.0 files hold ----------------------------------------------------------------------

TEST(Toml, EmptyTextBlankLinesAndCommentsReadAsAnEmptyTable) {
  expect_json("", "{}");
  expect_json("\n\n  \t\n", "{}");
  expect_json("# only a comment", "{}");
  expect_json("# one\n  # two, indented\na = 1 # after a value\n# last\n", R"({"a": 1})");
  expect_json("[t] # after a header\n", R"({"t": {}})");
  expect_json("a = 1 #no space before the comment\n", R"({"a": 1})");
  expect_json("s = \"# not a comment\"", R"({"s": "# not a comment"})");
}

TEST(Toml, BareQuotedAndDottedKeys) {
  expect_json("bare_key-1 = 1\nABC = 2\n1234 = 3\n", R"({"bare_key-1": 1, "ABC": 2, "1234": 3})");
  expect_json("\"quoted key\" = 1\n'literal \\ key' = 2\n\"\" = 3\n\"\\u00e9\" = 4\n",
              R"({"quoted key": 1, "literal \\ key": 2, "": 3, "é": 4})");
  expect_json("a.b.c = 1\na.b.d = 2\na . e = 3\n\"x.y\".z = 4\n",
              R"({"a": {"b": {"c": 1, "d": 2}, "e": 3}, "x.y": {"z": 4}})");
  expect_json("  indented = true\n", R"({"indented": true})");
  expect_json("a=1\nb =2\nc= 3\n", R"({"a": 1, "b": 2, "c": 3})");
}

TEST(Toml, TableHeadersAndSubTables) {
  expect_json("top = 1\n[a]\nx = 1\n[a.b]\ny = 2\n[ c . \"d e\" ]\nz = 3\n",
              R"({"top": 1, "a": {"x": 1, "b": {"y": 2}}, "c": {"d e": {"z": 3}}})");
  // A table made on the way to a header may be defined by its own header later, once.
  expect_json("[x.y.z]\nw = 1\n[x]\nv = 2\n", R"({"x": {"y": {"z": {"w": 1}}, "v": 2}})");
  // Headers may add sub-tables to a table that dotted keys made (TOML 1.0's [fruit] example).
  expect_json("[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true\n",
              R"({"fruit": {"apple": {"color": "red", "taste": {"sweet": true}, "texture": {"smooth": true}}}})");
  expect_json("[empty]\n", R"({"empty": {}})");
}

TEST(Toml, ArraysOfTables) {
  expect_json("[[run]]\nb = 100\n[[run]]\n[[run]]\nb = 300\n", R"({"run": [{"b": 100}, {}, {"b": 300}]})");
  // A sub-table header goes into the last element; a nested array of tables likewise.
  expect_json("[[fruit]]\nname = \"apple\"\n[fruit.physical]\ncolor = \"red\"\n[[fruit.variety]]\nname = \"red"
              " delicious\"\n[[fruit.variety]]\nname = \"granny smith\"\n[[fruit]]\nname = \"banana\"\n",
              R"({"fruit": [{"name": "apple", "physical": {"color": "red"},
                            "variety": [{"name": "red delicious"}, {"name": "granny smith"}]},
                           {"name": "banana"}]})");
}

TEST(Toml, BasicStringsWithEveryEscape) {
  expect_json(R"(s = "plain")", R"({"s": "plain"})");
  expect_json(R"(s = "\b\t\n\f\r\"\\")", R"({"s": "\b\t\n\f\r\"\\"})");
  expect_json(R"(s = "\u00e9\u00E9 \U0001F600 \u0041")", R"({"s": "éé 😀 A"})");
  expect_json(R"(s = "\u0000")", R"({"s": "\u0000"})");
  expect_json(R"(s = "\U0010FFFF")", R"({"s": "\udbff\udfff"})");
  expect_json("s = \"tab\there\"", R"({"s": "tab\there"})");
  expect_json("s = \"it's\"", R"({"s": "it's"})");
  expect_json("s = \"\"", R"({"s": ""})");
}

TEST(Toml, LiteralStringsTakeEverythingAsWritten) {
  expect_json(R"(s = 'C:\Users\nesgd')", R"({"s": "C:\\Users\\nesgd"})");
  expect_json(R"(s = '<\i\c*\s*>')", R"({"s": "<\\i\\c*\\s*>"})");
  expect_json(R"(s = 'say "hi"')", R"({"s": "say \"hi\""})");
  expect_json("s = ''", R"({"s": ""})");
}

TEST(Toml, MultiLineBasicStrings) {
  // The line end right after the opening quotes is dropped; later ones are kept.
  expect_json("s = \"\"\"\nRoses\nViolets\"\"\"", R"({"s": "Roses\nViolets"})");
  expect_json("s = \"\"\"one line\"\"\"", R"({"s": "one line"})");
  // A backslash last on its line drops the line end and the blanks and line ends after it.
  expect_json("s = \"\"\"\nThe quick \\\n\n   brown \\   \n  fox.\"\"\"", R"({"s": "The quick brown fox."})");
  expect_json("s = \"\"\"\\\n  \"\"\"", R"({"s": ""})");
  // Escapes work; one or two quotes may stand anywhere, also right before the closing three.
  expect_json("s = \"\"\"a\\tb \\\"\"\" \\u00e9\"\"\"", R"({"s": "a\tb \"\"\" é"})");
  expect_json("s = \"\"\"Here are two quotation marks: \"\". Simple.\"\"\"",
              R"({"s": "Here are two quotation marks: \"\". Simple."})");
  expect_json("s = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"",
              R"({"s": "\"This,\" she said, \"is just a pointless statement.\""})");
  expect_json("s = \"\"\"\"\"\"", R"({"s": ""})");
  expect_json("s = \"\"\"x\"\"\"\"\"", R"({"s": "x\"\""})");
  // CRLF inside reads as LF.
  expect_json("s = \"\"\"\r\na\r\nb\"\"\"\r\n", R"({"s": "a\nb"})");
}

TEST(Toml, MultiLineLiteralStrings) {
  expect_json("re = '''I [dw]on't need \\d{2} apples'''", R"({"re": "I [dw]on't need \\d{2} apples"})");
  expect_json("s = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n'''",
              R"({"s": "The first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n"})");
  // No escapes, so a backslash at a line's end stays.
  expect_json("s = '''a \\\nb'''", R"({"s": "a \\\nb"})");
  expect_json("s = ''''That,' she said, 'is still pointless.''''",
              R"({"s": "'That,' she said, 'is still pointless.'"})");
}

TEST(Toml, Integers) {
  expect_json("a = 99\nb = +99\nc = 42\nd = 0\ne = -17\nf = +0\ng = -0\n",
              R"({"a": 99, "b": 99, "c": 42, "d": 0, "e": -17, "f": 0, "g": 0})");
  expect_json("a = 1_000\nb = 5_349_221\nc = 53_49_221\nd = 1_2_3_4_5\n",
              R"({"a": 1000, "b": 5349221, "c": 5349221, "d": 12345})");
  expect_json("h1 = 0xDEADBEEF\nh2 = 0xdeadbeef\nh3 = 0xdead_beef\no1 = 0o01234567\no2 = 0o755\nb1 = 0b11010110\n"
              "h4 = 0x00ff\n",
              R"({"h1": 3735928559, "h2": 3735928559, "h3": 3735928559, "o1": 342391, "o2": 493, "b1": 214,
                  "h4": 255})");
  expect_json("max = 9223372036854775807\nmin = -9223372036854775808\nhex = 0x7FFFFFFFFFFFFFFF\n",
              R"({"max": 9223372036854775807, "min": -9223372036854775808, "hex": 9223372036854775807})");
  const auto j = toml("a = -9223372036854775808\nb = 7\n");
  EXPECT_TRUE(j["a"].is_number_integer());
  EXPECT_EQ(j["a"].get<int64_t>(), std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(j["b"].is_number_integer());
}

TEST(Toml, Floats) {
  expect_json("a = +1.0\nb = 3.1415\nc = -0.01\nd = 5e+22\ne = 1e06\nf = -2E-2\ng = 6.626e-34\nh = 224_617.445_991\n"
              "i = 1e1_0\nj = 0.0\nk = 0e0\nl = 5e-4\n",
              R"({"a": 1.0, "b": 3.1415, "c": -0.01, "d": 5e+22, "e": 1e06, "f": -2E-2, "g": 6.626e-34,
                  "h": 224617.445991, "i": 1e10, "j": 0.0, "k": 0.0, "l": 0.0005})");
  const auto j = toml("a = inf\nb = +inf\nc = -inf\nd = nan\ne = +nan\nf = -nan\ng = 1.0\n");
  EXPECT_EQ(j["a"].get<double>(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(j["b"].get<double>(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(j["c"].get<double>(), -std::numeric_limits<double>::infinity());
  for (const char* key : {"d", "e", "f"}) {
    EXPECT_TRUE(j[key].is_number_float()) << key;
    EXPECT_TRUE(std::isnan(j[key].get<double>())) << key;
  }
  EXPECT_TRUE(std::signbit(j["f"].get<double>()));
  EXPECT_TRUE(j["g"].is_number_float());
  EXPECT_EQ(j["g"].get<double>(), 1.0);
  // The smallest and the largest doubles still read.
  EXPECT_EQ(toml("a = 1.7976931348623157e308")["a"].get<double>(), std::numeric_limits<double>::max());
  EXPECT_EQ(toml("a = 4.9406564584124654e-324")["a"].get<double>(), std::numeric_limits<double>::denorm_min());
}

TEST(Toml, Booleans) {
  expect_json("t = true\nf = false\n", R"({"t": true, "f": false})");
  expect_json("a = [true,false]", R"({"a": [true, false]})");
}

TEST(Toml, Arrays) {
  expect_json("a = []\nb = [ ]\nc = [1, 2, 3]\nd = [\"x\", 'y']\n",
              R"({"a": [], "b": [], "c": [1, 2, 3], "d": ["x", "y"]})");
  // Over several lines, with comments, blank lines and a trailing comma.
  expect_json("batch_sizes = [\n  100, # first\n\n  200,\n  # a comment line\n  500,\n]\n",
              R"({"batch_sizes": [100, 200, 500]})");
  expect_json("a = [1,2,]\nb = [\n1\n,\n2\n]\n", R"({"a": [1, 2], "b": [1, 2]})");
  // Mixed types, nested arrays and inline tables (TOML 1.0 allows them all in one array).
  expect_json("m = [1, 1.5, \"1..2\", true, [2, [3]], {a = 1}, []]",
              R"({"m": [1, 1.5, "1..2", true, [2, [3]], {"a": 1}, []]})");
  expect_json("a = [\n  { x = 1 },\n  { x = 2 },\n]\n", R"({"a": [{"x": 1}, {"x": 2}]})");
}

TEST(Toml, InlineTables) {
  expect_json("optimizer = { name = \"adamw\", weight_decay = 0.01 }",
              R"({"optimizer": {"name": "adamw", "weight_decay": 0.01}})");
  expect_json("t = {a = 1, b.c = 2, b.d = 3}", R"({"t": {"a": 1, "b": {"c": 2, "d": 3}}})");
  expect_json("e = {}\nf = { }\n", R"({"e": {}, "f": {}})");
  expect_json("t = {x = {y = [1, {z = 2}]}}", R"({"t": {"x": {"y": [1, {"z": 2}]}}})");
  expect_json("t = {\"q k\" = 'v', 'l' = \"w\"}", R"({"t": {"q k": "v", "l": "w"}})");
  // A value inside may span lines; the table itself may not.
  expect_json("t = {a = [\n1,\n2]}\n", R"({"t": {"a": [1, 2]}})");
  expect_json("[s]\nt.u = {v = 1}\n", R"({"s": {"t": {"u": {"v": 1}}}})");
}

TEST(Toml, CrlfLineEndsAndAByteOrderMark) {
  expect_json("a = 1\r\n[t]\r\nb = [\r\n2,\r\n]\r\n# c\r\n", R"({"a": 1, "t": {"b": [2]}})");
  expect_json("\xEF\xBB\xBF" "a = 1\n", R"({"a": 1})");
  // Columns are counted after the mark.
  expect_invalid("\xEF\xBB\xBF" "a = ?", 1, 5, "expected a value");
}

// toml++ 3.3 had undefined behaviour on letters such as U+02B5 ("\xCA\xB5")
// and refused them anywhere; this reader takes any character in strings,
// quoted keys and comments, and counts columns in characters.
TEST(Toml, AnyUnicodeCharacterInStringsQuotedKeysAndComments) {
  expect_json("name = \"\xCA\xB5 \xC3\xA9t\xC3\xA9 \xD0\x96 \xE2\x80\x94 \xE4\xB8\xAD \xF0\x9F\x98\x80\" # \xC2\xA7 \xEF\xBB\xBF\n",
              R"({"name": "ʵ été Ж — 中 😀"})");
  expect_json("'\xC3\xA9' = '\xEF\xBC\xA1'\n\"\xE2\x80\x94\".x = \"\"\"\xC2\xA7\n\xC2\xA7\"\"\"\n",
              R"({"é": "Ａ", "—": {"x": "§\n§"}})");
  // A non-breaking or ideographic space is not TOML whitespace.
  expect_invalid("a =\xC2\xA0" "1", 1, 4, "expected a value");
  expect_invalid("a = 1\xE3\x80\x80", 1, 6, "expected the end of the line");
  expect_invalid("\xC3\xA9t\xC3\xA9 = 1", 1, 1, "expected a key");
  expect_invalid("s = \"\xC3\xA9\xC3\xA9\" x", 1, 10, "expected the end of the line");
}

TEST(Toml, DatesAndTimesHaveNoMeaningInASweepFile) {
  for (const char* text : {"d = 2026-11-28", "d = 1979-05-27T07:32:00Z", "d = 1979-05-27 07:32:00-07:00",
                           "d = 07:32:00", "d = [1, 1979-05-27]"}) {
    SCOPED_TRACE(text);
    try {
      toml(text);
      ADD_FAILURE() << "no nesgd::Error thrown";
    } catch (const nesgd::Error& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.rfind("t.toml: line 1, column ", 0), 0u) << message;
      EXPECT_NE(message.find("dates and times have no meaning in a sweep file"), std::string::npos) << message;
    }
  }
}

// --- errors, each with its line and column ---------------------------------------------------------

TEST(Toml, DuplicateKeysAndRedefinedTablesAreErrors) {
  expect_invalid("a = 1\na = 2\n", 2, 1, "duplicate key 'a' (first at line 1)");
  expect_invalid("a = 1\n\"a\" = 2\n", 2, 1, "duplicate key 'a'");
  expect_invalid("a.b = 1\na.b = 2\n", 2, 3, "duplicate key 'a.b'");
  expect_invalid("t = {x = 1, x = 2}", 1, 13, "duplicate key 'x'");
  expect_invalid("[a]\nx = 1\n[a]\n", 3, 1, "table [a] is defined twice (first at line 1)");
  expect_invalid("[a.b]\n[a]\n[a]\n", 3, 1, "table [a] is defined twice (first at line 2)");
  expect_invalid("[a]\nb = 1\n[a.b]\n", 3, 4, "'a.b' already holds a value (line 2)");
  expect_invalid("a = 1\n[a.b]\n", 2, 2, "'a' already holds a value (line 1), so it cannot hold a table");
  // A table made by dotted keys is defined: no header may define it again.
  expect_invalid("a.b = 1\n[a]\n", 2, 1, "table [a] was already defined by a dotted key (line 1)");
  expect_invalid("[x]\na.b.c = 1\n[x.a.b]\n", 3, 1, "table [x.a.b] was already defined by a dotted key");
  // Dotted keys add only to tables dotted keys made.
  expect_invalid("[a.b]\nx = 1\n[a]\nb.y = 2\n", 4, 1, "the table 'b' is made by a [header] (line 1)");
  // Inline tables and arrays are complete as written.
  expect_invalid("a = {b = 1}\na.c = 2\n", 2, 1, "'a' already holds a value (line 1); an inline table is complete");
  expect_invalid("a = {b = 1}\n[a]\n", 2, 2, "'a' already holds a value (line 1)");
  expect_invalid("a = {b = 1}\n[a.c]\n", 2, 2, "'a' already holds a value");
  expect_invalid("t = {a.b = 1, a = 2}", 1, 15, "duplicate key 'a'");
  expect_invalid("a = []\n[[a]]\n", 2, 3, "[[a]] needs an array of tables, but 'a' is already a value (line 1)");
  expect_invalid("[a]\n[[a]]\n", 2, 3, "'a' is already a table (line 1)");
  expect_invalid("[[a]]\n[a]\n", 2, 2, "'a' is an array of tables ([[a]] at line 1)");
  expect_invalid("[[a]]\nx = 1\n[a.x]\n", 3, 4, "'a.x' already holds a value (line 2)");
  expect_invalid("[[t.a]]\n[t]\na.b = 1\n", 3, 1, "'a' is an array of tables (line 1); a dotted key cannot add to it");
}

TEST(Toml, BadStringsAreErrors) {
  expect_invalid("s = \"\\e\"", 1, 6, "unknown escape '\\' followed by 'e'");
  expect_invalid("s = \"\\x41\"", 1, 6, "unknown escape");
  expect_invalid("s = \"a\\ b\"", 1, 7, "unknown escape '\\' followed by ' '");
  expect_invalid("s = \"\\u00e\"", 1, 6, "\\u takes exactly 4 hexadecimal digits");
  expect_invalid("s = \"\\U0001F60\"", 1, 6, "\\U takes exactly 8 hexadecimal digits");
  expect_invalid("s = \"\\uD800\"", 1, 6, "'\\uD800' is not a Unicode character");
  expect_invalid("s = \"\\uDFFF\"", 1, 6, "not a Unicode character");
  expect_invalid("s = \"\\U00110000\"", 1, 6, "'\\U00110000' is not a Unicode character");
  // Unterminated strings: at the opening quote.
  expect_invalid("a = 1\ns = \"open\nt = 2\n", 2, 5, "the string is not closed on its line");
  expect_invalid("s = 'open", 1, 5, "the string is not closed on its line");
  expect_invalid("s = \"open\\", 1, 10, "unknown escape '\\' followed by the end of the text");
  expect_invalid("s = \"\"\"\nnever closed\n\"\"", 1, 5, "the multi-line string is never closed");
  expect_invalid("s = '''never closed''", 1, 5, "the multi-line string is never closed");
  expect_invalid("s = \"\"\"a\"\"\"\"\"\"", 1, 9, "too many \" in a row");
  expect_invalid("s = \"\"\"a\\\"\"\"", 1, 5, "never closed");
  expect_invalid("\"\"\"k\"\"\" = 1", 1, 1, "a key cannot be a multi-line string");
  expect_invalid("s = \"a\" \"b\"", 1, 9, "expected the end of the line");
}

TEST(Toml, ControlCharactersAndInvalidUtf8AreErrors) {
  expect_invalid("a = 1\ns = \"x\x01y\"", 2, 7, "control character U+0001");
  expect_invalid("s = 'x\x7Fy'", 1, 7, "control character U+007F");
  expect_invalid("# comment \x1B[0m\n", 1, 11, "control character U+001B");
  expect_invalid(std::string("a = 1\0", 6), 1, 6, "control character U+0000");
  expect_invalid("s = \"\"\"\x0C\"\"\"", 1, 8, "control character U+000C");
  expect_invalid("a = 1\rb = 2", 1, 6, "a carriage return not followed by a line feed");
  // Bytes that are not UTF-8: a stray continuation byte, a truncated
  // sequence, an overlong form, a surrogate, beyond U+10FFFF, Latin-1.
  expect_invalid("s = \"\x80\"", 1, 6, "invalid UTF-8 (a sequence starting with byte 0x80)");
  expect_invalid("s = \"\xC3\"", 1, 6, "invalid UTF-8");
  expect_invalid("s = \"\xE2\x82", 1, 6, "invalid UTF-8");
  expect_invalid("s = \"\xC0\xAF\"", 1, 6, "invalid UTF-8 (a sequence starting with byte 0xC0)");
  expect_invalid("s = \"\xE0\x80\xAF\"", 1, 6, "invalid UTF-8");
  expect_invalid("s = \"\xED\xA0\x80\"", 1, 6, "invalid UTF-8");
  expect_invalid("s = \"\xF4\x90\x80\x80\"", 1, 6, "invalid UTF-8");
  expect_invalid("# caf\xE9\n", 1, 6, "invalid UTF-8 (a sequence starting with byte 0xE9)");
  expect_invalid("\xC3\xA9\xC3\xA9 \xFF", 1, 4, "invalid UTF-8");  // columns count characters
}

TEST(Toml, BadNumbersAreErrors) {
  expect_invalid("a = 9223372036854775808", 1, 5, "the integer '9223372036854775808' does not fit in 64 bits");
  expect_invalid("a = -9223372036854775809", 1, 5, "does not fit in 64 bits");
  expect_invalid("a = 0x8000000000000000", 1, 5, "does not fit in 64 bits");
  expect_invalid("a = 1e309", 1, 5, "the number '1e309' is out of the range of a double");
  expect_invalid("a = -1e400", 1, 5, "out of the range of a double");
  expect_invalid("a = 1e-400", 1, 5, "out of the range of a double");
  expect_invalid("a = 01", 1, 5, "leading zeros are not allowed ('01')");
  expect_invalid("a = -007", 1, 6, "leading zeros are not allowed");
  expect_invalid("a = 0_1", 1, 5, "leading zeros are not allowed");
  expect_invalid("a = 01.5", 1, 5, "leading zeros are not allowed");
  expect_invalid("a = 1__000", 1, 6, "an underscore in a number must stand between two digits ('1__000')");
  expect_invalid("a = 1000_", 1, 9, "an underscore in a number must stand between two digits");
  expect_invalid("a = _1", 1, 5, "'_1' is not a value");
  expect_invalid("a = 1_.5", 1, 6, "an underscore");
  expect_invalid("a = 1.", 1, 7, "expected a digit in the number '1.'");
  expect_invalid("a = 1.e5", 1, 7, "expected a digit");
  expect_invalid("a = 1e", 1, 7, "expected a digit");
  expect_invalid("a = .5", 1, 5, "'.5' is not a value");
  expect_invalid("a = 1.5.1", 1, 8, "unexpected '.' in the number '1.5.1'");
  expect_invalid("a = 0xG", 1, 7, "expected a digit");
  expect_invalid("a = 0o8", 1, 7, "expected a digit");
  expect_invalid("a = 0b102", 1, 9, "unexpected '2' in the integer '0b102'");
  expect_invalid("a = +0x10", 1, 5, "a hexadecimal, octal or binary integer takes no sign");
  expect_invalid("a = 0X10", 1, 6, "unexpected 'X'");
  expect_invalid("a = 1a", 1, 6, "unexpected 'a'");
  expect_invalid("a = +", 1, 5, "'+' is not a value");
  expect_invalid("a = infinity", 1, 5, "'infinity' is not a value");
  expect_invalid("a = NaN", 1, 5, "'NaN' is not a value");
  expect_invalid("a = True", 1, 5, "'True' is not a value");
  expect_invalid("name = f1", 1, 8, "'f1' is not a value; strings go in quotes (\"f1\")");
}

TEST(Toml, MalformedSyntaxIsAnError) {
  expect_invalid("a", 1, 2, "expected '=' after the key 'a', found the end of the text");
  expect_invalid("a b = 1", 1, 3, "expected '=' after the key 'a', found 'b'");
  expect_invalid("a =", 1, 4, "expected a value");
  expect_invalid("a = \nb = 1", 1, 5, "expected a value (a \"string\", a number, true or false, an [array] or an "
                                      "{inline table}), found the end of the line");
  expect_invalid("= 1", 1, 1, "expected a key, found '='");
  expect_invalid("a. = 1", 1, 4, "expected a key");
  expect_invalid(".a = 1", 1, 1, "expected a key");
  expect_invalid("a..b = 1", 1, 3, "expected a key");
  expect_invalid("a = 1 b = 2", 1, 7, "expected the end of the line, found 'b'");
  expect_invalid("a = 1,", 1, 6, "expected the end of the line, found ','");
  expect_invalid("[]", 1, 2, "expected a key");
  expect_invalid("[a", 1, 3, "expected ']' to close the header, found the end of the text");
  expect_invalid("[a]]", 1, 4, "expected the end of the line, found ']'");
  expect_invalid("[a] b = 1", 1, 5, "expected the end of the line");
  expect_invalid("[[a]", 1, 4, "expected ']]' to close the header, found ']'");
  expect_invalid("[[a] ]", 1, 4, "expected ']]'");
  expect_invalid("[ [a] ]", 1, 3, "expected a key");
  expect_invalid("a = [1 2]", 1, 8, "expected ',' or ']' in the array opened at line 1, column 5, found '2'");
  expect_invalid("a = [,]", 1, 6, "expected a value");
  expect_invalid("a = [1,,2]", 1, 8, "expected a value");
  expect_invalid("a = [1,\n2,\n", 3, 1, "the array opened at line 1, column 5 is never closed");
  expect_invalid("a = {b = 1 c = 2}", 1, 12, "expected ',' or '}' in the inline table opened at line 1, column 5");
  expect_invalid("a = {b = 1,}", 1, 12, "a comma before '}' (inline tables take no trailing comma)");
  expect_invalid("a = {,}", 1, 6, "expected a key");
  expect_invalid("a = {b = 1\n}", 1, 11, "an inline table stays on one line");
  expect_invalid("a = {\nb = 1}", 1, 6, "an inline table { ... } stays on the line it starts");
  expect_invalid("a = {b = 1, # c\n}", 1, 13, "expected a key");
  expect_invalid("a = {b}", 1, 7, "expected '=' after the key 'b'");
  expect_invalid("a = }", 1, 5, "expected a value");
  expect_invalid("a = ]", 1, 5, "expected a value");
  expect_invalid("a = \"x\" ]", 1, 9, "expected the end of the line");
  expect_invalid("x = 1\n\n  [t]\n  y = 2\n  z\n", 5, 4, "expected '=' after the key 'z'");
}

// The inputs on which toml++ 3.3 had undefined behaviour (found by fuzzing;
// fuzz/corpus/sweep_toml/crash-*): plain syntax errors here.
TEST(Toml, InputsThatCrashedTomlPlusPlusAreErrors) {
  expect_invalid("[=", 1, 2, "expected a key, found '='");
  expect_invalid("[[[1]]]", 1, 3, "expected a key, found '['");
  expect_invalid("a = [}]", 1, 6, "expected a value");
  expect_invalid("alphas = [}an, inf]\n5   \n", 1, 11, "expected a value");
  expect_invalid("\xCA\xB5", 1, 1, "expected a key, found '\xCA\xB5'");
  expect_invalid("a = [[1]]\n[[[1]]]\n", 2, 3, "expected a key");
  expect_invalid("[#]", 1, 2, "expected a key");
  expect_invalid("[.a]", 1, 2, "expected a key");
  expect_invalid("s = \"\"\"\\\n\xCA\xB5\"\"\" x", 2, 6, "expected the end of the line");
  // Every committed seed and former crash either reads or is an nesgd::Error.
  const std::filesystem::path corpus = std::filesystem::path(NESGD_SOURCE_DIR) / "fuzz/corpus/sweep_toml";
  ASSERT_TRUE(std::filesystem::is_directory(corpus)) << corpus;
  int crashes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    const std::string name = entry.path().filename().string();
    try {
      (void)toml(read_file(entry.path())).dump();
    } catch (const nesgd::Error& e) {
      EXPECT_NE(std::string(e.what()).find("t.toml: "), std::string::npos) << name << ": " << e.what();
    }
    crashes += name.rfind("crash-", 0) == 0 ? 1 : 0;
  }
  EXPECT_GE(crashes, 4);
}

// Deep nesting is refused before it recurses: tables, arrays and inline
// tables together at most kMaxTomlDepth (64) levels below the document.
TEST(Toml, NestingDeeperThanTheLimitIsRefused) {
  ASSERT_EQ(ex::kMaxTomlDepth, 64);
  const auto nested = [](int levels, const std::string& open, const std::string& close) {
    std::string s;
    for (int i = 0; i < levels; ++i) s += open;
    for (int i = 0; i < levels; ++i) s += close;
    return s;
  };
  // "a = [[...]]": the key's array is level 1.
  const auto j = toml("a = " + nested(64, "[", "]"));
  const nlohmann::json* v = &j["a"];
  for (int level = 1; level < 64; ++level) v = &(*v)[0];
  EXPECT_EQ(v->dump(), "[]");
  expect_invalid("a = " + nested(65, "[", "]"), 1, 69, "nested more than 64 levels deep");
  expect_invalid("a = " + nested(100000, "[", "]"), 1, 69, "nested more than 64 levels deep");
  std::string inline_tables = "a = ";
  for (int i = 0; i < 64; ++i) inline_tables += "{b = ";
  EXPECT_NO_THROW(toml(inline_tables + "1" + std::string(64, '}')));
  expect_invalid(inline_tables + "{b = 1" + std::string(65, '}'), 1, 325, "nested more than 64 levels deep");
  // Dotted keys and headers count their parts: 64 tables, then a value.
  std::string key = "k";
  for (int i = 0; i < 64; ++i) key += ".k";
  EXPECT_NO_THROW(toml(key + " = 1"));
  expect_invalid(key + ".k = 1", 1, 129, "nested more than 64 levels deep");
  const std::string header = key.substr(0, key.size() - 2);  // 64 parts
  EXPECT_NO_THROW(toml("[" + header + "]\nv = 1"));
  expect_invalid("[" + header + ".k]", 1, 130, "nested more than 64 levels deep");
  // [[a]]'s tables are a level below its array.
  EXPECT_NO_THROW(toml("[[" + header.substr(2) + "]]"));
  expect_invalid("[[" + header + "]]", 1, 129, "nested more than 64 levels deep");
  // Levels add up across a header, a dotted key and an inline table.
  const std::string k20 = key.substr(0, 39);  // 20 parts
  EXPECT_NO_THROW(toml("[" + k20 + "]\n" + k20 + " = " + nested(25, "[", "]")));  // 20 + 19 + 25 levels
  expect_invalid("[" + k20 + "]\n" + k20 + " = " + nested(26, "[", "]"), 2, 68, "nested more than 64 levels");
}

// --- the sweep file of docs/EXPERIMENTS.md --------------------------------------------------------

TEST(Toml, ExperimentsDocExampleSweepReadsAsDocumented) {
  const std::string doc = read_file(std::filesystem::path(NESGD_SOURCE_DIR) / "docs/EXPERIMENTS.md");
  const size_t open = doc.find("```toml\n");
  ASSERT_NE(open, std::string::npos) << "docs/EXPERIMENTS.md has no ```toml block";
  const size_t begin = open + 8;
  const size_t end = doc.find("```", begin);
  ASSERT_NE(end, std::string::npos);
  const std::string text = doc.substr(begin, end - begin);
  const auto j = ex::toml_to_json(text, "EXPERIMENTS.md");
  EXPECT_EQ(j.dump(), nlohmann::json::parse(R"({
      "name": "lr-study", "preset": "f1-fig2", "configs": ["f1"], "batch_sizes": [100, 500, 2000],
      "alphas": "1..2:0.5", "seeds": "1..10", "train_subset": 10000, "max_iterations": 50000,
      "optimizer": {"lr": 0.0005}})").dump());
  // The sweep it describes, and the same sweep from its JSON text: one spec.
  const ex::SweepSpec s = ex::sweep_spec_from_json(j);
  EXPECT_EQ(s.name, "lr-study");
  EXPECT_EQ(s.configs, std::vector<std::string>{"f1"});
  EXPECT_EQ(s.batch_sizes, (std::vector<int64_t>{100, 500, 2000}));
  EXPECT_EQ(s.alphas, (std::vector<double>{1, 1.5, 2}));
  EXPECT_EQ(s.seeds.size(), 10u);
  EXPECT_EQ(s.size(), 90u);
  EXPECT_EQ(s.base.train_subset, 10000);
  EXPECT_EQ(s.base.max_iterations, 50000);
  EXPECT_EQ(s.base.optimizer.lr, 5e-4);
  EXPECT_EQ(ex::to_json(ex::sweep_spec_from_json(nlohmann::json::parse(j.dump()))).dump(), ex::to_json(s).dump());
}
