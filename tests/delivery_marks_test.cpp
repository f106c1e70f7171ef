// Delivery marks (detail/runtime/delivery_marks.hpp), without NATS: a plugin that tracks delivery
// learns that its events were handled only once every plugin that receives them has
// handled them; a plugin that ends stops counting; plugins that do not receive its events
// never count; marks never reach user code or the counters.

#include "support.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <thread>

using namespace event_engine;
using namespace std::chrono_literals;

namespace {

// The tracker publishes Counts; Notes are other plugins' business.
using test_events::Count;
using test_events::Note;
using test_events::wait_for_first_mark;

// What the subscribers have handled, as the tracker sees it when its mark is confirmed.
std::atomic<std::uint64_t> handled_by_on{0};
std::atomic<std::uint64_t> handled_by_loop{0};

// Publishes `total` Counts and one mark, then waits until the mark is confirmed and notes
// what the subscribers had handled at that moment.
class Tracker : public plugin<Tracker, subscribes<>, publishes<Count>> {
public:
    std::uint64_t total = 50;
    std::uint64_t confirmed_right_after_mark = 99;
    std::uint64_t on_at_confirmation = 0;
    std::uint64_t loop_at_confirmation = 0;
    bool confirmed = false;
    bool had_live_subscribers = false;

    [[nodiscard]] bool tracks_delivery() const noexcept { return true; }

    void run()
    {
        auto& runtime = *detail::plugin_access::runtime_of(*this);
        const auto& tracker = *runtime.tracker();
        for (std::uint64_t n = 1; n <= total; ++n) publish(Count{n});
        had_live_subscribers = tracker.has_live_subscribers();
        runtime.publish_mark();
        confirmed_right_after_mark = tracker.confirmed();
        confirmed = wait_for_first_mark(runtime);
        on_at_confirmation = handled_by_on.load();
        loop_at_confirmation = handled_by_loop.load();
        stop_application();
    }
};

// Handler style, slow: 2 ms per Count.
class SlowOn : public plugin<SlowOn, subscribes<Count>, publishes<>> {
public:
    std::uint64_t finish_after = 0; // 0: never
    void on(const Count&)
    {
        std::this_thread::sleep_for(2ms);
        ++handled_by_on;
        if (handled_by_on == finish_after) finish();
    }
};

// Loop style, slow: asks for the next Count 1 ms after it got one.
class SlowLoop : public plugin<SlowLoop, subscribes<Count>, publishes<>> {
public:
    void run()
    {
        while (receive()) {
            std::this_thread::sleep_for(1ms);
            ++handled_by_loop;
        }
    }
};

// Receives other events only: never counts for the tracker.
class Bystander : public plugin<Bystander, subscribes<Note>, publishes<>> {
public:
    void on(const Note&) {}
};

void reset()
{
    handled_by_on = 0;
    handled_by_loop = 0;
}

} // namespace

TEST_CASE("a mark is confirmed only after every subscriber handled every event before it", "[delivery_marks]")
{
    reset();
    Tracker tracker;
    SlowOn on;
    SlowLoop loop;
    Bystander bystander;
    app<test_events::events> application{test_events::any_ports()};
    application.register_plugin(tracker).register_plugin(on).register_plugin(loop).register_plugin(bystander);
    const auto report = application.run();

    CHECK(tracker.had_live_subscribers);
    CHECK(tracker.confirmed_right_after_mark == 0); // 50 events at 2 ms each are still being handled
    REQUIRE(tracker.confirmed);
    CHECK(tracker.on_at_confirmation == tracker.total);
    CHECK(tracker.loop_at_confirmation == tracker.total);
    // The mark is no event: not published, not received, not unread.
    CHECK(report.find("Tracker")->events_published == tracker.total);
    CHECK(report.find("SlowOn")->events_received == tracker.total);
    CHECK(report.find("SlowLoop")->events_received == tracker.total);
    CHECK(report.find("SlowOn")->events_unread == 0);
    CHECK(report.find("SlowLoop")->events_unread == 0);
    CHECK(report.find("Bystander")->events_received == 0);
    CHECK(report.total_dropped() == 0);
}

TEST_CASE("a subscriber that has finished no longer holds the mark back", "[delivery_marks]")
{
    reset();
    Tracker tracker;
    SlowOn quitter;
    quitter.finish_after = 5; // leaves 45 Counts unread
    SlowLoop loop;
    app<test_events::events> application{test_events::any_ports()};
    application.register_plugin(tracker).register_plugin(quitter).register_plugin(loop);
    const auto report = application.run();

    REQUIRE(tracker.confirmed);
    CHECK(tracker.on_at_confirmation == 5);
    CHECK(tracker.loop_at_confirmation == tracker.total);
    const auto& quitter_report = *report.find("SlowOn");
    CHECK(quitter_report.outcome == plugin_outcome::finished);
    CHECK(quitter_report.events_received + quitter_report.events_unread + quitter_report.events_after_end ==
          tracker.total);
}

TEST_CASE("without subscribers a mark is confirmed at once, and sends nothing", "[delivery_marks]")
{
    reset();
    Tracker tracker;
    Bystander bystander;
    app<test_events::events> application{test_events::any_ports()};
    application.register_plugin(tracker).register_plugin(bystander);
    const auto report = application.run();

    CHECK_FALSE(tracker.had_live_subscribers);
    CHECK(tracker.confirmed_right_after_mark == 1);
    CHECK(tracker.confirmed);
    CHECK(report.find("Bystander")->events_received == 0);
}

TEST_CASE("delivery_tracker: the least mark of live subscribers, and tainted batches", "[delivery_marks]")
{
    detail::delivery_tracker tracker{3};
    CHECK(tracker.topic() == std::string{detail::control_prefix} + "mark/3/");
    CHECK(tracker.confirmed() == 0);
    auto& a = tracker.add_subscriber();
    auto& b = tracker.add_subscriber();
    const auto frame = tracker.next_frame();
    CHECK(detail::is_mark_frame(detail::frame_view(frame)));
    CHECK(frame.size() == tracker.topic().size() + sizeof(std::uint64_t));
    tracker.note_sent();
    tracker.note_sent();
    CHECK(tracker.issued() == 2);
    CHECK(tracker.confirmed() == 0);
    a.seen = 2;
    CHECK(tracker.confirmed() == 0); // b has read none
    b.seen = 1;
    CHECK(tracker.confirmed() == 1);
    b.ended = true; // b no longer counts
    CHECK(tracker.confirmed() == 2);
    a.ended = true;
    CHECK_FALSE(tracker.has_live_subscribers());
    CHECK(tracker.confirmed() == 2);

    CHECK_FALSE(tracker.lossy(1));
    a.lossy = 2; // a dropped an event before mark 2: batches up to 2 are suspect
    CHECK(tracker.lossy(1));
    CHECK(tracker.lossy(2));
    CHECK_FALSE(tracker.lossy(3));
}

TEST_CASE("receives_from: ZeroMQ's prefix match, either way", "[delivery_marks]")
{
    const std::array<std::string_view, 1> job{"Job"};
    const std::array<std::string_view, 2> jobs{"Jo", "Note"};
    const std::array<std::string_view, 1> long_job{"JobX"};
    const std::array<std::string_view, 1> other{"Note"};
    CHECK(detail::receives_from(job, job));
    CHECK(detail::receives_from(jobs, job));     // a shorter subscription gets Job
    CHECK(detail::receives_from(long_job, job)); // Job's payload may start with X
    CHECK_FALSE(detail::receives_from(other, job));
    CHECK_FALSE(detail::receives_from({}, job));
}
