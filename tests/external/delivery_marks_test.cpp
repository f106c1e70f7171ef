// Delivery marks reaching an external plugin's bridge (detail/runtime/delivery_marks.hpp): the
// mark counts once the events before it are in the plugin's queue in the engine (not
// once its process handled them), and it never crosses the TCP port.

#include "clients.hpp"
#include "support.hpp"

#include <event_engine/detail/wire/external_protocol.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace event_engine;
using namespace test_events;
using namespace std::chrono_literals;
namespace protocol = event_engine::detail::protocol;
using test_clients::bound_port;
using test_clients::client_thread;
using test_clients::req_client;

namespace {

std::atomic<int> fetched{0};
std::atomic<bool> published{false};

// Publishes three Notes and a mark, then waits for the mark to be confirmed.
class NoteTracker : public plugin<NoteTracker, subscribes<>, publishes<Note>> {
public:
    bool confirmed = false;
    int fetched_at_confirmation = -1;

    [[nodiscard]] bool tracks_delivery() const noexcept { return true; }

    void run()
    {
        auto& runtime = *detail::plugin_access::runtime_of(*this);
        for (int i = 0; i < 3; ++i) publish(Note{"note " + std::to_string(i)});
        runtime.publish_mark();
        published = true;
        confirmed = wait_for_first_mark(runtime);
        fetched_at_confirmation = fetched.load();
    }
};

} // namespace

TEST_CASE("an external plugin confirms a mark once its queue holds what came before; the mark stays inside",
          "[external][delivery_marks]")
{
    NoteTracker tracker;
    external_options options;
    options.connect_timeout = 20s;
    options.queue_limit = 2; // the third Note (and the mark after it) wait until the client fetches
    app<events> application{any_ports()};
    application.register_plugin(tracker, "tracker")
        .register_external_plugin(external_plugin<subscribes<Note>, publishes<>>{"ext", 0, options});
    const bound_port port{application, "ext"};

    std::vector<std::string> notes;
    std::string after_last;
    client_thread client{[&] {
        req_client req{port};
        while (!published) std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(50ms); // the bridge has filled its queue of two
        for (int i = 0; i < 3; ++i) {
            ++fetched; // before the request: counted after its reply, a confirmation could come first
            notes.push_back(req.one(protocol::next_msg));
        }
        after_last = req.one("plugin_command: next_msg_wait 50"); // the mark is not an event
        (void)req.one(protocol::quit);
    }};
    const auto report = application.run();
    client.join();

    REQUIRE(tracker.confirmed);
    CHECK(tracker.fetched_at_confirmation >= 1); // not before the queue had room for the third Note
    CHECK(notes == std::vector<std::string>{"Notenote 0", "Notenote 1", "Notenote 2"});
    CHECK(after_last.empty());
    CHECK(report.find("ext")->events_received == 3);
    CHECK(report.find("ext")->events_unread == 0);
    CHECK(report.find("tracker")->events_published == 3);
}
