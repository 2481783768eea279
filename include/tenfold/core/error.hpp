// Error reporting that works with and without exceptions.
//
// Every runtime failure in tenfold (a file that cannot be read, a batch larger than the network's capacity,
// a label out of range) is described by one `tenfold::error`: a code and a sentence that names the thing and
// the problem. `raise(err)` throws `tenfold::exception` when exceptions are enabled; in a -fno-exceptions
// build it calls the handler installed with `set_error_handler` (default: print to stderr and abort). Code
// that must not stop on a bad file uses the `try_` functions, which return a `result<T>` instead.
#pragma once
#include "internal.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>
#if !TENFOLD_NO_EXCEPTIONS
#include <stdexcept>
#endif

namespace tenfold {

enum class errc {
  ok = 0,
  invalid_argument,  // a value outside what the function accepts
  out_of_range,      // an index, a row count or a label past its bound
  file_not_found,    // a path that cannot be opened
  bad_format,        // wrong magic number, malformed header or field
  truncated,         // fewer bytes or fields than the header promised
  io_error,          // a read or write that failed midway
  device,            // a CUDA call or kernel launch that failed
};

// One failure: what kind, and a sentence for a person.
struct error {
  errc code = errc::ok;
  char message[320] = {};

  static error make(errc c, const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    error e;
    e.code = c;
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(e.message, sizeof e.message, fmt, args);
    va_end(args);
    return e;
  }
  explicit operator bool() const { return code != errc::ok; }
};

#if !TENFOLD_NO_EXCEPTIONS
// Thrown by raise() when exceptions are on; what() is the error's sentence.
class exception : public std::runtime_error {
 public:
  explicit exception(const error& e) : std::runtime_error(e.message), code_(e.code) {}
  errc code() const noexcept { return code_; }

 private:
  errc code_;
};
#endif

using error_handler = void (*)(const error&);

namespace detail {
inline void default_error_handler(const error& e) {
  std::fprintf(stderr, "tenfold: %s\n", e.message);
  std::fflush(stderr);
}
inline error_handler& installed_handler() {
  static error_handler handler = &default_error_handler;
  return handler;
}
}  // namespace detail

// Sets the function that sees every error in a -fno-exceptions build (it may log, blink a LED, longjmp);
// if it returns, the program aborts. Returns the previous handler.
inline error_handler set_error_handler(error_handler h) {
  return std::exchange(detail::installed_handler(), h ? h : &detail::default_error_handler);
}

// Reports `e`: throws tenfold::exception, or calls the handler and aborts when exceptions are off.
[[noreturn]] inline void raise(const error& e) {
#if TENFOLD_NO_EXCEPTIONS
  detail::installed_handler()(e);
  std::abort();
#else
  throw exception(e);
#endif
}

// A value or the error that prevented it; `value()` raises the error when there is none.
template <class T>
class result {
 public:
  result(T v) : value_(std::move(v)) {}  // NOLINT: implicit by design, like std::expected
  result(const error& e) : error_(e) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const tenfold::error& error() const { return error_; }

  T& value() & {
    if (!value_) raise(error_);
    return *value_;
  }
  T&& value() && {
    if (!value_) raise(error_);
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  T& operator*() { return value(); }

 private:
  std::optional<T> value_;
  tenfold::error error_{};
};

}  // namespace tenfold

// Checks a precondition on user input (a batch size, a file's contents, a label) and raises a sentence when
// it fails. Always on in host code: these checks run once per call or per batch, never per element of a
// hot loop.
#if !defined(__CUDA_ARCH__)
#define TENFOLD_EXPECT(cond, code, ...) \
  ((cond) ? (void)0 : ::tenfold::raise(::tenfold::error::make(code, __VA_ARGS__)))
#else
#define TENFOLD_EXPECT(cond, code, ...) ((void)0)
#endif

// Index checks inside element access (view::slice, ...): on unless TENFOLD_CHECK_BOUNDS is 0 (the default
// with NDEBUG), because they sit on paths that may run per element.
#if TENFOLD_CHECK_BOUNDS && !defined(__CUDA_ARCH__)
#define TENFOLD_EXPECT_IN_BOUNDS(cond, ...) TENFOLD_EXPECT(cond, ::tenfold::errc::out_of_range, __VA_ARGS__)
#else
#define TENFOLD_EXPECT_IN_BOUNDS(cond, ...) ((void)0)
#endif
