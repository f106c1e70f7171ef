// Renamed or retired public names keep compiling, with a deprecation warning, for one minor
// version (docs/testing.md, "Changing the public API"; CHANGELOG.md, "Deprecated"). Each
// test here is code written against the old name, with the warning silenced around it only;
// compile_fail/deprecated_tcp_subscriber_drops.cpp and deprecated_curve_key_load.cpp check
// that the warnings are given.

#include "support.hpp"

#include <catch2/catch.hpp>

#include <event_engine/security.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

using namespace event_engine;
using namespace test_events;

// Copying, moving and default-constructing a report never names the deprecated member, so
// they must not warn: this file is compiled with -Werror in the project's builds, and these
// lines are outside the silenced regions below.
static_assert(std::is_nothrow_move_constructible_v<run_report>);
static_assert(std::is_copy_constructible_v<run_report>);
static_assert(std::is_aggregate_v<run_report>);

namespace {

// Old code: what a program written before 2026-11-27 did with the report.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
std::uint64_t old_tcp_subscriber_drops(const run_report& report) { return report.tcp_subscriber_drops; }
std::uint64_t old_all_drops(const run_report& report) { return report.total_dropped() + report.tcp_subscriber_drops; }
void old_set_tcp_subscriber_drops(run_report& report, std::uint64_t value) { report.tcp_subscriber_drops = value; }
// Old code: a key's text or a certificate file's path, one function for both (before 2026-12-07).
curve_key old_load(std::string_view text_or_path) { return curve_key::load(text_or_path); }
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

class Finisher : public plugin<Finisher, subscribes<>, publishes<Note>> {
public:
    void run()
    {
        for (int i = 0; i < 3; ++i) {
            if (!publish(Note{"n"})) return;
        }
    }
};

} // namespace

TEST_CASE("run_report::tcp_subscriber_drops still compiles and reads 0", "[deprecated][report]")
{
    SECTION("a default report, a copy and a move")
    {
        run_report report;
        report.tcp_events_offered = 5; // offered is not dropped
        CHECK(old_tcp_subscriber_drops(report) == 0);
        const run_report copy = report;
        CHECK(old_tcp_subscriber_drops(copy) == 0);
        run_report moved = std::move(report);
        CHECK(old_tcp_subscriber_drops(moved) == 0);
        CHECK(moved.tcp_events_offered == 5);
    }
    SECTION("old arithmetic on it still gives the run's drops")
    {
        run_report report;
        plugin_report a;
        a.name = "a";
        a.events_dropped = 3;
        report.plugins = {a};
        CHECK(old_all_drops(report) == 3);
        CHECK(report.total_dropped() == 3);
    }
    SECTION("old code that wrote it still compiles; a copy carries what it wrote")
    {
        run_report report;
        old_set_tcp_subscriber_drops(report, 2);
        run_report copy;
        copy = report;
        CHECK(old_tcp_subscriber_drops(copy) == 2);
        CHECK(copy.total_dropped() == 0); // not a drop the engine saw: not in the total
    }
    SECTION("a real run reports 0: the subscribe port never holds an event back")
    {
        app<events> application{any_ports()};
        Finisher finisher;
        const run_report report = application.register_plugin(finisher).run();
        REQUIRE(report.find("Finisher") != nullptr);
        CHECK(report.find("Finisher")->events_published == 3);
        CHECK(old_tcp_subscriber_drops(report) == 0);
    }
}

TEST_CASE("curve_key::load still compiles and loads what cannot be mistaken", "[deprecated][curve]")
{
    std::string directory = "/tmp/eekXXXXXX";
    REQUIRE(::mkdtemp(directory.data()) != nullptr);
    struct remove_at_end {
        std::filesystem::path path;
        ~remove_at_end()
        {
            std::error_code ignored;
            std::filesystem::remove_all(path, ignored);
        }
    } const cleanup{directory};
    auto pair = curve_keypair::generate();
    while (pair.public_key.z85().find('/') != std::string::npos || pair.public_key.z85().starts_with('.') ||
           pair.public_key.z85().ends_with(".key")) {
        pair = curve_keypair::generate(); // a bare key with '/' could be a path: refused (below)
    }
    pair.save(directory, "engine");
    const std::string file = directory + "/engine.key"; // 25 characters: only a path
    CHECK(old_load(pair.public_key.z85()) == pair.public_key);
    CHECK(old_load(file) == pair.public_key);
    CHECK(old_load("z85:" + pair.public_key.z85()) == pair.public_key); // the spellings from_setting reads
    CHECK(old_load("file:" + file) == pair.public_key);
    // What it guessed wrong before: a 40-character Z85 path, missing or not, is refused.
    CHECK_THROWS_AS(old_load("/home/ann/keys/abcdefghijklmn/engine.key"), configuration_error);
}
