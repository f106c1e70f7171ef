// What the dispatch tests share (dispatch_test.cpp, dispatch_generated_*_test.cpp): the linear
// reference, the constexpr topic-set generator, the frames, and the checks of a plan and of the
// generated code against the reference.
//
// The tests of the generated code are several translation units so that the build compiles them
// side by side: together they are the suite's heaviest source (about 2.5 minutes of g++ 12 at -O3
// in one file), and they stay at the build type's optimisation, the one users build the dispatch
// with.

#pragma once

#include <event_engine/event_engine.hpp>

#include <zmq.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dispatch_test {

namespace ee = event_engine;
namespace dt = event_engine::detail;

// ---------------------------------------------------------------------------
// The reference: the definition, one topic after the other.

// (Plain code in the loops: a Catch2 assertion per frame would dominate the run time.)
inline std::optional<std::size_t> linear_match(std::span<const std::string_view> topics, std::string_view frame)
{
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < topics.size(); ++i) {
        if (frame.starts_with(topics[i])) {
            if (found) FAIL("two topics match one frame: the generated set is not prefix-free");
            found = i;
        }
    }
    return found;
}

// ---------------------------------------------------------------------------
// Topic sets: a random trie, so siblings part at a byte of their own and every
// topic ends in a leaf (prefix-free by construction), with random runs after each
// fork (long shared prefixes), shuffled into subscription order.

struct splitmix64 {
    std::uint64_t state;
    constexpr std::uint64_t next() noexcept
    {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    constexpr std::size_t below(std::size_t n) noexcept { return static_cast<std::size_t>(next() % n); }
};

enum class flavour { binary, text, names };

inline constexpr std::size_t max_topic = 120;

template <std::size_t N>
struct topic_set {
    static constexpr std::size_t capacity = N * (max_topic + 1);
    std::array<char, capacity> chars{}; // topics, each followed by a '~' (a non-zero byte past every topic)
    std::array<std::size_t, N> offset{};
    std::array<std::size_t, N> length{};
    std::size_t count = 0;
    std::size_t used = 0;
};

template <std::size_t N>
class set_generator {
public:
    constexpr set_generator(std::uint64_t seed, flavour kind) noexcept : random_{seed}, kind_{kind} {}

    constexpr topic_set<N> make(std::size_t count) noexcept
    {
        if (kind_ == flavour::names) names(count);
        else grow(0, count);
        for (std::size_t i = set_.count; i > 1; --i) { // Fisher-Yates: mixed subscription order
            const std::size_t j = random_.below(i);
            std::swap(set_.offset[i - 1], set_.offset[j]);
            std::swap(set_.length[i - 1], set_.length[j]);
        }
        return set_;
    }

private:
    constexpr unsigned char any_byte(bool first) noexcept
    {
        if (kind_ == flavour::binary) {
            if (random_.below(6) == 0) return 0;                                 // zero bytes, often
            return static_cast<unsigned char>(random_.below(first ? 255 : 256)); // never 0xFF first
        }
        constexpr std::string_view letters = "abcdefghijklmnopqrstuvwxyz0123456789./_-";
        return static_cast<unsigned char>(letters[random_.below(letters.size())]);
    }

    constexpr void push(unsigned char byte) noexcept { prefix_[depth_++] = byte; }

    constexpr void emit() noexcept
    {
        set_.offset[set_.count] = set_.used;
        set_.length[set_.count] = depth_;
        for (std::size_t i = 0; i < depth_; ++i) set_.chars[set_.used++] = static_cast<char>(prefix_[i]);
        set_.chars[set_.used++] = '~';
        ++set_.count;
    }

    // `count` topics below the current prefix.
    constexpr void grow(std::size_t forks, std::size_t count) noexcept
    {
        const std::size_t depth = depth_;
        if (count == 1) {
            const std::size_t tail = random_.below(depth_ == 0 ? 8 : 10) + (depth_ == 0 ? 1 : 0);
            for (std::size_t i = 0; i < tail && depth_ < max_topic; ++i) push(any_byte(depth_ == 0));
            emit();
            depth_ = depth;
            return;
        }
        // Fork into `ways` distinct next bytes; deep prefixes fork wide, to stay short.
        const std::size_t alphabet = kind_ == flavour::binary ? (depth_ == 0 ? 255 : 256) : 40;
        std::size_t widest = count < alphabet ? count : alphabet;
        if (depth_ < 60 && random_.below(3) != 0) widest = widest < 4 ? widest : 4;
        const std::size_t ways = 2 + random_.below(widest - 1);
        std::array<unsigned char, 256> bytes{};
        std::array<bool, 256> taken{};
        for (std::size_t w = 0; w < ways; ++w) {
            unsigned char b = any_byte(depth_ == 0);
            while (taken[b]) b = any_byte(depth_ == 0);
            taken[b] = true;
            bytes[w] = b;
        }
        // Split count into `ways` non-empty parts.
        std::array<std::size_t, 256> parts{};
        for (std::size_t w = 0; w < ways; ++w) parts[w] = 1;
        for (std::size_t extra = count - ways; extra > 0; --extra) ++parts[random_.below(ways)];
        for (std::size_t w = 0; w < ways; ++w) {
            push(bytes[w]);
            // A run shared by this whole branch: long ones make long common prefixes.
            const std::size_t run = depth_ < 40 ? random_.below(random_.below(4) == 0 ? 14 : 4) : 0;
            for (std::size_t i = 0; i < run; ++i) push(any_byte(false));
            grow(forks + 1, parts[w]);
            depth_ = depth;
        }
    }

    // Names as applications write them: "fleet/vehicle/017/status", "sensor/temperature/room042", ...
    constexpr void names(std::size_t count) noexcept
    {
        constexpr std::array<std::string_view, 8> heads{"sensor/temperature/room", "sensor/temperature/rack",
                                                        "sensor/humidity/room",    "fleet/vehicle/",
                                                        "fleet/vehicles/",         "plant/line",
                                                        "robot.arm.joint",         "s"};
        constexpr std::array<std::string_view, 4> tails{"", "/status", "/position", "/health.v2"};
        const std::size_t start = random_.below(1000);
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t head = (start + i) % heads.size();
            const std::size_t id = (start + i) / heads.size();
            for (const char c : heads[head]) push(static_cast<unsigned char>(c));
            for (std::size_t digit = 1000; digit > 0; digit /= 10)
                push(static_cast<unsigned char>('0' + (id / digit) % 10));
            // The same tail for every id of a head: ids have four digits, so no topic prefixes another.
            for (const char c : tails[head % tails.size()]) push(static_cast<unsigned char>(c));
            emit();
            depth_ = 0;
        }
    }

    splitmix64 random_;
    flavour kind_;
    topic_set<N> set_{};
    std::array<unsigned char, max_topic + 1> prefix_{};
    std::size_t depth_ = 0;
};

template <std::size_t N>
constexpr std::array<std::string_view, N> views_of(const topic_set<N>& set) noexcept
{
    std::array<std::string_view, N> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = std::string_view{set.chars.data() + set.offset[i], set.length[i]};
    return out;
}

/// A compile-time topic set: what the generated code is instantiated for.
template <std::uint64_t Seed, std::size_t N, flavour Kind>
struct generated {
    static constexpr topic_set<N> set = set_generator<N>{Seed, Kind}.make(N);
    static constexpr std::array<std::string_view, N> topics = views_of(set);
};

// ---------------------------------------------------------------------------
// Frames: each its own allocation of exactly its size.

class frame_list {
public:
    void add(std::string_view bytes)
    {
        auto block = std::make_unique<char[]>(bytes.size());
        if (!bytes.empty()) std::memcpy(block.get(), bytes.data(), bytes.size());
        sizes_.push_back(bytes.size());
        blocks_.push_back(std::move(block));
    }
    [[nodiscard]] std::size_t size() const { return blocks_.size(); }
    [[nodiscard]] std::string_view operator[](std::size_t i) const { return {blocks_[i].get(), sizes_[i]}; }

private:
    std::vector<std::unique_ptr<char[]>> blocks_;
    std::vector<std::size_t> sizes_;
};

/// Every topic; every prefix of every topic (its first n bytes, n = 0 ... size - 1);
/// each topic with extra bytes; each topic with one byte changed, at every position;
/// a prefix continued with random bytes; random frames; the empty frame.
inline frame_list frames_for(std::span<const std::string_view> topics, std::uint64_t seed)
{
    std::mt19937_64 random{seed};
    auto any_byte = [&] { return static_cast<char>(random() % 4 == 0 ? 0 : random() % 256); };
    frame_list frames;
    frames.add({});
    std::string frame;
    for (const std::string_view topic : topics) {
        frames.add(topic);
        for (std::size_t n = 0; n < topic.size(); ++n) frames.add(topic.substr(0, n));
        for (std::size_t extra : {1, 3, 8, 13}) {
            frame.assign(topic);
            for (std::size_t i = 0; i < extra; ++i) frame.push_back(any_byte());
            frames.add(frame);
        }
        for (std::size_t at = 0; at < topic.size(); ++at) {
            frame.assign(topic);
            frame.push_back(any_byte());
            frame[at] = static_cast<char>(frame[at] ^ static_cast<char>(1 + random() % 255));
            frames.add(frame);
        }
        frame.assign(topic.substr(0, random() % (topic.size() + 1)));
        for (std::size_t i = random() % 12; i > 0; --i) frame.push_back(any_byte());
        frames.add(frame);
    }
    for (int i = 0; i < 64; ++i) {
        frame.clear();
        for (std::size_t n = random() % 48; n > 0; --n) frame.push_back(any_byte());
        frames.add(frame);
    }
    return frames;
}

// ---------------------------------------------------------------------------
// The plan, checked for its shape and walked as the generated code walks it.

template <std::size_t K>
void check_shape(const dt::dispatch_plan<K>& plan, std::span<const std::string_view> topics)
{
    std::vector<int> seen(K, 0);
    for (std::size_t m = 0; m < K; ++m) ++seen[plan.members[m]];
    CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
    REQUIRE(plan.node_count <= 2 * K);
    std::size_t wrong = 0;
    // Every topic below a branch has the branch's byte and the edge's value there.
    auto check_node = [&](auto& self, std::size_t node,
                          std::vector<std::pair<std::size_t, unsigned char>>& path) -> void {
        const dt::plan_node& here = plan.nodes[node];
        if (!here.branch) {
            wrong += here.count > 0 ? 0 : 1;
            for (std::size_t m = here.first; m < here.first + here.count; ++m) {
                wrong += plan.members[m] < plan.leading ? 1 : 0; // tested before the tree, not in it
                const std::string_view topic = topics[plan.members[m]];
                for (const auto& [position, byte] : path)
                    wrong += position < topic.size() && static_cast<unsigned char>(topic[position]) == byte ? 0 : 1;
            }
            return;
        }
        wrong += here.count >= 2 ? 0 : 1;
        for (std::size_t e = here.first; e < here.first + here.count; ++e) {
            for (std::size_t f = here.first; f < e; ++f) wrong += plan.edges[f].byte != plan.edges[e].byte ? 0 : 1;
            path.emplace_back(here.position, plan.edges[e].byte);
            self(self, plan.edges[e].node, path);
            path.pop_back();
        }
    };
    std::vector<std::pair<std::size_t, unsigned char>> path;
    check_node(check_node, 0, path);
    CHECK(wrong == 0);
}

template <std::size_t K>
std::optional<std::size_t> walk(const dt::dispatch_plan<K>& plan, std::span<const std::string_view> topics,
                                std::string_view frame)
{
    for (std::size_t i = 0; i < plan.leading; ++i)
        if (frame.starts_with(topics[i])) return i;
    std::size_t node = 0;
    while (plan.nodes[node].branch) {
        const dt::plan_node& here = plan.nodes[node];
        if (frame.size() <= here.position) return std::nullopt;
        const auto byte = static_cast<unsigned char>(frame[here.position]);
        const auto* edge = std::find_if(&plan.edges[here.first], &plan.edges[here.first] + here.count,
                                        [&](const dt::plan_edge& e) { return e.byte == byte; });
        if (edge == &plan.edges[here.first] + here.count) return std::nullopt;
        node = edge->node;
    }
    const dt::plan_node& leaf = plan.nodes[node];
    for (std::size_t m = leaf.first; m < leaf.first + leaf.count; ++m)
        if (frame.starts_with(topics[plan.members[m]])) return plan.members[m];
    return std::nullopt;
}

inline constexpr std::array<dt::plan_limits, 5> all_limits{
    dt::default_plan_limits, dt::plan_limits{1, 1, false}, dt::plan_limits{~std::size_t{0}, 1, false},
    dt::plan_limits{2, 3, true}, dt::plan_limits{3, 1, true, 40}};

template <std::size_t K>
std::size_t check_plans_for(const std::array<std::string_view, K>& topics, std::uint64_t seed)
{
    const frame_list frames = frames_for(topics, seed);
    for (const dt::plan_limits limits : all_limits) {
        const auto plan = dt::make_dispatch_plan(topics, limits);
        check_shape(plan, topics);
        for (std::size_t f = 0; f < frames.size(); ++f) {
            const auto expected = linear_match(topics, frames[f]);
            const auto got = walk(plan, topics, frames[f]);
            if (got != expected) {
                FAIL_CHECK("plan (fold up to " << limits.fold_up_to << ", leaf up to " << limits.leaf_up_to
                                               << ") finds " << (got ? std::to_string(*got) : "none") << ", reference "
                                               << (expected ? std::to_string(*expected) : "none") << ", frame of "
                                               << frames[f].size() << " bytes, set of " << K << " topics, seed "
                                               << seed);
                return frames.size();
            }
        }
    }
    return frames.size();
}

// ---------------------------------------------------------------------------
// The generated code for a compile-time set, under every shape of plan.

// Both shapes of the generated code: find_topic's index, and match_topic's callback from
// the leaf (dispatch.hpp uses the first up to index_switch_up_to topics, the second beyond).
template <const auto& Topics, dt::plan_limits Limits>
std::optional<std::size_t> generated_match(std::string_view frame)
{
    std::optional<std::size_t> got;
    int calls = 0;
    const bool matched = dt::match_topic<Topics, Limits>(frame, [&](auto index) {
        ++calls;
        got = decltype(index)::value;
    });
    if (calls > 1 || matched != got.has_value())
        FAIL("match_topic called on_match " << calls << " times, returned " << matched);
    const std::size_t found = dt::find_topic<Topics, Limits>(frame);
    if (found != got.value_or(Topics.size())) {
        FAIL("find_topic returned " << found << ", match_topic " << (got ? std::to_string(*got) : "none") << " (of "
                                    << Topics.size() << " topics)");
    }
    return got;
}

template <class Set>
void check_generated(std::uint64_t seed)
{
    constexpr std::span<const std::string_view> topics{Set::topics};
    INFO("compile-time set of " << topics.size() << " topics, frame seed " << seed);
    const frame_list frames = frames_for(topics, seed);
    std::size_t mismatches = 0;
    for (std::size_t f = 0; f < frames.size(); ++f) {
        const auto expected = linear_match(topics, frames[f]);
        const std::array<std::optional<std::size_t>, 4> got{generated_match<Set::topics, all_limits[0]>(frames[f]),
                                                            generated_match<Set::topics, all_limits[1]>(frames[f]),
                                                            generated_match<Set::topics, all_limits[2]>(frames[f]),
                                                            generated_match<Set::topics, all_limits[3]>(frames[f])};
        for (const auto& g : got) mismatches += g == expected ? 0 : 1;
    }
    CHECK(mismatches == 0);
}

/// Checks each set with its own frame seed: FirstSeed, FirstSeed + 1, ...
template <std::uint64_t FirstSeed, class... Sets>
void check_all_generated()
{
    std::uint64_t seed = FirstSeed;
    (check_generated<Sets>(seed++), ...);
}

// ---------------------------------------------------------------------------
// Events over a generated set, through dispatch() itself.

template <const auto& Topics, std::size_t I>
struct generated_event {
    static constexpr std::string_view name = "generated";
    static constexpr std::string_view topic = Topics[I];
    static constexpr std::size_t index = I;
    using codec = ee::text_codec;
    std::string text;
};

template <const auto& Topics, std::size_t... Is>
void check_dispatch(std::index_sequence<Is...>)
{
    constexpr std::span<const std::string_view> topics{Topics};
    zmq::context_t context;
    dt::stop_flag stop;
    const std::vector<std::string_view> subscriptions(topics.begin(), topics.end());
    dt::plugin_runtime runtime{context, "dispatch-test", 0, subscriptions, dt::runtime_settings{}, stop};
    const frame_list frames = frames_for(topics, 99);
    std::size_t logged = 0; // the unknown-topic report's lines (it logs the first, then counts)
    ee::set_log_sink([&](ee::log_level, std::string_view line) {
        logged += line.find("whose topic it does not subscribe to") != std::string_view::npos ? 1 : 0;
    });
    std::uint64_t delivered = 0;
    std::uint64_t unknown = 0;
    std::size_t mismatches = 0;
    for (std::size_t f = 0; f < frames.size(); ++f) {
        const std::string_view bytes = frames[f];
        const auto expected = linear_match(topics, bytes);
        std::optional<std::size_t> got;
        std::string payload;
        dt::dispatch<generated_event<Topics, Is>...>(runtime, zmq::message_t{bytes.data(), bytes.size()},
                                                     [&](auto&& event) {
                                                         got = std::remove_cvref_t<decltype(event)>::index;
                                                         payload = event.text;
                                                     });
        if (got != expected) ++mismatches;
        if (got) {
            ++delivered;
            CHECK(payload == bytes.substr(topics[*got].size()));
        } else {
            ++unknown;
        }
    }
    const auto report = runtime.final_report();
    ee::set_log_sink({});
    CHECK(mismatches == 0);
    CHECK(logged >= 1);
    CHECK(report.events_received == delivered);
    CHECK(report.decode_failures == unknown); // each frame of no subscribed topic, reported
}

} // namespace dispatch_test
