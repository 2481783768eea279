// Reading numeric CSV files into a dataset: one sample per line, some columns chosen as targets.
//
// The format read is the plain one numeric tables are written in: one record per line (\n, \r\n or a lone
// \r), fields separated by a comma (or `csv_options::separator`), spaces around a field ignored, an optional
// header line of column names, blank lines skipped, a UTF-8 byte order mark at the start ignored. Every
// field must be a finite number (an optional sign, digits, a decimal point, an exponent); numbers are parsed
// without regard to the C locale. Quoted fields are not supported and are refused with a sentence saying so,
// like every other problem, with the file name and the line and column (both counted from 1, as editors
// do). The target columns are chosen by index (counted from 0; a negative index counts from the end) or by
// name; the remaining columns, in file order, are the features. A gzip-compressed file is read like a plain
// one when zlib is available.
//
// Values too large for the element type are refused. So are values too close to zero for it: a nonzero
// number that would round to 0 (1e-50 as a float, 1e-400 as a double) is refused with its line and column,
// whatever its magnitude, rather than silently becoming 0; write 0 where zero is meant. Subnormal results
// (1e-40 as a float) are kept.
#pragma once
#include "../core/internal.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "dataset.hpp"
#include "input_file.hpp"

namespace tenfold {

enum class csv_header {
  detect,   // the first line is a header when none of its fields is a number; when only some are not, the
            // first of those is reported as a bad field
  present,  // the first line is a header
  absent,   // every line is data
};

struct csv_options {
  csv_header header = csv_header::detect;
  char separator = ',';
  // Indices of the target columns, counted from 0; -1 is the last column. The targets of a sample are in
  // this order. Empty: no targets.
  std::vector<long> target_columns{-1};
  // Names of the target columns in the header line; when not empty, used instead of target_columns.
  std::vector<std::string> target_names{};
  // Whether "nan", "inf" and "infinity" fields are read (into a dataset built with
  // non_finite_values::allowed) instead of refused.
  non_finite_values non_finite = non_finite_values::refused;
};

namespace detail {

inline std::string_view trim_csv_field(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits one line into its fields (views into the line), trimmed.
inline void split_csv_line(std::string_view line, char separator, std::vector<std::string_view>& fields) {
  fields.clear();
  for (;;) {
    const std::size_t end = line.find(separator);
    fields.push_back(trim_csv_field(line.substr(0, end)));
    if (end == std::string_view::npos) return;
    line.remove_prefix(end + 1);
  }
}

enum class csv_number { ok, not_a_number, too_large, too_small };

// The power of ten of the first nonzero digit of a decimal number ("0.05e-3" -> -5), for telling an
// overflow from an underflow when a number is out of range. Only called on text that parsed as a number.
inline long csv_leading_exponent(std::string_view field) {
  long position = 0;  // digits before the point, minus leading zeros
  bool seen_point = false, seen_nonzero = false;
  std::size_t i = 0;
  if (i < field.size() && (field[i] == '-' || field[i] == '+')) ++i;
  for (; i < field.size() && field[i] != 'e' && field[i] != 'E'; ++i) {
    const char c = field[i];
    if (c == '.') {
      seen_point = true;
    } else if (!seen_nonzero && c == '0') {
      if (seen_point) --position;
    } else if (!seen_nonzero) {
      seen_nonzero = true;
      if (seen_point) --position;
    } else if (!seen_point) {
      ++position;
    }
  }
  long exponent = 0;
  if (i + 1 < field.size()) {
    const auto [end, ec] =
        std::from_chars(field.data() + i + 1 + (field[i + 1] == '+'), field.data() + field.size(), exponent);
    if (ec != std::errc()) exponent = field[i + 1] == '-' ? -1000000 : 1000000;  // beyond any type's range
    (void)end;
  }
  return position + exponent;
}

// Parses a whole field as a double. A leading '+' is allowed once; "+-1" is not a number.
inline csv_number parse_csv_number(std::string_view field, double& out) {
  if (!field.empty() && field.front() == '+') {
    field.remove_prefix(1);
    if (!field.empty() && (field.front() == '-' || field.front() == '+')) return csv_number::not_a_number;
  }
  if (field.empty()) return csv_number::not_a_number;
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), out);
  if (end != field.data() + field.size()) return csv_number::not_a_number;
  if (ec == std::errc::result_out_of_range)
    return csv_leading_exponent(field) < 0 ? csv_number::too_small : csv_number::too_large;
  return ec == std::errc() ? csv_number::ok : csv_number::not_a_number;
#else
  // Fallback for standard libraries without floating-point from_chars (strtod follows the C locale).
  const std::string copy(field);
  char* end = nullptr;
  errno = 0;
  out = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return csv_number::not_a_number;
  if (errno == ERANGE) return std::fabs(out) < 1 ? csv_number::too_small : csv_number::too_large;
  return csv_number::ok;
#endif
}

inline bool is_csv_number(std::string_view field) {
  double ignored = 0;
  return parse_csv_number(field, ignored) != csv_number::not_a_number;
}

// Resolves the target columns of `options` against a line of `columns` fields; `header` holds the names
// (empty when the file has none). Fills is_target (one flag per column) and targets (column per target).
inline result<bool> resolve_csv_targets(const csv_options& options, const std::vector<std::string_view>& header,
                                        std::size_t columns, const char* name, std::vector<char>& is_target,
                                        std::vector<std::size_t>& targets) {
  is_target.assign(columns, 0);
  targets.clear();
  if (!options.target_names.empty()) {
    if (header.empty())
      return error::make(errc::invalid_argument,
                         "CSV file '%s' has no header line, so its target columns cannot be chosen by name", name);
    for (const std::string& wanted : options.target_names) {
      std::size_t c = 0;
      while (c < columns && header[c] != wanted) ++c;
      if (c == columns)
        return error::make(errc::invalid_argument, "CSV file '%s' has no column named '%s'", name, wanted.c_str());
      targets.push_back(c);
    }
  } else {
    for (const long index : options.target_columns) {
      const long resolved = index < 0 ? static_cast<long>(columns) + index : index;
      if (resolved < 0 || resolved >= static_cast<long>(columns))
        return error::make(errc::invalid_argument, "CSV file '%s': target column index %ld is outside the %zu columns",
                           name, index, columns);
      targets.push_back(static_cast<std::size_t>(resolved));
    }
  }
  for (const std::size_t c : targets) {
    if (is_target[c])
      return error::make(errc::invalid_argument, "CSV file '%s': column index %zu is chosen as a target twice", name,
                         c);
    is_target[c] = 1;
  }
  if (targets.size() == columns)
    return error::make(errc::invalid_argument,
                       "CSV file '%s': every one of its %zu columns is a target, which leaves no features", name,
                       columns);
  return true;
}

inline bool is_quoted(std::string_view field) {
  return !field.empty() && (field.front() == '"' || field.front() == '\'');
}

inline error quoted_field_error(const char* name, std::size_t line, std::size_t column) {
  return error::make(errc::bad_format,
                     "CSV file '%s': line %zu, column %zu is a quoted field, and quoted fields are not supported "
                     "(remove the quotes; data fields must be plain numbers)",
                     name, line, column + 1);
}

inline const char* csv_type_name(bool is_float) { return is_float ? "float" : "double"; }

// One data field as a finite value of T (or any value of T when non-finite values are allowed); `column`
// counts from 0.
template <class T>
result<T> parse_csv_field(std::string_view field, const char* name, std::size_t line, std::size_t column,
                          bool allow_non_finite = false) {
  constexpr bool is_float = std::is_same_v<T, float>;
  const int shown = field.size() > 40 ? 40 : static_cast<int>(field.size());
  if (field.empty())
    return error::make(errc::bad_format, "CSV file '%s': line %zu, column %zu is empty", name, line, column + 1);
  if (is_quoted(field)) return quoted_field_error(name, line, column);
  double value = 0;
  const csv_number parsed = parse_csv_number(field, value);
  if (parsed == csv_number::not_a_number)
    return error::make(errc::bad_format, "CSV file '%s': line %zu, column %zu: '%.*s' is not a number", name, line,
                       column + 1, shown, field.data());
  if (parsed == csv_number::too_large)
    return error::make(errc::bad_format, "CSV file '%s': line %zu, column %zu: '%.*s' is outside the range of double",
                       name, line, column + 1, shown, field.data());
  if (!std::isfinite(value)) {
    if (allow_non_finite) return static_cast<T>(value);
    return error::make(errc::bad_format, "CSV file '%s': line %zu, column %zu: '%.*s' is not a finite number", name,
                       line, column + 1, shown, field.data());
  }
  // Checked before converting: a double outside the range of T has no defined conversion.
  if (std::fabs(value) > static_cast<double>(std::numeric_limits<T>::max()))
    return error::make(errc::bad_format, "CSV file '%s': line %zu, column %zu: '%.*s' is outside the range of %s", name,
                       line, column + 1, shown, field.data(), csv_type_name(is_float));
  const T converted = static_cast<T>(value);
  if (parsed == csv_number::too_small || (converted == T(0) && value != 0.0))
    return error::make(errc::bad_format,
                       "CSV file '%s': line %zu, column %zu: '%.*s' is too close to zero for %s and would become 0 "
                       "(write 0 if zero is meant)",
                       name, line, column + 1, shown, field.data(), csv_type_name(is_float));
  return converted;
}

}  // namespace detail

// Parses CSV text held in memory; `name` stands for the file in error sentences.
template <class T = float>
result<dataset<T>> try_parse_csv(std::string_view text, const csv_options& options = {},
                                 const char* name = "<memory>") {
  static_assert(std::is_floating_point_v<T>, "tenfold::parse_csv: the element type must be float or double");
  std::vector<std::string_view> fields, header;
  std::vector<char> is_target;
  std::vector<std::size_t> targets;
  std::vector<T> x, y, row;
  std::size_t columns = 0, first_line = 0, rows = 0, line_number = 0;
  bool has_header = false;
  const bool allow_non_finite = options.non_finite == non_finite_values::allowed;

  // A UTF-8 byte order mark (spreadsheet programs write one) is not part of the first field.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  while (!text.empty()) {
    // A line ends at \n, \r\n or a lone \r (old Mac files).
    const std::size_t end = text.find_first_of("\r\n");
    std::string_view line = text.substr(0, end);
    std::size_t skip = end == std::string_view::npos ? text.size() : end + 1;
    if (end != std::string_view::npos && text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n') ++skip;
    text.remove_prefix(skip);
    ++line_number;
    if (detail::trim_csv_field(line).empty()) continue;
    detail::split_csv_line(line, options.separator, fields);

    if (columns == 0) {  // the first line fixes the number of columns, and may be the header
      columns = fields.size();
      first_line = line_number;
      has_header = options.header == csv_header::present;
      // Only a line with no number at all is taken for a header: a line with one bad cell among numbers is
      // data, and its bad cell is reported below instead of the line being silently dropped.
      if (options.header == csv_header::detect) {
        has_header = true;
        for (const std::string_view f : fields) has_header = has_header && !detail::is_csv_number(f);
      }
      if (has_header) {
        for (std::size_t c = 0; c < columns; ++c)
          if (detail::is_quoted(fields[c])) return detail::quoted_field_error(name, line_number, c);
        header = fields;
      }
      row.resize(columns);
      auto resolved = detail::resolve_csv_targets(options, header, columns, name, is_target, targets);
      if (!resolved) return resolved.error();
      if (has_header) continue;
    } else if (fields.size() != columns) {
      return error::make(errc::bad_format, "CSV file '%s': line %zu has %zu field%s, but line %zu has %zu", name,
                         line_number, fields.size(), fields.size() == 1 ? "" : "s", first_line, columns);
    }

    for (std::size_t c = 0; c < columns; ++c) {
      auto value = detail::parse_csv_field<T>(fields[c], name, line_number, c, allow_non_finite);
      if (!value) return value.error();
      row[c] = *value;
    }
    for (std::size_t c = 0; c < columns; ++c)
      if (!is_target[c]) x.push_back(row[c]);
    for (const std::size_t c : targets) y.push_back(row[c]);
    ++rows;
  }
  if (rows == 0 && has_header)
    return error::make(errc::bad_format,
                       "CSV file '%s' holds no data lines: its only line, line %zu, was read as a header (set "
                       "csv_options::header to csv_header::absent if it is data)",
                       name, first_line);
  if (rows == 0) return error::make(errc::bad_format, "CSV file '%s' holds no data lines", name);
  return dataset<T>(std::move(x), std::move(y), columns - targets.size(), targets.size(), options.non_finite);
}

// Reads and parses a CSV file (plain, or gzip-compressed when zlib is available).
template <class T = float>
result<dataset<T>> try_load_csv(const std::string& path, const csv_options& options = {}) {
  auto text = detail::read_whole_file(path, "CSV file");
  if (!text) return text.error();
  return try_parse_csv<T>(*text, options, path.c_str());
}

template <class T = float>
dataset<T> parse_csv(std::string_view text, const csv_options& options = {}, const char* name = "<memory>") {
  return try_parse_csv<T>(text, options, name).value();
}
template <class T = float>
dataset<T> load_csv(const std::string& path, const csv_options& options = {}) {
  return try_load_csv<T>(path, options).value();
}

}  // namespace tenfold
