#include "support.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace event_engine;

TEST_CASE("log levels parse from EVENT_ENGINE_LOG's spelling", "[log]")
{
    using detail::parse_log_level;
    CHECK(parse_log_level(nullptr, log_level::warn) == log_level::warn);
    CHECK(parse_log_level("debug", log_level::warn) == log_level::debug);
    CHECK(parse_log_level("off", log_level::warn) == log_level::off);
    CHECK(parse_log_level("nonsense", log_level::error) == log_level::error);
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
