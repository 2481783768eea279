// CSV reading: random tables written as text and read back, target selection, and every refused input.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "test_files.hpp"

#if defined(TENFOLD_HAS_ZLIB) && TENFOLD_HAS_ZLIB
#include <zlib.h>
#endif

using namespace tenfold;

namespace {

bool contains(const char* text, const std::string& part) { return std::string(text).find(part) != std::string::npos; }

// A table of random floats and its CSV text; %.17g prints each value so that it reads back exactly, as a
// float or as a double.
struct table {
  std::size_t rows, cols;
  std::vector<float> values;  // rows x cols
  std::string text;
};

table random_table(std::mt19937& gen, bool header, const char* line_end = "\n", std::size_t min_cols = 2) {
  table t{2 + gen() % 30, min_cols + gen() % 7, {}, {}};
  std::uniform_real_distribution<float> value(-1e4f, 1e4f);
  if (header) {
    for (std::size_t c = 0; c < t.cols; ++c) t.text += (c ? ",col" : "col") + std::to_string(c);
    t.text += line_end;
  }
  for (std::size_t r = 0; r < t.rows; ++r) {
    for (std::size_t c = 0; c < t.cols; ++c) {
      const float v = (gen() % 4 == 0) ? static_cast<float>(static_cast<int>(gen() % 200) - 100) : value(gen);
      t.values.push_back(v);
      char field[40];
      std::snprintf(field, sizeof field, "%s%.17g", c ? (gen() % 2 ? ", " : ",") : "", static_cast<double>(v));
      t.text += field;
    }
    t.text += line_end;
  }
  return t;
}

}  // namespace

TEST_CASE("csv: a table reads back exactly, the last column as target by default") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  for (const bool header : {false, true}) {
    for (const char* line_end : {"\n", "\r\n"}) {
      const table t = random_table(gen, header, line_end);
      const dataset<float> d = parse_csv(t.text);
      REQUIRE(d.size() == t.rows);
      REQUIRE(d.feature_size() == t.cols - 1);
      REQUIRE(d.target_size() == 1);
      for (std::size_t r = 0; r < t.rows; ++r) {
        for (std::size_t c = 0; c + 1 < t.cols; ++c) REQUIRE(d.features(r)[c] == t.values[r * t.cols + c]);
        REQUIRE(d.targets(r)[0] == t.values[r * t.cols + t.cols - 1]);
      }
    }
  }
}

TEST_CASE("csv: targets chosen by index (in the given order) or by name; the rest are features in file order") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  const table t = random_table(gen, true, "\n", 3);  // two targets and at least one feature
  const std::size_t a = gen() % t.cols;
  const std::size_t b = (a + 1 + gen() % (t.cols - 1)) % t.cols;  // another column
  INFO("targets " << a << ", " << b << " of " << t.cols);

  csv_options by_index;
  by_index.target_columns = {static_cast<long>(b), static_cast<long>(a) - static_cast<long>(t.cols)};  // a from the end
  csv_options by_name;
  by_name.target_names = {"col" + std::to_string(b), "col" + std::to_string(a)};
  for (const csv_options& options : {by_index, by_name}) {
    const dataset<double> d = parse_csv<double>(t.text, options);
    REQUIRE(d.size() == t.rows);
    REQUIRE(d.target_size() == 2);
    REQUIRE(d.feature_size() == t.cols - 2);
    for (std::size_t r = 0; r < t.rows; ++r) {
      CHECK(d.targets(r)[0] == static_cast<double>(t.values[r * t.cols + b]));
      CHECK(d.targets(r)[1] == static_cast<double>(t.values[r * t.cols + a]));
      std::size_t f = 0;
      for (std::size_t c = 0; c < t.cols; ++c)
        if (c != a && c != b) REQUIRE(d.features(r)[f++] == static_cast<double>(t.values[r * t.cols + c]));
    }
  }

  csv_options no_targets;
  no_targets.target_columns = {};
  const dataset<float> unsupervised = parse_csv(t.text, no_targets);
  CHECK(unsupervised.feature_size() == t.cols);
  CHECK(unsupervised.target_size() == 0);
}

TEST_CASE("csv: header detection, blank lines, spaces, signs and exponents") {
  const auto d = parse_csv("  a , b,label\n\n 1.5, -2e3 ,+3\n\t\n4,5,6\n");
  REQUIRE(d.size() == 2);
  CHECK(d.features(0)[0] == 1.5f);
  CHECK(d.features(0)[1] == -2000.0f);
  CHECK(d.targets(0)[0] == 3.0f);
  CHECK(d.targets(1)[0] == 6.0f);

  // A numeric first line is data unless the header is declared present.
  CHECK(parse_csv("1,2\n3,4").size() == 2);
  csv_options present;
  present.header = csv_header::present;
  CHECK(parse_csv("1,2\n3,4", present).size() == 1);

  csv_options semicolons;
  semicolons.separator = ';';
  CHECK(parse_csv("1;2;3\n4;5;6\n", semicolons).feature_size() == 2);
}

TEST_CASE("csv: each refused input names the file, the line and the column") {
  const char* name = "table.csv";
  struct bad_case {
    const char* text;
    const char* expected;
  };
  const bad_case cases[] = {
      {"a,b,c\n1,2,3\n4,5\n", "line 3 has 2 fields, but line 1 has 3"},
      {"1,2,3\n\n4,5,6,7\n", "line 3 has 4 fields, but line 1 has 3"},
      {"a,b\n1,2\n3,x7\n", "line 3, column 2: 'x7' is not a number"},
      {"a,b\n1,2\n3,7x\n", "line 3, column 2: '7x' is not a number"},
      {"a,b\n1,,2\n", "line 2 has 3 fields"},
      {"a,b,c\n1,,2\n", "line 2, column 2 is empty"},
      {"a,b\n1,\"2\"\n", "line 2, column 2 is a quoted field, and quoted fields are not supported"},
      {"\"a\",\"b\"\n1,2\n", "line 1, column 1 is a quoted field"},
      {"a,b\n1,nan\n", "line 2, column 2: 'nan' is not a finite number"},
      {"a,b\n1,1e39\n", "line 2, column 2: '1e39' is outside the range of float"},
      {"a,b\n1,-1e999\n", "line 2, column 2: '-1e999' is outside the range of double"},
      {"a,b\n", "holds no data lines"},
      {"", "holds no data lines"},
  };
  for (const bad_case& c : cases) {
    INFO("input: " << c.text);
    auto r = try_parse_csv(c.text, {}, name);
    REQUIRE_FALSE(r.ok());
    INFO("message: " << r.error().message);
    CHECK(r.error().code == errc::bad_format);
    CHECK(contains(r.error().message, "'table.csv'"));
    CHECK(contains(r.error().message, c.expected));
  }
  CHECK_THROWS_AS(parse_csv("a,b\n1,x\n"), tenfold::exception);
}

TEST_CASE("csv: target choices that cannot work are refused") {
  csv_options past_end;
  past_end.target_columns = {3};
  auto r = try_parse_csv("1,2,3\n", past_end, "t.csv");
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, "target column index 3 is outside the 3 columns"));

  csv_options twice;
  twice.target_columns = {0, -3};
  r = try_parse_csv("1,2,3\n", twice, "t.csv");
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, "column index 0 is chosen as a target twice"));

  csv_options all;
  all.target_columns = {0, 1};
  r = try_parse_csv("1,2\n", all, "t.csv");
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, "leaves no features"));

  csv_options unknown;
  unknown.target_names = {"species"};
  r = try_parse_csv("a,b\n1,2\n", unknown, "t.csv");
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, "no column named 'species'"));
  r = try_parse_csv("1,2\n", unknown, "t.csv");
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, "has no header line"));
}

TEST_CASE("csv: files, missing files and compressed files") {
  const unsigned seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937 gen(seed);
  test_files::scratch_dir dir;
  const table t = random_table(gen, true);
  test_files::write_text(dir.file("t.csv"), t.text);
  const dataset<float> d = load_csv(dir.file("t.csv"));
  CHECK(d.size() == t.rows);
  CHECK(d.feature_data() == parse_csv(t.text).feature_data());

  auto missing = try_load_csv(dir.file("missing.csv"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == errc::file_not_found);
  CHECK(contains(missing.error().message, dir.file("missing.csv")));

  // Errors in a file name the file.
  test_files::write_text(dir.file("bad.csv"), "a,b\n1,2\n3,oops\n");
  auto bad = try_load_csv(dir.file("bad.csv"));
  REQUIRE_FALSE(bad.ok());
  CHECK(contains(bad.error().message, dir.file("bad.csv").append("': line 3, column 2")));

#if defined(TENFOLD_HAS_ZLIB) && TENFOLD_HAS_ZLIB
  gzFile f = gzopen(dir.file("t.csv.gz").c_str(), "wb");
  REQUIRE(f != nullptr);
  gzwrite(f, t.text.data(), static_cast<unsigned>(t.text.size()));
  gzclose(f);
  CHECK(load_csv(dir.file("t.csv.gz")).feature_data() == d.feature_data());
#endif
}
