// nesgd/report/table.h - one table, written as Markdown, CSV or HTML.
//
// Every table of a report (Tables 2 and 3, the summary, the sweeps, the
// points and the runs behind them) is built once as a Table of text cells
// and rendered by the three functions below, so the Markdown page, the HTML
// page and the CSV files cannot disagree. Cells are final text: numbers are
// formatted by whoever builds the table. Torch-free; nothing here writes files.
#pragma once

#include <string>
#include <vector>

namespace nesgd::report {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each as long as the header
};

// A GitHub-flavoured Markdown table: "| a | b |", "|---|---|", one line per
// row. A '|' inside a cell is escaped as "\|".
std::string to_markdown(const Table& table);

// RFC 4180 CSV with "\n" line ends (pandas.read_csv reads it as is): a field
// holding a comma, a double quote or a line break is quoted, quotes doubled.
std::string to_csv(const Table& table);

// An HTML <table>: the header as <th> cells, the rows as <td>; text escaped.
std::string to_html(const Table& table);

// `text` with &, <, > and " as HTML entities.
std::string html_escape(const std::string& text);

}  // namespace nesgd::report
