#include "nesgd/report/table.h"

#include "nesgd/csv.h"

namespace nesgd::report {
namespace {

std::string markdown_cell(const std::string& cell) {
  std::string out;
  for (char c : cell) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::string markdown_row(const std::vector<std::string>& cells) {
  std::string line = "|";
  for (const auto& c : cells) line += " " + markdown_cell(c) + " |";
  return line + "\n";
}

std::string csv_row(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) line += (i ? "," : "") + csv_field(fields[i]);
  return line + "\n";
}

std::string html_row(const std::vector<std::string>& cells, const char* tag) {
  std::string line = "<tr>";
  for (const auto& c : cells) line += std::string("<") + tag + ">" + html_escape(c) + "</" + tag + ">";
  return line + "</tr>\n";
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string to_markdown(const Table& table) {
  std::string s = markdown_row(table.header) + "|";
  for (size_t i = 0; i < table.header.size(); ++i) s += "---|";
  s += "\n";
  for (const auto& row : table.rows) s += markdown_row(row);
  return s;
}

std::string to_csv(const Table& table) {
  std::string s = csv_row(table.header);
  for (const auto& row : table.rows) s += csv_row(row);
  return s;
}

std::string to_html(const Table& table) {
  std::string s = "<table>\n" + html_row(table.header, "th");
  for (const auto& row : table.rows) s += html_row(row, "td");
  return s + "</table>\n";
}

}  // namespace nesgd::report
