// Cycles under load without deadlock (issue 22). no_loss_test.cpp proves a chain with a relay
// (source -> relay -> slow sink) and an amplifying relay; app_test.cpp none with a cycle.
// Here plugins publish to each other in a cycle, A -> B -> A and A -> B -> C -> A, each
// answering one event with several, with a pure source feeding the cycle and an observer
// taking all of its traffic, under tiny high-water marks that keep every queue full. Each run
// is bounded by a budget of answers shared by the cycle; then either it drains (every
// answer handled: nothing lost, nothing left) or the plugin that spends the budget stops the
// application in full flow (spill drops and what the stop leaves, counted exactly).

#include "delivery_support.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

using namespace event_engine;
using delivery_tests::check_accounted;
using delivery_tests::check_all_received;

namespace {

inline constexpr std::array<std::string_view, 6> hop_names{"Seed", "Ping", "Pong", "X", "Y", "Z"};

// One event type per index: a publisher's own running number, who published it, how many
// hops since its seed.
template <std::size_t I>
struct Hop {
    static constexpr std::string_view name = hop_names[I];
    using codec = trivial_codec;
    std::uint64_t n = 0;
    std::uint32_t origin = 0;
    std::uint32_t hops = 0;
};
using Seed = Hop<0>;
using Ping = Hop<1>;
using Pong = Hop<2>;
using X = Hop<3>;
using Y = Hop<4>;
using Z = Hop<5>;
using cycle_events = event_list<Seed, Ping, Pong, X, Y, Z>;

struct cycle_setup {
    int high_water_mark = 4;
    std::size_t spill_limit = 100'000;
    bool stop_when_spent = false;
    std::int64_t budget = 20'000;
    std::uint64_t seeds = 1000;
};

// What the cycle shares: the answers it may still publish, and what happened.
struct cycle_state {
    explicit cycle_state(const cycle_setup& setup)
        : budget_total{setup.budget}, stop_when_spent{setup.stop_when_spent}, budget{setup.budget}
    {}
    const std::int64_t budget_total;
    const bool stop_when_spent;
    std::atomic<std::int64_t> budget;
    std::atomic<std::int64_t> answers_done{0}; // answers published (publish() returned true)
    std::atomic<std::uint64_t> handled{0};     // events handed to the cycle's plugins and the observer
};

// A plugin of the cycle: answers each event of In (and the source's Seeds, if it takes them)
// with `fanout` events of Out while the shared budget lasts.
template <class Out, class... In>
class Node : public plugin<Node<Out, In...>, subscribes<In...>, publishes<Out>> {
public:
    Node(cycle_state& shared, std::uint32_t origin) : state{&shared}, id{origin} {}
    cycle_state* state;
    std::uint32_t id;
    int fanout = 3;
    std::uint64_t published = 0;
    std::uint64_t abandoned = 0;
    std::uint64_t handed = 0;

    template <class E>
    void on(const E& event)
    {
        ++handed;
        for (int i = 0; i < fanout; ++i) {
            if (state->budget.fetch_sub(1) <= 0) break; // spent: only take what still comes
            if (!this->publish(Out{published, id, event.hops + 1})) {
                ++abandoned; // stopping
                break;
            }
            ++published;
            if (++state->answers_done == state->budget_total && state->stop_when_spent) this->stop_application();
        }
        ++state->handled;
    }
};

// A pure publisher feeding the cycle as fast as it can.
template <class Out>
class Source : public plugin<Source<Out>, subscribes<>, publishes<Out>> {
public:
    explicit Source(std::uint64_t seeds) : count{seeds} {}
    std::uint64_t count;
    std::uint32_t id = 0;
    std::uint64_t published = 0;
    std::uint64_t abandoned = 0;
    std::atomic<bool> done{false};
    void run()
    {
        for (std::uint64_t n = 0; n < count; ++n) {
            if (!this->publish(Out{n, id, 0})) {
                ++abandoned;
                break;
            }
            ++published;
        }
        done = true;
    }
};

// Takes all of the cycle's traffic, loop style, and checks each publisher's order.
template <class... In>
class Observer : public plugin<Observer<In...>, subscribes<In...>, publishes<>> {
public:
    explicit Observer(cycle_state& shared) : state{&shared} {}
    cycle_state* state;
    std::uint64_t handed = 0;
    std::uint64_t out_of_order = 0;
    void run()
    {
        std::array<std::array<std::uint64_t, 8>, sizeof...(In)> next{}; // per (type, origin)
        while (auto received = this->receive()) {
            std::visit(
                [&](const auto& event) {
                    auto& expected = next.at(received->index()).at(event.origin);
                    if (event.n != expected) ++out_of_order;
                    expected = event.n + 1;
                },
                *received);
            ++handed;
            ++state->handled;
        }
    }
};

// Drains: waits until every answer of the budget was published and every event published
// was handed to its subscriber, then stops the application (only the test knows the cycle
// has gone quiet). No drop can happen there: the spill limit is above everything published.
// A minute is a hang guard: the checks then say what is missing.
template <class App>
void stop_when_drained(App& application, const cycle_state& state, std::uint64_t to_handle_besides_answers,
                       std::uint64_t answer_subscribers, delivery_tests::background_run& running)
{
    const auto hang_guard = std::chrono::steady_clock::now() + std::chrono::minutes{1};
    const auto drained = [&] {
        const auto answers = state.answers_done.load();
        return answers == state.budget_total &&
               state.handled.load() ==
                   to_handle_besides_answers + static_cast<std::uint64_t>(answers) * answer_subscribers;
    };
    while (!drained() && !running.done() && std::chrono::steady_clock::now() < hang_guard) {
        std::this_thread::sleep_for(std::chrono::milliseconds{2});
    }
    application.stop();
}

// A node's report says what the node counted itself: what it published, abandoned, was handed.
template <class N>
void check_node(const run_report& report, std::string_view name, const N& node)
{
    delivery_tests::check_published(report, name, node.published, node.abandoned);
    CHECK(report.find(name)->events_received == node.handed);
}

app_config config_of(const cycle_setup& setup)
{
    auto config = test_events::any_ports();
    config.high_water_mark = setup.high_water_mark;
    config.spill_limit = setup.spill_limit;
    return config;
}

} // namespace

TEST_CASE("a two-plugin cycle under load - A -> B -> A, three answers per event - drains or stops, never deadlocks",
          "[delivery][cycle]")
{
    cycle_setup setup;
    SECTION("drains, high-water mark 4") { setup.high_water_mark = 4; }
    SECTION("drains, high-water mark 16") { setup.high_water_mark = 16; }
    SECTION("stops in full flow, spill limit 8")
    {
        setup.spill_limit = 8;
        setup.stop_when_spent = true;
    }
    CAPTURE(setup.high_water_mark, setup.spill_limit, setup.stop_when_spent);

    cycle_state state{setup};
    Source<Seed> source{setup.seeds};
    Node<Ping, Seed, Pong> a{state, 1}; // takes the seeds and B's answers
    Node<Pong, Ping> b{state, 2};
    Observer<Ping, Pong> observer{state};

    app<cycle_events> application{config_of(setup)};
    application.register_plugin(a, "A")
        .register_plugin(b, "B")
        .register_plugin(observer, "observer")
        .register_plugin(source, "source");
    const test_events::log_capture quiet{log_level::off}; // the drops are logged: expected when it stops in full flow
    delivery_tests::background_run running{application};
    if (!setup.stop_when_spent) {
        // Seeds go to A; Pings to B and the observer, Pongs to A and the observer.
        stop_when_drained(application, state, setup.seeds, 2, running);
    }
    const auto report = running.join();

    delivery_tests::check_published(report, "source", source.published, source.abandoned);
    check_node(report, "A", a);
    check_node(report, "B", b);
    CHECK(report.find("observer")->events_received == observer.handed);
    CHECK(observer.out_of_order == 0);
    // The queues were full: the test is only meaningful if publishers were held back.
    CHECK(report.find("A")->publish_waits + report.find("B")->publish_waits > 0);
    INFO("A: max spilled " << report.find("A")->max_spilled << ", dropped " << report.find("A")->events_dropped
                           << "; B: max spilled " << report.find("B")->max_spilled << ", dropped "
                           << report.find("B")->events_dropped);
    if (setup.stop_when_spent) {
        CHECK(report.stopped);
        CHECK(state.answers_done == setup.budget);
        check_accounted(report, "A", source.published + b.published);
        check_accounted(report, "B", a.published);
        check_accounted(report, "observer", a.published + b.published);
        CHECK(report.find("observer")->events_dropped == 0); // it never publishes, so it never spills
    } else {
        CHECK(source.published == setup.seeds);
        CHECK(state.answers_done == setup.budget);
        check_all_received(report, "A", source.published + b.published);
        check_all_received(report, "B", a.published);
        check_all_received(report, "observer", a.published + b.published);
    }
}

TEST_CASE("a three-plugin cycle under load - A -> B -> C -> A, three answers per event - drains or stops, never "
          "deadlocks",
          "[delivery][cycle]")
{
    cycle_setup setup;
    SECTION("drains, high-water mark 4") { setup.high_water_mark = 4; }
    SECTION("drains, high-water mark 16") { setup.high_water_mark = 16; }
    SECTION("stops in full flow, high-water mark 4, spill limit 8")
    {
        setup.spill_limit = 8;
        setup.stop_when_spent = true;
    }
    SECTION("stops in full flow, high-water mark 16, spill limit 32")
    {
        setup.high_water_mark = 16;
        setup.spill_limit = 32;
        setup.stop_when_spent = true;
    }
    CAPTURE(setup.high_water_mark, setup.spill_limit, setup.stop_when_spent);

    cycle_state state{setup};
    // The source publishes X, as C does: A takes X from two publishers.
    Source<X> source{setup.seeds};
    Node<Y, X> a{state, 1};
    Node<Z, Y> b{state, 2};
    Node<X, Z> c{state, 3};
    Observer<X, Y, Z> observer{state};

    app<cycle_events> application{config_of(setup)};
    application.register_plugin(source, "source")
        .register_plugin(c, "C")
        .register_plugin(observer, "observer")
        .register_plugin(b, "B")
        .register_plugin(a, "A");
    const test_events::log_capture quiet{log_level::off}; // the drops are logged: expected when it stops in full flow
    delivery_tests::background_run running{application};
    if (!setup.stop_when_spent) {
        // The seeds go to A and the observer; every answer to one node and the observer.
        stop_when_drained(application, state, 2 * setup.seeds, 2, running);
    }
    const auto report = running.join();

    delivery_tests::check_published(report, "source", source.published, source.abandoned);
    check_node(report, "A", a);
    check_node(report, "B", b);
    check_node(report, "C", c);
    CHECK(report.find("observer")->events_received == observer.handed);
    CHECK(observer.out_of_order == 0);
    CHECK(report.find("A")->publish_waits + report.find("B")->publish_waits + report.find("C")->publish_waits > 0);
    INFO("max spilled A " << report.find("A")->max_spilled << ", B " << report.find("B")->max_spilled << ", C "
                          << report.find("C")->max_spilled << "; dropped " << report.total_dropped());
    const std::uint64_t all = source.published + a.published + b.published + c.published;
    if (setup.stop_when_spent) {
        CHECK(report.stopped);
        CHECK(state.answers_done == setup.budget);
        check_accounted(report, "A", source.published + c.published);
        check_accounted(report, "B", a.published);
        check_accounted(report, "C", b.published);
        check_accounted(report, "observer", all);
        CHECK(report.find("observer")->events_dropped == 0);
    } else {
        CHECK(source.published == setup.seeds);
        CHECK(state.answers_done == setup.budget);
        check_all_received(report, "A", source.published + c.published);
        check_all_received(report, "B", a.published);
        check_all_received(report, "C", b.published);
        check_all_received(report, "observer", all);
    }
}
