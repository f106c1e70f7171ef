// Deprecated, not broken: code that loads a CURVE key with curve_key::load (which guessed
// whether its argument was a key or a file) still compiles (tests/deprecated_names_test.cpp),
// and the compiler says, at the line that calls it, what to call instead. The warning is made
// an error here so that this case fails to compile in every build, with or without
// EVENT_ENGINE_WERROR.
#include <event_engine/security.hpp>

#pragma GCC diagnostic error "-Wdeprecated-declarations"

// expect: curve_key::load guesses between a key and a file
// expect: curve_key::from_z85
// expect: curve_key::from_file
// expect-first-error: load.*deprecated

event_engine::curve_key old_code() { return event_engine::curve_key::load("keys/engine.key"); }

int main() { return static_cast<int>(old_code().z85().size()); }
