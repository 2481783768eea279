// libFuzzer target for the CSV parser.
//
// The first byte chooses the options (header mode, separator, target columns, non-finite values); the rest
// is the text. Properties checked for every input:
//   - a successful read has whole rows, features plus targets equal to the column count, and finite values
//     unless non-finite ones were allowed;
//   - what reads as float reads as double too, to the same values once rounded to float;
//   - the data written back as CSV (%.9g, which round-trips a float) reads back to the same values.
#include <tenfold/tenfold.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_file.hpp"

namespace {

template <class T>
bool all_finite(const std::vector<T>& v) {
  for (const T x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

bool same_values(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

std::string as_csv(const tenfold::dataset<float>& d, char separator) {
  std::string out;
  char field[48];
  for (std::size_t i = 0; i < d.size(); ++i) {
    for (std::size_t j = 0; j < d.feature_size(); ++j) {
      std::snprintf(field, sizeof field, "%s%.9g", j ? std::string(1, separator).c_str() : "",
                    static_cast<double>(d.features(i)[j]));
      out += field;
    }
    for (std::size_t j = 0; j < d.target_size(); ++j) {
      std::snprintf(field, sizeof field, "%c%.9g", separator, static_cast<double>(d.targets(i)[j]));
      out += field;
    }
    out += '\n';
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned choice = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  tenfold::csv_options options;
  options.header = static_cast<tenfold::csv_header>(choice % 3);
  options.separator = (choice >> 2) % 2 ? ';' : ',';
  switch ((choice >> 3) % 4) {
    case 0:
      options.target_columns = {-1};
      break;
    case 1:
      options.target_columns = {};
      break;
    case 2:
      options.target_columns = {0, -1};
      break;
    default:
      options.target_names = {"y"};
      break;
  }
  const bool allow = (choice >> 5) % 2;
  options.non_finite = allow ? tenfold::non_finite_values::allowed : tenfold::non_finite_values::refused;

  auto f = tenfold::try_parse_csv<float>(text, options);
  auto d = tenfold::try_parse_csv<double>(text, options);
  if (!f) return 0;
  fuzz::check(d.ok(), "what reads as float reads as double");
  const std::size_t n = f->size(), fs = f->feature_size(), ts = f->target_size();
  fuzz::check(n > 0 && fs > 0, "a read file has samples and features");
  fuzz::check(f->feature_data().size() == n * fs && f->target_data().size() == n * ts, "rows are whole");
  fuzz::check(d->size() == n && d->feature_size() == fs && d->target_size() == ts, "float and double agree on sizes");
  for (std::size_t i = 0; i < n * fs; ++i)
    fuzz::check(same_values({static_cast<float>(d->feature_data()[i])}, {f->feature_data()[i]}),
                "float and double agree on values");
  if (!allow) fuzz::check(all_finite(f->feature_data()) && all_finite(f->target_data()), "values are finite");

  tenfold::csv_options again;
  again.header = tenfold::csv_header::absent;
  again.separator = options.separator;
  again.target_columns.clear();
  for (std::size_t j = 0; j < ts; ++j) again.target_columns.push_back(static_cast<long>(fs + j));
  again.non_finite = options.non_finite;
  auto back = tenfold::try_parse_csv<float>(as_csv(*f, options.separator), again);
  fuzz::check(back.ok(), "written data reads back");
  fuzz::check(
      same_values(back->feature_data(), f->feature_data()) && same_values(back->target_data(), f->target_data()),
      "written data reads back to the same values");
  return 0;
}
