// Compiled at configure time to tell whether clang++ can build libFuzzer targets here.
#include <cstddef>
#include <cstdint>
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }
