// Random stops with exact accounting (issue 22): thirty seeded runs of an application under
// load (two publishers, an amplifying relay, handler-style and loop-style subscribers, one
// that finishes early), each ended at a random moment, measured in events, not time: by
// app::stop() from another thread, by a plugin throwing from its handler, or by a plugin
// calling stop_application(); with a random high-water mark and spill limit. Each run must
// return, and every subscriber's report must account for every event published on its
// topics exactly; every publisher's for every publish.

#include "delivery_support.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

using namespace event_engine;
using delivery_tests::check_accounted;
using delivery_tests::check_published;

namespace {

struct Tick {
    static constexpr std::string_view name = "Tick";
    using codec = trivial_codec;
    std::uint64_t n = 0;
    std::uint32_t origin = 0;
    std::uint32_t spare = 0;
};
struct Label {
    static constexpr std::string_view name = "Label";
    using codec = text_codec;
    std::string text;
};
struct Blob {
    static constexpr std::string_view name = "Blob";
    using codec = bytes_codec;
    std::vector<std::byte> bytes;
};
struct Echo {
    static constexpr std::string_view name = "Echo";
    using codec = trivial_codec;
    std::uint64_t n = 0;
};
using stop_events = event_list<Tick, Label, Blob, Echo>;

// Where a run is ended.
enum class ending { app_stop, handler_throws, relay_throws, stop_application };

// One run's random choices.
struct run_plan {
    ending how = ending::app_stop;
    std::uint64_t at = 0; // after how many events (of the plugin that ends it)
    int high_water_mark = 1000;
    std::size_t spill_limit = 100'000;
    std::uint64_t early_finish = 0; // the finisher's events before it calls finish()
};

// Publishes until the application stops (or a cap, far beyond any run's end).
template <class A, class B>
class Publisher : public plugin<Publisher<A, B>, subscribes<>, publishes<A, B>> {
public:
    static constexpr std::uint64_t cap = 1'000'000;
    std::uint32_t id = 0;
    std::array<std::uint64_t, 2> published{};
    std::uint64_t abandoned = 0;
    void run()
    {
        for (std::uint64_t n = 0; n < cap; ++n) {
            const bool first = n % 3 != 2;
            const bool sent = first ? this->publish(make<A>(n)) : this->publish(make<B>(n));
            if (!sent) {
                ++abandoned;
                return;
            }
            ++published[first ? 0 : 1];
        }
    }

private:
    template <class E>
    E make(std::uint64_t n) const
    {
        if constexpr (std::is_same_v<E, Tick>) return Tick{n, id, 0};
        else if constexpr (std::is_same_v<E, Label>) return Label{"label " + std::to_string(n)};
        else return Blob{std::vector<std::byte>(64 + n % 2000, std::byte{0x5a})};
    }
};
using TickLabelPublisher = Publisher<Tick, Label>;
using TickBlobPublisher = Publisher<Tick, Blob>;

// Answers each Tick with two Echos; may throw at its at-th Tick.
class Relay : public plugin<Relay, subscribes<Tick>, publishes<Echo>> {
public:
    std::uint64_t throw_at = 0; // 0: never
    std::uint64_t handed = 0;
    std::uint64_t published = 0;
    std::uint64_t abandoned = 0;
    void on(const Tick& tick)
    {
        if (++handed == throw_at) throw std::runtime_error{"relay failed on purpose"};
        for (int i = 0; i < 2; ++i) {
            if (!publish(Echo{tick.n})) {
                ++abandoned;
                return;
            }
            ++published;
        }
    }
};

// Handler style; may throw, or stop the application, at its at-th event.
class Handler : public plugin<Handler, subscribes<Tick, Label>, publishes<>> {
public:
    std::uint64_t throw_at = 0;
    std::uint64_t stop_at = 0;
    std::uint64_t handed = 0;
    template <class E>
    void on(const E&)
    {
        ++handed;
        if (handed == throw_at) throw std::runtime_error{"handler failed on purpose"};
        if (handed == stop_at) stop_application();
    }
};

// Loop style, every type: what the test thread waits on to stop the application. Checks
// that each publisher's Ticks come in the order it published them.
class Looper : public plugin<Looper, subscribes<Tick, Label, Blob, Echo>, publishes<>> {
public:
    std::atomic<std::uint64_t> handed{0};
    std::uint64_t out_of_order = 0;
    void run()
    {
        std::array<std::uint64_t, 3> last{}; // per origin: the last Tick's n + 1
        while (auto received = receive()) {
            if (const auto* tick = std::get_if<Tick>(&*received)) {
                auto& before = last.at(tick->origin);
                if (before != 0 && tick->n < before) ++out_of_order;
                before = tick->n + 1;
            }
            ++handed;
        }
    }
};

// Finishes early: what is published for it afterwards is counted after its end.
class Finisher : public plugin<Finisher, subscribes<Echo, Blob>, publishes<>> {
public:
    std::uint64_t finish_at = 1;
    std::uint64_t handed = 0;
    template <class E>
    void on(const E&)
    {
        if (++handed == finish_at) finish();
    }
};

run_plan plan_of(std::mt19937& random)
{
    run_plan plan;
    plan.how = static_cast<ending>(std::uniform_int_distribution<int>{0, 3}(random));
    plan.at = std::uniform_int_distribution<std::uint64_t>{1, 10'000}(random);
    if (plan.how == ending::app_stop && std::uniform_int_distribution<int>{0, 5}(random) == 0) plan.at = 0; // at once
    constexpr std::array<int, 4> marks{4, 16, 64, 1000};
    plan.high_water_mark = marks.at(std::uniform_int_distribution<std::size_t>{0, marks.size() - 1}(random));
    constexpr std::array<std::size_t, 3> spills{8, 1000, 100'000};
    plan.spill_limit = spills.at(std::uniform_int_distribution<std::size_t>{0, spills.size() - 1}(random));
    plan.early_finish = std::uniform_int_distribution<std::uint64_t>{1, 500}(random);
    return plan;
}

std::string_view to_string(ending how)
{
    switch (how) {
    case ending::app_stop: return "app.stop() from another thread";
    case ending::handler_throws: return "a handler throws";
    case ending::relay_throws: return "the relay throws";
    case ending::stop_application: return "a handler calls stop_application()";
    }
    return "?";
}

} // namespace

TEST_CASE("random stops under load: run() returns and every event is accounted for, thirty seeded runs",
          "[delivery][stop]")
{
    for (std::uint32_t seed = 1; seed <= 30; ++seed) {
        std::mt19937 random{seed};
        const run_plan plan = plan_of(random);
        INFO("seed " << seed << ": " << to_string(plan.how) << " at " << plan.at << ", high-water mark "
                     << plan.high_water_mark << ", spill limit " << plan.spill_limit << ", finisher at "
                     << plan.early_finish);

        TickLabelPublisher first;
        first.id = 1;
        TickBlobPublisher second;
        second.id = 2;
        Relay relay;
        Handler handler;
        Looper looper;
        Finisher finisher;
        finisher.finish_at = plan.early_finish;
        if (plan.how == ending::relay_throws) relay.throw_at = plan.at;
        if (plan.how == ending::handler_throws) handler.throw_at = plan.at;
        if (plan.how == ending::stop_application) handler.stop_at = plan.at;

        auto config = test_events::any_ports();
        config.high_water_mark = plan.high_water_mark;
        config.spill_limit = plan.spill_limit;
        app<stop_events> application{config};
        application.register_plugin(looper, "looper")
            .register_plugin(first, "first")
            .register_plugin(relay, "relay")
            .register_plugin(handler, "handler")
            .register_plugin(second, "second")
            .register_plugin(finisher, "finisher");

        std::optional<std::string> failed;
        run_report report;
        {
            // clang-format off
            const test_events::log_capture quiet{log_level::off}; // a failing plugin and the drops are logged: expected here
            // clang-format on
            delivery_tests::background_run running{application};
            if (plan.how == ending::app_stop) {
                // Waits for the moment in events, not in time (a hang guard aside: the checks then fail).
                const auto hang_guard = std::chrono::steady_clock::now() + std::chrono::minutes{1};
                while (looper.handed < plan.at && !running.done() && std::chrono::steady_clock::now() < hang_guard) {
                    std::this_thread::sleep_for(std::chrono::microseconds{200});
                }
                application.stop();
            }
            report = running.join(&failed);
        }

        CHECK(report.stopped);
        if (plan.how == ending::handler_throws || plan.how == ending::relay_throws) {
            const std::string_view thrower = plan.how == ending::relay_throws ? "relay" : "handler";
            REQUIRE(failed.has_value());
            CHECK(*failed == thrower);
            CHECK(report.find(thrower)->outcome == plugin_outcome::failed);
        } else {
            CHECK_FALSE(failed.has_value());
        }

        // Publishers: the engine's counts are theirs.
        check_published(report, "first", first.published[0] + first.published[1], first.abandoned);
        check_published(report, "second", second.published[0] + second.published[1], second.abandoned);
        check_published(report, "relay", relay.published, relay.abandoned);
        const std::uint64_t ticks = first.published[0] + second.published[0];
        const std::uint64_t labels = first.published[1];
        const std::uint64_t blobs = second.published[1];
        const std::uint64_t echoes = relay.published;

        // Subscribers: every event on their topics in exactly one counter.
        check_accounted(report, "relay", ticks);
        check_accounted(report, "handler", ticks + labels);
        check_accounted(report, "looper", ticks + labels + blobs + echoes);
        check_accounted(report, "finisher", echoes + blobs);
        CHECK(report.find("relay")->events_received == relay.handed);
        CHECK(report.find("handler")->events_received == handler.handed);
        CHECK(report.find("looper")->events_received == looper.handed);
        CHECK(report.find("finisher")->events_received == finisher.handed);
        CHECK(looper.out_of_order == 0);
        // Only a plugin that publishes spills, so only it can drop.
        CHECK(report.find("handler")->events_dropped == 0);
        CHECK(report.find("looper")->events_dropped == 0);
        CHECK(report.find("finisher")->events_dropped == 0);
        if (plan.spill_limit == 100'000) CHECK(report.total_dropped() == 0); // the relay cannot have spilled that much
    }
}
