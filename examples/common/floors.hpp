// Command-line floors for the examples: `--require-NAME VALUE` after the positional arguments makes the
// program exit with 1 when its result NAME falls below VALUE (the test suite runs every example that way, so
// that an example that stops learning fails instead of printing a worse number).
#pragma once
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace example {

// The number after the flag `flag` ("--seeds 3"), or `fallback` when the flag is not given.
inline double flag_value(int argc, char** argv, const std::string& flag, double fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (flag == argv[i]) return std::atof(argv[i + 1]);
  return fallback;
}

// Whether the flag `flag` ("--plain") is on the command line.
inline bool has_flag(int argc, char** argv, const std::string& flag) {
  for (int i = 1; i < argc; ++i)
    if (flag == argv[i]) return true;
  return false;
}

// The value after "--require-<name>", or no floor at all when it is not given.
inline double floor_for(int argc, char** argv, const char* name) {
  return flag_value(argc, argv, std::string("--require-") + name, -1e300);
}

// The positional argument at `index` (1-based), or null when absent. Positional arguments come before the
// first flag: in `lenet --seed 2`, "2" is the flag's value, not the epoch count.
inline const char* positional(int argc, char** argv, int index) {
  if (index >= argc) return nullptr;
  for (int i = 1; i <= index; ++i)
    if (std::strncmp(argv[i], "--", 2) == 0) return nullptr;
  return argv[index];
}

// The value after "--require-max-<name>" (a ceiling, for results where lower is better, such as a loss), or
// no ceiling when it is not given.
inline double ceiling_for(int argc, char** argv, const char* name) {
  return flag_value(argc, argv, std::string("--require-max-") + name, 1e300);
}

// Whether `value` stays at or below `ceiling`; says so on stderr when it does not.
inline bool at_most(const char* name, double value, double ceiling) {
  if (value <= ceiling) return true;
  std::fprintf(stderr, "%s %.4f is above the allowed %.4f\n", name, value, ceiling);
  return false;
}

// Whether `value` reaches `floor`; says so on stderr when it does not.
inline bool meets(const char* name, double value, double floor) {
  if (value >= floor) return true;
  std::fprintf(stderr, "%s %.4f is below the required %.4f\n", name, value, floor);
  return false;
}

}  // namespace example
