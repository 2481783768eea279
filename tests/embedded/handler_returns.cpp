// Without exceptions, a handler that returns does not resume the failed operation: raise() aborts after it.
//
// Exits 0 only if the abort came after the handler saw the out-of-range slice; 3 if the abort came without
// it, 4 if the slice returned to its caller.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <tenfold/tenfold.hpp>

static_assert(TENFOLD_NO_EXCEPTIONS && TENFOLD_CHECK_BOUNDS, "build with -fno-exceptions -DTENFOLD_CHECK_BOUNDS=1");

namespace {

volatile std::sig_atomic_t handler_saw_the_slice = 0;

void note_and_return(const tenfold::error& e) {
  handler_saw_the_slice = e.code == tenfold::errc::out_of_range && std::strstr(e.message, "slice") != nullptr;
}

extern "C" void on_abort(int) { std::_Exit(handler_saw_the_slice ? 0 : 3); }

}  // namespace

int main() {
  std::signal(SIGABRT, on_abort);
  tenfold::set_error_handler(&note_and_return);
  tenfold::tensor<float, tenfold::shape<2, 2>> t(0.f);
  volatile std::size_t index = 2;
  auto row = t.slice(index);
  std::printf("slice(2) of a shape<2, 2> tensor returned to its caller (first element %g)\n", double(row[0]));
  return 4;
}
