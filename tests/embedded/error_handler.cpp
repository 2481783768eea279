// Without exceptions, every tenfold error reaches the handler installed with tenfold::set_error_handler.
//
// Built only with -fno-exceptions and TENFOLD_CHECK_BOUNDS=1 (see meson.build). The handler records the
// error and longjmps back into the test, which is how an embedded program recovers from a failed operation.
#include <doctest/doctest.h>

#include <csetjmp>
#include <cstring>
#include <random>

#include <tenfold/tenfold.hpp>

static_assert(TENFOLD_NO_EXCEPTIONS, "this file checks the exception-free error path; build it with -fno-exceptions");
static_assert(TENFOLD_CHECK_BOUNDS, "this file needs TENFOLD_CHECK_BOUNDS=1 for the whole executable");

namespace {

using namespace tenfold;

std::jmp_buf back_to_test;
error last_error;
int handler_calls = 0;

void record_and_jump_back(const error& e) {
  last_error = e;
  ++handler_calls;
  std::longjmp(back_to_test, 1);
}

// setjmp gets a frame of its own: a longjmp can only clobber the locals of the function that called setjmp,
// and this one has none.
template <class F>
[[gnu::noinline]] bool jumped_back(F& f) {
  if (setjmp(back_to_test) != 0) return true;
  f();
  return false;
}

// Installs the recording handler for one scope, then puts back the one before it.
class recording_handler {
 public:
  recording_handler() : previous_(set_error_handler(&record_and_jump_back)) { handler_calls = 0; }
  ~recording_handler() { set_error_handler(previous_); }
  recording_handler(const recording_handler&) = delete;
  recording_handler& operator=(const recording_handler&) = delete;

 private:
  error_handler previous_;
};

// Runs f with the recording handler installed; true if f reported an error (the handler jumped back), false
// if it returned normally.
template <class F>
bool reports_error(F&& f) {
  const recording_handler installed;
  return jumped_back(f);
}

TEST_CASE("an out-of-range slice reports to the installed handler") {
  // Any index at or past the first extent must be refused; pick one at random.
  const unsigned seed = std::random_device{}();
  INFO("seed: ", seed);
  volatile std::size_t index = 4 + seed % 5;
  tensor<float, shape<4, 3>> t(0.f);

  CHECK(reports_error([&] { t.slice(index)[0] = 1.f; }));
  CHECK(handler_calls == 1);
  CHECK(last_error.code == errc::out_of_range);
  CHECK(std::strstr(last_error.message, "slice") != nullptr);
  for (float x : t) CHECK(x == 0.f);  // nothing was written through the refused slice
}

TEST_CASE("the handler is installed and restored") {
  const error_handler first = set_error_handler(&record_and_jump_back);
  CHECK((set_error_handler(first) == &record_and_jump_back));  // parenthesised: doctest cannot print a function pointer
}

TEST_CASE("an in-range slice does not call the handler") {
  tensor<float, shape<4, 3>> t(0.f);
  CHECK_FALSE(reports_error([&] { t.slice(3)[2] = 5.f; }));
  CHECK(handler_calls == 0);
  CHECK(t(3, 2) == 5.f);
}

TEST_CASE("result::value() of a failed result reports its error to the handler") {
  result<int> missing(error::make(errc::file_not_found, "weights.bin: cannot open the file"));
  CHECK_FALSE(missing.ok());
  CHECK(reports_error([&] { (void)missing.value(); }));
  CHECK(handler_calls == 1);
  CHECK(last_error.code == errc::file_not_found);
  CHECK(std::strcmp(last_error.message, "weights.bin: cannot open the file") == 0);
}

}  // namespace
