// Every kind of file load_safetensors refuses, each with the sentence that says what is wrong, and a refused
// file leaves the model as it was. Files are built byte by byte here, independently of the writer.
#include <doctest/doctest.h>

#include <tenfold/tenfold.hpp>
#include <tenfold/io.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "../data/test_files.hpp"

using namespace tenfold;
using test_files::scratch_dir;
using test_files::write_bytes;

namespace {

// nn.Sequential(nn.Linear(2, 3)): "0.weight" [3, 2] and "0.bias" [3].
using net = sequential<input<2>, dense<3>>;

struct tensor_spec {
  std::string name, dtype;
  std::string shape;    // JSON, "[3, 2]"
  std::string offsets;  // JSON, "[0, 24]"
};

std::vector<unsigned char> file_bytes(const std::string& header, const std::vector<unsigned char>& data,
                                      std::uint64_t header_length) {
  std::vector<unsigned char> out;
  for (int byte = 0; byte < 8; ++byte) out.push_back(static_cast<unsigned char>(header_length >> (8 * byte)));
  for (const char c : header) out.push_back(static_cast<unsigned char>(c));
  for (const unsigned char c : data) out.push_back(c);
  return out;
}

std::string header_of(const std::vector<tensor_spec>& tensors) {
  std::string h = "{";
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    h += (i ? ",\"" : "\"") + t.name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":" + t.shape +
         ",\"data_offsets\":" + t.offsets + "}";
  }
  return h + "}";
}

std::vector<unsigned char> floats(std::initializer_list<float> values) {
  std::vector<unsigned char> out(values.size() * 4);
  std::memcpy(out.data(), values.begin(), out.size());
  return out;
}

// The good file: weight [[1, 2], [3, 4], [5, 6]] and bias [7, 8, 9].
const std::vector<tensor_spec> good = {{"0.weight", "F32", "[3, 2]", "[0, 24]"}, {"0.bias", "F32", "[3]", "[24, 36]"}};
std::vector<unsigned char> good_data() { return floats({1, 2, 3, 4, 5, 6, 7, 8, 9}); }

bool contains(const char* text, const std::string& part) { return std::string(text).find(part) != std::string::npos; }

// Loads `bytes` into a model and returns the error; checks that the model kept its values.
error refusal(const std::vector<unsigned char>& bytes) {
  scratch_dir dir;
  const std::string path = dir.file("bad.safetensors");
  write_bytes(path, bytes);
  model<net, 1> m(5);
  const std::vector<float> before(m.params(), m.params() + m.param_count);
  auto r = try_load_safetensors(m, path);
  REQUIRE_FALSE(r.ok());
  CHECK(std::vector<float>(m.params(), m.params() + m.param_count) == before);
  CHECK(contains(r.error().message, path));
  CHECK_THROWS_AS(load_safetensors(m, path), tenfold::exception);
  return r.error();
}

std::vector<unsigned char> with_header(const std::string& header, const std::vector<unsigned char>& data = good_data()) {
  return file_bytes(header, data, header.size());
}

}  // namespace

TEST_CASE("the hand-built good file loads, with PyTorch's weight transposed into tenfold's") {
  scratch_dir dir;
  write_bytes(dir.file("good.safetensors"), with_header(header_of(good)));
  model<net, 1> m;
  load_safetensors(m, dir.file("good.safetensors"));
  // PyTorch's weight[o][i] = 1 + 2o + i; tenfold's W[i][o].
  CHECK(std::vector<float>(m.params(), m.params() + 9) == std::vector<float>{1, 3, 5, 2, 4, 6, 7, 8, 9});
}

TEST_CASE("a missing file names the file") {
  model<net, 1> m;
  auto r = try_load_safetensors(m, "/nonexistent/folder/model.safetensors");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == errc::file_not_found);
  CHECK(contains(r.error().message, "/nonexistent/folder/model.safetensors"));
}

TEST_CASE("truncated files: shorter than the length field, a header length past the end, data cut short") {
  const error e1 = refusal({1, 2, 3, 4, 5});
  INFO(e1.message);
  CHECK(e1.code == errc::truncated);
  CHECK(contains(e1.message, "5 bytes, fewer than the 8 of its header length"));

  const std::string header = header_of(good);
  const error e2 = refusal(file_bytes(header, good_data(), 100000));
  INFO(e2.message);
  CHECK(e2.code == errc::truncated);
  CHECK(contains(e2.message, "header length is 100000 bytes, larger than the"));

  std::vector<unsigned char> cut = with_header(header);
  cut.erase(cut.end() - 5, cut.end());
  const error e3 = refusal(cut);
  INFO(e3.message);
  CHECK(contains(e3.message, "the data_offsets of tensor '0.bias' are out of range: [24, 36) of 31 bytes"));
}

TEST_CASE("malformed JSON gives the byte where it goes wrong") {
  const error e = refusal(with_header("{\"0.weight\": {\"dtype\": \"F32\",, }"));
  INFO(e.message);
  CHECK(e.code == errc::bad_format);
  CHECK(contains(e.message, "malformed JSON at byte 29: expected a string key"));
  CHECK(contains(refusal(with_header("[1, 2]")).message, "the header is not a JSON object"));
  CHECK(contains(refusal(with_header(std::string(100, '['))).message, "nested more than 64 levels deep"));
  CHECK(contains(refusal(with_header("{\"a\": 1, \"a\": 2}")).message, "a key appears twice"));
  CHECK(contains(refusal(with_header("{\"0.weight\": {\"dtype\": \"F32\", \"shape\": [3, 2], "
                                     "\"data_offsets\": [0, 24], \"extra\": 1}}"))
                     .message,
                 "tensor '0.weight' has an unknown field 'extra'"));
}

TEST_CASE("data offsets out of range or overlapping, and sizes that disagree with the shape") {
  auto specs = good;
  specs[1].offsets = "[24, 40]";
  const error e1 = refusal(with_header(header_of(specs)));
  INFO(e1.message);
  CHECK(contains(e1.message, "the data_offsets of tensor '0.bias' are out of range: [24, 40) of 36 bytes"));

  specs = good;
  specs[1].offsets = "[20, 32]";
  const error e2 = refusal(with_header(header_of(specs)));
  INFO(e2.message);
  CHECK(contains(e2.message, "the data of tensors '0.weight' and '0.bias' overlap"));

  specs = good;
  specs[1].offsets = "[24, 34]";
  const error e3 = refusal(with_header(header_of(specs)));
  INFO(e3.message);
  CHECK(contains(e3.message, "tensor '0.bias' has 10 bytes, but its shape and dtype need 12"));

  specs = good;
  specs[0].offsets = "[24, 0]";
  CHECK(contains(refusal(with_header(header_of(specs))).message, "are out of range"));
  specs = good;
  specs[0].offsets = "[0, 18446744073709551616]";
  CHECK(contains(refusal(with_header(header_of(specs))).message, "data_offsets of tensor '0.weight' are not two sizes"));
  specs = good;
  specs[0].shape = "[4294967296, 4294967296, 2]";
  CHECK(contains(refusal(with_header(header_of(specs))).message, "the shape of tensor '0.weight' is too large"));
}

TEST_CASE("a tensor missing or unexpected is named with its shape") {
  const error e1 = refusal(with_header(header_of({good[0]})));
  INFO(e1.message);
  CHECK(contains(e1.message, "has no tensor '0.bias' (shape [3]) that the network needs"));

  auto specs = good;
  specs.push_back({"1.weight", "F32", "[1]", "[36, 40]"});
  auto data = good_data();
  data.resize(40);
  const error e2 = refusal(with_header(header_of(specs), data));
  INFO(e2.message);
  CHECK(contains(e2.message, "holds tensor '1.weight' (shape [1]), which the network does not have"));
}

TEST_CASE("a wrong shape names the tensor and both shapes; a wrong or unknown dtype names the dtype") {
  auto specs = good;
  specs[0].shape = "[2, 3]";
  const error e1 = refusal(with_header(header_of(specs)));
  INFO(e1.message);
  CHECK(contains(e1.message, "tensor '0.weight' has shape [2, 3], but the network's is [3, 2]"));

  specs = good;
  specs[1] = {"0.bias", "I32", "[3]", "[24, 36]"};
  const error e2 = refusal(with_header(header_of(specs)));
  INFO(e2.message);
  CHECK(contains(e2.message, "tensor '0.bias' is I32; a floating-point tensor (F32, F64, F16 or BF16) is expected"));

  specs = good;
  specs[1].dtype = "F33";
  CHECK(contains(refusal(with_header(header_of(specs))).message, "tensor '0.bias' has an unknown dtype 'F33'"));
}

TEST_CASE("a NaN or an infinity in the weights is refused with its tensor and element") {
  auto data = good_data();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(data.data() + 28, &nan, 4);
  const error e = refusal(with_header(header_of(good), data));
  INFO(e.message);
  CHECK(contains(e.message, "tensor '0.bias' holds NaN at element 1"));
  const float inf = std::numeric_limits<float>::infinity();
  data = good_data();
  std::memcpy(data.data() + 4, &inf, 4);
  CHECK(contains(refusal(with_header(header_of(good), data)).message, "tensor '0.weight' holds an infinity at element 1"));
}

TEST_CASE("loading without strict ignores extra tensors and keeps arrays the file lacks") {
  scratch_dir dir;
  auto specs = good;
  specs[1] = {"other", "F32", "[3]", "[24, 36]"};
  write_bytes(dir.file("partial.safetensors"), with_header(header_of(specs)));
  model<net, 1> m(5);
  const std::vector<float> bias(m.params() + 6, m.params() + 9);
  safetensors_load_options lenient;
  lenient.strict = false;
  load_safetensors(m, dir.file("partial.safetensors"), lenient);
  CHECK(std::vector<float>(m.params(), m.params() + 6) == std::vector<float>{1, 3, 5, 2, 4, 6});
  CHECK(std::vector<float>(m.params() + 6, m.params() + 9) == bias);
}
