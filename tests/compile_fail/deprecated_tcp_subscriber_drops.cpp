// Deprecated, not broken: code written before the subscribe port became best effort
// still compiles (tests/deprecated_names_test.cpp), and the compiler says, at the line
// that names the old member, what it means now and what to read instead. The warning is
// made an error here so that this case fails to compile in every build, with or without
// EVENT_ENGINE_WERROR.
#include <event_engine/event_engine.hpp>

#include <cstdint>

#pragma GCC diagnostic error "-Wdeprecated-declarations"

// expect: tcp_subscriber_drops
// expect: is always 0 since the subscribe port became best effort
// expect: run_report::tcp_events_offered
// expect-first-error: tcp_subscriber_drops.*deprecated

std::uint64_t old_code(const event_engine::run_report& report) { return report.tcp_subscriber_drops; }

int main()
{
    const event_engine::run_report report; // copies and constructs without a word
    const event_engine::run_report copy = report;
    return static_cast<int>(old_code(copy));
}
