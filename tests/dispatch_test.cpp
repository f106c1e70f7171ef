// The planned dispatch (detail/dispatch/dispatch_plan.hpp, detail/dispatch/topic_match.hpp,
// detail/dispatch/dispatch.hpp) against a linear reference: a frame matches topic T iff it
// starts with T, and at most one does. Topic sets are generated, at compile time
// for the generated code (it needs its topics as constants) and at run time for
// the planning algorithm (thousands of sets), with the same constexpr generator:
// random prefix-free sets of 1 to 256 topics that share long prefixes, binary ones
// with zero bytes (never starting with the reserved byte 0xFF), and realistic names.
// Every frame is its own heap block of exactly its size, so a read past its end is
// an error under AddressSanitizer. The shared parts are in dispatch_support.hpp; the
// generated code's test is in dispatch_generated_small_test.cpp and
// dispatch_generated_large_test.cpp.

#include "dispatch_support.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

using namespace dispatch_test;

TEST_CASE("dispatch plans match the linear reference on thousands of random topic sets", "[dispatch]")
{
    std::uint64_t seed = 0x5eed;
    std::size_t sets = 0;
    std::size_t frames = 0;
    auto sweep = [&]<std::size_t K>(std::integral_constant<std::size_t, K>, int repeats) {
        for (int r = 0; r < repeats; ++r) {
            for (const flavour kind : {flavour::binary, flavour::text, flavour::names}) {
                const topic_set<K> set = set_generator<K>{++seed, kind}.make(K);
                frames += check_plans_for(views_of(set), seed);
                ++sets;
            }
        }
    };
    // clang-format off
    [&]<std::size_t... Ks>(std::index_sequence<Ks...>) {
        (sweep(std::integral_constant<std::size_t, Ks>{}, Ks <= 16 ? 40 : Ks <= 64 ? 6 : 1), ...);
    }(std::index_sequence<1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 16, 17, 23, 31, 32, 33, 47, 63, 64, 65, 100, 127, 128,
                          129, 200, 255, 256>{});
    // clang-format on
    INFO(sets << " sets, " << frames << " frames per plan shape");
    CHECK(sets > 1000);
}

TEST_CASE("dispatch() delivers exactly the reference's matches and reports every other frame", "[dispatch]")
{
    SECTION("binary topics with zero bytes")
    {
        using set = generated<31, 40, flavour::binary>;
        check_dispatch<set::topics>(std::make_index_sequence<40>{});
    }
    SECTION("names sharing long prefixes")
    {
        using set = generated<32, 96, flavour::names>;
        check_dispatch<set::topics>(std::make_index_sequence<96>{});
    }
    // Up to index_switch_up_to (32) types the tree returns an index and deliver_by_index
    // switches on it; from 33 the leaf delivers: both sides of the line, and a tree of 17.
    SECTION("17, 32 and 33 types: the index switch and the leaf's delivery")
    {
        using set17 = generated<33, 17, flavour::binary>;
        check_dispatch<set17::topics>(std::make_index_sequence<17>{});
        using set32 = generated<34, 32, flavour::names>;
        check_dispatch<set32::topics>(std::make_index_sequence<32>{});
        using set33 = generated<35, 33, flavour::names>;
        check_dispatch<set33::topics>(std::make_index_sequence<33>{});
    }
}

namespace {
template <std::size_t K>
constexpr bool no_leaf_holds_topic_0(const dt::dispatch_plan<K>& plan)
{
    for (std::size_t n = 0; n < plan.node_count; ++n)
        for (std::size_t m = plan.nodes[n].first;
             !plan.nodes[n].branch && m < plan.nodes[n].first + plan.nodes[n].count; ++m)
            if (plan.members[m] == 0) return false;
    return true;
}

// Edge cases written out.
constexpr std::array<std::string_view, 1> single_empty{std::string_view{}};
constexpr std::array<std::string_view, 2> zero_bytes{std::string_view{"\x00\x00\x01", 3},
                                                     std::string_view{"\x00\x01", 2}};
constexpr std::array<std::string_view, 5> shared_ok{"sensor/temperature/kitchen", "sensor/temperature/lab",
                                                    "sensor/humidity", "alarm", "b"};
} // namespace

TEST_CASE("dispatch: an empty topic matches everything, binary topics and short frames", "[dispatch]")
{
    CHECK(generated_match<single_empty, dt::default_plan_limits>({}) == 0U);
    CHECK(generated_match<single_empty, dt::default_plan_limits>("x") == 0U);

    for (const dt::plan_limits limits : all_limits) {
        const auto plan = dt::make_dispatch_plan(shared_ok, limits);
        for (const std::string_view frame :
             {"sensor/temperature/kitchen", "sensor/temperature/kitche", "sensor/temperature/labx",
              "sensor/temperature/l", "sensor/humidityX", "sensor/humidit", "alarm", "alar", "b", "", "bb", "c"})
            CHECK(walk(plan, shared_ok, frame) == linear_match(shared_ok, frame));
    }
    CHECK(generated_match<zero_bytes, dt::plan_limits{1, 1, false}>(std::string_view{"\x00\x01\x02", 3}) == 1U);
    CHECK(generated_match<zero_bytes, dt::plan_limits{1, 1, false}>(std::string_view{"\x00\x00\x01", 3}) == 0U);
    CHECK_FALSE(generated_match<zero_bytes, dt::plan_limits{1, 1, false}>(std::string_view{"\x00\x00", 2}));
    CHECK_FALSE(generated_match<zero_bytes, dt::plan_limits{1, 1, false}>(std::string_view{"\x00", 1}));
    CHECK_FALSE(generated_match<zero_bytes, dt::plan_limits{1, 1, false}>({}));
}

TEST_CASE("dispatch plans: a branch per bucket, at the byte that splits it most", "[dispatch]")
{
    // Long shared prefixes: no fixed leading position tells these apart.
    constexpr std::array<std::string_view, 6> topics{"sensor.camera.front.image",
                                                     "sensor.camera.rear.image",
                                                     "sensor.camera.front.info",
                                                     "sensor.lidar.top",
                                                     "ctl.steer",
                                                     "ctl.brake"};
    constexpr auto plan = dt::make_dispatch_plan(topics, dt::plan_limits{1, 1, false});
    // Byte 7 ('c', 'l', 'e', 'k') splits them four ways, byte 0 only two ways.
    static_assert(plan.nodes[0].branch && plan.nodes[0].position == 7 && plan.nodes[0].count == 4);
    // The camera bucket chooses its own byte: 21 ('m', 'a', 'n' in "front.image", "rear.image", "front.info").
    static_assert(plan.nodes[1].branch && plan.nodes[1].position == 21 && plan.nodes[1].count == 3);
    static_assert(plan.node_count == 8); // two branches, six leaves of one topic each
    check_shape(plan, topics);
    for (const std::string_view topic : topics) CHECK(walk(plan, topics, topic) == linear_match(topics, topic));

    // The default plan: up to 8 topics, the fold; up to 16, the first 8 folded, then a tree
    // over the rest; beyond, the first topic alone, then the tree.
    static_assert(!dt::make_dispatch_plan(generated<42, 8, flavour::text>::topics).nodes[0].branch);
    constexpr auto sixteen = dt::make_dispatch_plan(generated<40, 16, flavour::text>::topics);
    static_assert(sixteen.leading == 8 && sixteen.nodes[0].branch);
    static_assert(no_leaf_holds_topic_0(sixteen));
    constexpr auto seventeen = dt::make_dispatch_plan(generated<41, 17, flavour::text>::topics);
    static_assert(seventeen.leading == 1 && seventeen.nodes[0].branch);
    static_assert(no_leaf_holds_topic_0(seventeen));
}
