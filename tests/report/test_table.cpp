// One table, three renderings: the Markdown, CSV and HTML of the same cells,
// worked out by hand, with the characters each format must escape.
#include <gtest/gtest.h>

#include "nesgd/report/table.h"

namespace rp = nesgd::report;

namespace {

rp::Table sample() {
  rp::Table t;
  t.header = {"config", "note", "acc (%)"};
  t.rows = {{"F1", "plain", "84.60 +- 0.20"},
            {"C1 [ab12]", "a, b and \"c\"", ""},
            {"x|y", "<b>&</b>", "two\nlines"}};
  return t;
}

}  // namespace

TEST(Table, MarkdownIsOneLinePerRowWithPipesEscaped) {
  EXPECT_EQ(rp::to_markdown(sample()),
            "| config | note | acc (%) |\n"
            "|---|---|---|\n"
            "| F1 | plain | 84.60 +- 0.20 |\n"
            "| C1 [ab12] | a, b and \"c\" |  |\n"
            "| x\\|y | <b>&</b> | two lines |\n");
}

// RFC 4180: fields with a comma, a quote or a line break are quoted and their
// quotes doubled; everything else is written as is (pandas reads both).
TEST(Table, CsvQuotesExactlyWhatRfc4180Requires) {
  EXPECT_EQ(rp::to_csv(sample()),
            "config,note,acc (%)\n"
            "F1,plain,84.60 +- 0.20\n"
            "C1 [ab12],\"a, b and \"\"c\"\"\",\n"
            "x|y,<b>&</b>,\"two\nlines\"\n");
}

TEST(Table, HtmlEscapesTextAndMarksTheHeader) {
  EXPECT_EQ(rp::to_html(sample()),
            "<table>\n"
            "<tr><th>config</th><th>note</th><th>acc (%)</th></tr>\n"
            "<tr><td>F1</td><td>plain</td><td>84.60 +- 0.20</td></tr>\n"
            "<tr><td>C1 [ab12]</td><td>a, b and &quot;c&quot;</td><td></td></tr>\n"
            "<tr><td>x|y</td><td>&lt;b&gt;&amp;&lt;/b&gt;</td><td>two\nlines</td></tr>\n"
            "</table>\n");
}

TEST(Table, AnEmptyTableIsItsHeader) {
  rp::Table t;
  t.header = {"a", "b"};
  EXPECT_EQ(rp::to_markdown(t), "| a | b |\n|---|---|\n");
  EXPECT_EQ(rp::to_csv(t), "a,b\n");
  EXPECT_EQ(rp::to_html(t), "<table>\n<tr><th>a</th><th>b</th></tr>\n</table>\n");
}
