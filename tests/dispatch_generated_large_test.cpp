// The generated dispatch code (detail/dispatch/topic_match.hpp) against the linear reference, on
// compile-time topic sets of 256 topics (binary, text and names), under every shape of
// plan; the smaller sets are in dispatch_generated_small_test.cpp (dispatch_support.hpp).
// Left out of sanitizer builds (tests/CMakeLists.txt): minutes of instrumentation for the
// matcher code the smaller sets already run there.

#include "dispatch_support.hpp"

#include <catch2/catch.hpp>

using namespace dispatch_test;

TEST_CASE("the generated dispatch code matches the linear reference on compile-time topic sets of 256 topics",
          "[dispatch]")
{
    // Frame seeds 20 to 22, after the small sets' 1 to 19.
    check_all_generated<20, generated<20, 256, flavour::binary>, generated<21, 256, flavour::text>,
                        generated<22, 256, flavour::names>>();
}
