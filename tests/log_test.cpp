#include "support.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace event_engine;

TEST_CASE("log levels parse from EVENT_ENGINE_LOG's spelling", "[log]")
{
    using detail::parse_log_level;
    CHECK(parse_log_level("trace") == log_level::trace);
    CHECK(parse_log_level("debug") == log_level::debug);
    CHECK(parse_log_level("warning") == log_level::warn);
    CHECK(parse_log_level("off") == log_level::off);
    CHECK_FALSE(parse_log_level("nonsense").has_value());
    CHECK_FALSE(parse_log_level("").has_value());
}

TEST_CASE("an EVENT_ENGINE_LOG value that is not a level is said, and warn is used", "[log]")
{
    CHECK(detail::level_from_environment(nullptr) == log_level::warn);
    CHECK(detail::level_from_environment("debug") == log_level::debug);
    CHECK(detail::level_from_environment("bogus") == log_level::warn);

    std::vector<std::string> lines;
    // A sink that reads and sets the level while the report is being made must not wait on itself.
    set_log_sink([&](log_level, std::string_view line) {
        set_log_level(current_log_level());
        lines.emplace_back(line);
    });
    detail::report_bad_environment_level(nullptr);
    detail::report_bad_environment_level("info");
    CHECK(lines.empty());
    detail::report_bad_environment_level("bogus");
    set_log_sink({});
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "EVENT_ENGINE_LOG=bogus is not a log level (trace, debug, info, warn, error, off); using warn");
}

TEST_CASE("the sink sees lines at or above the threshold only", "[log]")
{
    std::vector<std::string> lines;
    set_log_sink([&](log_level, std::string_view line) { lines.emplace_back(line); });
    const auto previous = current_log_level();
    set_log_level(log_level::warn);
    detail::log(log_level::info, "hidden {}", 1);
    detail::log(log_level::warn, "shown {}", 2);
    set_log_level(log_level::off);
    detail::log(log_level::error, "hidden too");
    set_log_level(previous);
    set_log_sink({});
    CHECK(lines == std::vector<std::string>{"shown 2"});
}
