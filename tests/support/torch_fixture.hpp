// Reading the text fixtures that the scripts in tests/*/fixtures/make_torch_*.py write with PyTorch: one array
// per line, "key count v1 v2 ...", and lines whose key starts with "names" holding words (parameter names)
// instead of numbers. A line whose count disagrees with its values fails the test that reads it.
#pragma once
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace test_support {

struct torch_fixture {
  std::map<std::string, std::vector<double>> arrays;
  std::map<std::string, std::string> words;  // a "names..." key → the rest of its line, without leading spaces
};

inline torch_fixture read_torch_fixture(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  torch_fixture f;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    if (key.rfind("names", 0) == 0) {
      std::string rest;
      std::getline(fields, rest);
      const auto first = rest.find_first_not_of(' ');
      f.words[key] = first == std::string::npos ? std::string() : rest.substr(first);
      continue;
    }
    std::size_t count = 0;
    fields >> count;
    std::vector<double>& values = f.arrays[key];
    for (double v; fields >> v;) values.push_back(v);
    REQUIRE(values.size() == count);
  }
  return f;
}

// The words of a "names" line, in order.
inline std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

}  // namespace test_support
