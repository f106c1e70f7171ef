// The inbox's ring (detail/runtime/bounded_queue.hpp) and the inbox around it (detail/runtime/inbox.hpp):
// exact capacities, order per producer, a full push that leaves the element alone, a close
// that refuses later pushes, and several producers against one consumer with nothing lost.

#include "event_engine/detail/runtime/bounded_queue.hpp"
#include "event_engine/detail/runtime/inbox.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

using event_engine::detail::bounded_queue;
using event_engine::detail::envelope;
using event_engine::detail::inbox;

TEST_CASE("bounded_queue: capacity is a power of two, at least 2, and holds exactly that many", "[bounded_queue]")
{
    for (const auto& [asked, held] :
         std::vector<std::pair<std::size_t, std::size_t>>{{0, 2}, {1, 2}, {2, 2}, {3, 4}, {4, 4}, {1000, 1024}}) {
        CAPTURE(asked);
        bounded_queue<int> queue{asked};
        CHECK(queue.capacity() == held);
        for (std::size_t i = 0; i < held; ++i) CHECK(queue.try_push(static_cast<int>(i)));
        int refused = 7;
        CHECK_FALSE(queue.try_push(std::move(refused)));
        CHECK(queue.size_approx() == held);
        for (std::size_t i = 0; i < held; ++i) {
            int out = -1;
            REQUIRE(queue.try_pop(out));
            CHECK(out == static_cast<int>(i));
        }
        int out = -1;
        CHECK_FALSE(queue.try_pop(out));
        CHECK_FALSE(queue.ready());
    }
}

TEST_CASE("bounded_queue: a refused push leaves the element as it was", "[bounded_queue]")
{
    bounded_queue<std::unique_ptr<int>> queue{1};
    CHECK(queue.try_push(std::make_unique<int>(1)));
    CHECK(queue.try_push(std::make_unique<int>(2)));
    auto kept = std::make_unique<int>(3);
    CHECK_FALSE(queue.try_push(std::move(kept)));
    REQUIRE(kept != nullptr);
    CHECK(*kept == 3);
}

TEST_CASE("inbox: three producers, one consumer, every element once and in each producer's order", "[bounded_queue]")
{
    constexpr std::uint32_t per_producer = 20'000;
    for (const std::size_t capacity : {1, 4, 64}) {
        CAPTURE(capacity);
        inbox input{capacity};
        std::vector<std::thread> producers;
        for (std::uint32_t p = 0; p < 3; ++p) {
            producers.emplace_back([&input, p] {
                for (std::uint32_t n = 0; n < per_producer; ++n) {
                    envelope item;
                    item.index = p;
                    item.mark = n;
                    while (input.try_push(item) != inbox::push_result::pushed)
                        input.wait_for_room(std::chrono::milliseconds{1});
                }
            });
        }
        std::vector<std::uint64_t> next(3, 0);
        std::uint64_t out_of_order = 0;
        for (std::uint64_t taken = 0; taken < 3 * per_producer;) {
            envelope item;
            if (!input.try_pop(item)) {
                if (input.sleep()) {
                    zmq::pollitem_t wake{nullptr, input.wake_fd(), ZMQ_POLLIN, 0};
                    zmq::poll(&wake, 1, std::chrono::milliseconds{1000});
                    input.woken();
                }
                continue;
            }
            if (item.mark != next[item.index]) ++out_of_order;
            next[item.index] = item.mark + 1;
            ++taken;
        }
        for (auto& producer : producers) producer.join();
        CHECK(out_of_order == 0);
        CHECK(next == std::vector<std::uint64_t>(3, per_producer));
        envelope extra;
        CHECK_FALSE(input.try_pop(extra));
    }
}

TEST_CASE("inbox: once closed, pushes are refused as closed; what was queued stays to be taken", "[bounded_queue]")
{
    inbox input{4};
    envelope first;
    first.mark = 1;
    REQUIRE(input.try_push(first) == inbox::push_result::pushed);
    input.close();
    envelope second;
    CHECK(input.try_push(second) == inbox::push_result::closed);
    envelope taken;
    REQUIRE(input.try_pop(taken));
    CHECK(taken.mark == 1);
}
