// CSV input that used to be read wrongly without a word: a bad cell in the first line, a byte order mark,
// "+-1", values that underflow, lone-CR line endings, corrupt .gz files and directories. Each refusal is
// checked in full.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "test_files.hpp"

#if defined(TENFOLD_HAS_ZLIB) && TENFOLD_HAS_ZLIB
#include <zlib.h>
#endif

using namespace tenfold;

namespace {

template <class T = float>
std::string error_of(const std::string& text, const csv_options& options = {}) {
  auto r = try_parse_csv<T>(text, options, "t.csv");
  return r.ok() ? std::string("(no error)") : std::string(r.error().message);
}

}  // namespace

TEST_CASE("csv strict: a first line with some numbers is data, and its bad cell is reported") {
  CHECK(error_of("1,x,3\n4,5,6\n") == "CSV file 't.csv': line 1, column 2: 'x' is not a number");
  CHECK(error_of("1,,3\n4,5,6\n") == "CSV file 't.csv': line 1, column 2 is empty");
  // One line with one bad cell: the cell, not "no data lines".
  CHECK(error_of("7,oops\n") == "CSV file 't.csv': line 1, column 2: 'oops' is not a number");
  // A line of names only is a header; alone, the message says how it was read.
  CHECK(error_of("a,b\n") ==
        "CSV file 't.csv' holds no data lines: its only line, line 1, was read as a header (set csv_options::header "
        "to csv_header::absent if it is data)");
  CHECK(parse_csv("a,b\n1,2\n").size() == 1);
}

TEST_CASE("csv strict: the header option says yes, no or detect") {
  csv_options yes, no, detect;
  yes.header = csv_header::present;
  no.header = csv_header::absent;
  detect.header = csv_header::detect;
  CHECK(parse_csv("1,2\n3,4\n", yes).size() == 1);
  CHECK(parse_csv("1,2\n3,4\n", no).size() == 2);
  CHECK(parse_csv("1,2\n3,4\n", detect).size() == 2);
  CHECK(parse_csv("a,b\n3,4\n", detect).size() == 1);
  CHECK(error_of("a,b\n3,4\n", no) == "CSV file 't.csv': line 1, column 1: 'a' is not a number");
}

TEST_CASE("csv strict: a UTF-8 byte order mark is skipped, with or without a header") {
  const auto headed = parse_csv("\xEF\xBB\xBFx,y\n1,2\n3,4\n");
  CHECK(headed.size() == 2);
  const auto bare = parse_csv(
      "\xEF\xBB\xBF"
      "1,2\n3,4\n");
  REQUIRE(bare.size() == 2);
  CHECK(bare.features(0)[0] == 1.0f);
  csv_options by_name;
  by_name.target_names = {"y"};
  CHECK(parse_csv("\xEF\xBB\xBFx,y\n1,2\n", by_name).targets(0)[0] == 2.0f);
}

TEST_CASE("csv strict: malformed numbers are refused, signs allowed once") {
  CHECK(error_of("a,b\n1,+-1\n") == "CSV file 't.csv': line 2, column 2: '+-1' is not a number");
  CHECK(error_of("a,b\n1,++1\n") == "CSV file 't.csv': line 2, column 2: '++1' is not a number");
  CHECK(error_of("a,b\n1,--1\n") == "CSV file 't.csv': line 2, column 2: '--1' is not a number");
  CHECK(error_of("a,b\n1,1e\n") == "CSV file 't.csv': line 2, column 2: '1e' is not a number");
  CHECK(error_of("a,b\n1,0x10\n") == "CSV file 't.csv': line 2, column 2: '0x10' is not a number");
  const auto signs = parse_csv("a,b\n+1,-1\n+.5,-.5e1\n");
  CHECK(signs.features(0)[0] == 1.0f);
  CHECK(signs.targets(0)[0] == -1.0f);
  CHECK(signs.features(1)[0] == 0.5f);
  CHECK(signs.targets(1)[0] == -5.0f);
}

TEST_CASE("csv strict: a nonzero value that would become 0 is refused at every magnitude") {
  CHECK(error_of("a,b\n1,1e-50\n") ==
        "CSV file 't.csv': line 2, column 2: '1e-50' is too close to zero for float and would become 0 (write 0 if "
        "zero is meant)");
  CHECK(error_of("a,b\n1,-1e-400\n") ==
        "CSV file 't.csv': line 2, column 2: '-1e-400' is too close to zero for float and would become 0 (write 0 if "
        "zero is meant)");
  CHECK(error_of<double>("a,b\n1,0.00001e-399\n") ==
        "CSV file 't.csv': line 2, column 2: '0.00001e-399' is too close to zero for double and would become 0 "
        "(write 0 if zero is meant)");
  CHECK(error_of<double>("a,b\n1,1e-400\n") ==
        "CSV file 't.csv': line 2, column 2: '1e-400' is too close to zero for double and would become 0 (write 0 "
        "if zero is meant)");
  // Overflow stays an overflow, even with a negative exponent.
  CHECK(error_of<double>("a,b\n1," + std::string(400, '9') + "e-5\n").find("is outside the range of double") !=
        std::string::npos);
  // Zero in any spelling, and subnormal results, are values.
  const auto zeros = parse_csv("a,b\n0e-999,-0.0\n");
  CHECK(zeros.features(0)[0] == 0.0f);
  CHECK(parse_csv("a,b\n1,1e-40\n").targets(0)[0] > 0.0f);
  CHECK(parse_csv<double>("a,b\n1,1e-50\n").targets(0)[0] == 1e-50);
}

TEST_CASE("csv strict: lone CR, CRLF and LF line endings read the same") {
  const std::string lf = "a,b\n1,2\n3,4\n5,6";
  std::string cr = lf, crlf;
  for (char& c : cr) c = c == '\n' ? '\r' : c;
  for (const char c : lf) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  const auto expected = parse_csv(lf);
  REQUIRE(expected.size() == 3);
  for (const std::string& text : {cr, crlf}) {
    const auto d = parse_csv(text);
    CHECK(d.feature_data() == expected.feature_data());
    CHECK(d.target_data() == expected.target_data());
  }
  CHECK(error_of("a,b\r1,2\r3,x\r") == "CSV file 't.csv': line 3, column 2: 'x' is not a number");
  CHECK(error_of("a,b\r\n1,2\r\n\r\n3,x\r\n") == "CSV file 't.csv': line 4, column 2: 'x' is not a number");
}

TEST_CASE("csv strict: NaN and infinity are refused unless allowed") {
  CHECK(error_of("a,b\n1,inf\n") == "CSV file 't.csv': line 2, column 2: 'inf' is not a finite number");
  csv_options allowed;
  allowed.non_finite = non_finite_values::allowed;
  const auto d = parse_csv("a,b\nnan,-inf\n", allowed);
  CHECK(d.features(0)[0] != d.features(0)[0]);
  CHECK(d.targets(0)[0] == -std::numeric_limits<float>::infinity());
}

TEST_CASE("csv strict: a directory and unreadable files say what happened") {
  test_files::scratch_dir dir;
  auto r = try_load_csv(dir.path());
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.error().message) == "cannot open CSV file '" + dir.path() + "': it is a directory");
  r = try_load_csv(dir.file("none.csv"));
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.error().message) ==
        "cannot open CSV file '" + dir.file("none.csv") + "': " + std::strerror(ENOENT));
}

#if defined(TENFOLD_HAS_ZLIB) && TENFOLD_HAS_ZLIB
TEST_CASE("csv strict: a .gz file with a bad checksum gives zlib's reason") {
  test_files::scratch_dir dir;
  const std::string text = "a,b\n1,2\n3,4\n";
  const std::string path = dir.file("t.csv.gz");
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
  std::vector<unsigned char> bytes(4096);
  std::FILE* in = std::fopen(path.c_str(), "rb");
  REQUIRE(in != nullptr);
  bytes.resize(std::fread(bytes.data(), 1, bytes.size(), in));
  std::fclose(in);
  bytes[bytes.size() - 8] ^= 0xff;  // the CRC-32 of the gzip trailer
  test_files::write_bytes(path, bytes);
  auto r = try_load_csv(path);
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.error().message) ==
        "CSV file '" + path + "' could not be read to its end (incorrect data check)");
}
#endif
