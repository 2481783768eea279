// The main() of the tests built with -fno-exceptions -fno-rtti (the shared test_main is built with exceptions).
// DOCTEST_CONFIG_NO_EXCEPTIONS comes from meson.build, so that every file of the executable agrees on it.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
