#pragma once
// Code generated from a dispatch_plan (detail/dispatch/dispatch_plan.hpp): finds which of
// a compile-time set of topics a frame starts with. find() returns its index: that
// code depends on the topics alone, and g++ and clang++ at -O2 merge the caller's
// switch on the index into the tree (jump threading: each leaf returns a constant).
// match() calls back from the leaf that found it instead, for trees too large for
// g++ to merge (detail/dispatch/dispatch.hpp). A branch is a bounds check and a chain of byte
// compares on one variable, which g++ and clang++ both turn into a jump table; a leaf
// compares whole topics as a few 8-, 4-, 2- or 1-byte words against constants
// (clang++: memcmp from 16 bytes, which it expands into vector compares), after a
// length check; with clang++ a topic tested before the tree is first tested on one
// telling byte. Nothing is read past the frame's end.

#include "event_engine/detail/dispatch/dispatch_plan.hpp"

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <utility>

namespace event_engine::detail {

template <std::size_t Bytes>
using word_t = std::conditional_t<
    Bytes == 8, std::uint64_t,
    std::conditional_t<Bytes == 4, std::uint32_t, std::conditional_t<Bytes == 2, std::uint16_t, std::uint8_t>>>;

/// Bytes [offset, offset + Bytes) of @p text as the integer a memcpy load of them gives.
template <std::size_t Bytes>
constexpr word_t<Bytes> constant_word(std::string_view text, std::size_t offset) noexcept
{
    std::array<unsigned char, Bytes> bytes{};
    for (std::size_t i = 0; i < Bytes; ++i) bytes[i] = static_cast<unsigned char>(text[offset + i]);
    return std::bit_cast<word_t<Bytes>>(bytes);
}

template <std::size_t Bytes>
[[gnu::always_inline]] inline word_t<Bytes> load_word(const char* data) noexcept
{
    word_t<Bytes> word;
    std::memcpy(&word, data, Bytes);
    return word;
}

// The word size used for a topic of Length bytes: 8 from 8 bytes on, then 4, 2, 1;
// the words cover it from both ends, overlapping where the length is not a multiple.
template <std::size_t Length>
inline constexpr std::size_t word_size_for = Length >= 8   ? 8
                                             : Length >= 4 ? 4
                                             : Length >= 2 ? 2
                                                           : 1;

// Where word W of a Length-byte topic starts: at W * size, the last one at
// Length - size (overlapping its neighbour where Length is not a multiple).
template <std::size_t Length>
constexpr std::size_t word_start(std::size_t w) noexcept
{
    constexpr std::size_t size = word_size_for<Length>;
    return w * size < Length - size ? w * size : Length - size;
}

// Whether words First + K... of @p data equal those of Topics[I] (an index past the
// last word means the last word again).
template <const auto& Topics, std::size_t I, std::size_t First, std::size_t... K>
[[gnu::always_inline]] inline bool words_equal(const char* data, std::index_sequence<K...>) noexcept
{
    constexpr std::size_t length = Topics[I].size();
    constexpr std::size_t size = word_size_for<length>;
    constexpr std::size_t last = (length + size - 1) / size - 1;
    return ((load_word<size>(data + word_start<length>(First + K < last ? First + K : last)) ^
             std::integral_constant<word_t<size>,
                                    constant_word<size>(
                                        Topics[I], word_start<length>(First + K < last ? First + K : last))>::value) |
            ...) == 0;
}

template <const auto& Topics, std::size_t I, std::size_t PerTest, std::size_t... T>
[[gnu::always_inline]] inline bool all_words_equal(const char* data, std::index_sequence<T...>) noexcept
{
    return (words_equal<Topics, I, T * PerTest>(data, std::make_index_sequence<PerTest>{}) && ...);
}

/// Whether @p data (at least Topics[I].size() bytes long) starts with Topics[I],
/// tested PerTest words at a time, 0 meaning all at once (a branch after each test:
/// an early exit).
template <const auto& Topics, std::size_t I, std::size_t PerTest>
[[gnu::always_inline]] inline bool has_prefix(const char* data) noexcept
{
    constexpr std::size_t length = Topics[I].size();
    if constexpr (length == 0) {
        return true;
#if defined(__clang__)
    } else if constexpr (length >= 16) {
        // clang++ expands this into 16-byte vector compares, one test: fewer instructions
        // than 8-byte words. (g++ 12 expands it into words too, but warns
        // -Wstringop-overread, wrongly, for topics kept inside a larger constant object.)
        return std::memcmp(data, Topics[I].data(), length) == 0;
#endif
    } else {
        constexpr std::size_t words = (length + word_size_for<length> - 1) / word_size_for<length>;
        constexpr std::size_t per_test = PerTest == 0 || PerTest > words ? words : PerTest;
        return all_words_equal<Topics, I, per_test>(data,
                                                    std::make_index_sequence<(words + per_test - 1) / per_test>{});
    }
}

/// The plan for Topics, and the code that walks it.
template <const auto& Topics, plan_limits Limits = default_plan_limits>
struct topic_matcher {
    static constexpr auto plan = make_dispatch_plan(Topics, Limits);

    /// The index of the topic @p frame starts with, or `none` (Topics.size()).
    [[gnu::always_inline]] static std::size_t find(std::string_view frame)
    {
        if constexpr (plan.leading > 0) {
            const std::size_t found = leading_index(frame, std::make_index_sequence<plan.leading>{});
            if (found != none) return found;
        }
        return node_index<0>(frame);
    }

    static constexpr std::size_t none = Topics.size();

    /// Calls `on_match(std::integral_constant<std::size_t, I>{})` if @p frame starts
    /// with Topics[I]; returns whether one matched.
    template <class OnMatch>
    [[gnu::always_inline]] static bool match(std::string_view frame, OnMatch& on_match)
    {
        if constexpr (plan.leading > 0) {
            if (leading(frame, on_match, std::make_index_sequence<plan.leading>{})) return true;
        }
        return node<0>(frame, on_match);
    }

private:
    template <class OnMatch, std::size_t... I>
    [[gnu::always_inline]] static bool leading(std::string_view frame, OnMatch& on_match, std::index_sequence<I...>)
    {
        return (one<I, compare::leading>(frame, on_match) || ...);
    }

    // With clang++, a leading topic is first tested on one byte, the one that tells it
    // from the most other topics: a frame of another topic is rejected by one load and
    // compare before the topic's vector (16 bytes and more) or word compares: closer to
    // the hand-written chain on benchmark (a) with clang++ (docs/benchmarks-history.md
    // (a), "Leading topics tested on one byte first"). g++ measured slightly worse with
    // it and keeps the compare.
#if defined(__clang__)
    static constexpr bool leading_byte_first = true;
#else
    static constexpr bool leading_byte_first = false;
#endif

    // The position of that byte in Topics[I] (0 for an empty topic): evaluated once per topic.
    template <std::size_t I>
    static constexpr std::size_t telling_position = [] {
        const std::string_view topic = Topics[I];
        std::size_t best = 0;
        std::size_t best_count = 0;
        for (std::size_t q = 0; q < topic.size() && best_count + 1 < Topics.size(); ++q) {
            std::size_t count = 0; // topics a frame with topic's byte at q cannot have
            for (const std::string_view other : Topics) {
                if (other.size() > q && other[q] != topic[q]) ++count;
            }
            if (count > best_count) {
                best = q;
                best_count = count;
            }
        }
        return best;
    }();

    template <std::size_t Node, class OnMatch>
    [[gnu::always_inline]] static bool node(std::string_view frame, OnMatch& on_match)
    {
        constexpr plan_node here = plan.nodes[Node];
        if constexpr (here.branch) {
            // Every topic below is longer than the position: a shorter frame matches none.
            if (frame.size() <= here.position) return false;
            return edges<Node>(static_cast<unsigned char>(frame[here.position]), frame, on_match,
                               std::make_index_sequence<here.count>{});
        } else {
            return leaf<here.first>(frame, on_match, std::make_index_sequence<here.count>{});
        }
    }

    template <std::size_t Node, class OnMatch, std::size_t... E>
    [[gnu::always_inline]] static bool edges(unsigned char byte, std::string_view frame, OnMatch& on_match,
                                             std::index_sequence<E...>)
    {
        constexpr std::size_t first = plan.nodes[Node].first;
        bool matched = false;
        // Stops at the edge of the frame's byte, whatever its subtree finds.
        static_cast<void>(
            ((byte == plan.edges[first + E].byte ? (matched = node<plan.edges[first + E].node>(frame, on_match), true)
                                                 : false) ||
             ...));
        return matched;
    }

    // A candidate in a chain is usually the wrong one: testing 16 bytes at a time (as
    // the compilers expand a memcmp) rejects it soonest. The last candidate left
    // below a branch is usually the right one: one test of all its words. A topic tested
    // before the tree is chained, after its telling byte with clang++.
    enum class compare { chained, alone, leading };

    template <std::size_t First, class OnMatch, std::size_t... M>
    [[gnu::always_inline]] static bool leaf(std::string_view frame, OnMatch& on_match, std::index_sequence<M...>)
    {
        constexpr compare how = sizeof...(M) == 1 ? compare::alone : compare::chained;
        return (one<plan.members[First + M], how>(frame, on_match) || ...);
    }

    // Whether @p frame starts with Topics[I].
    template <std::size_t I, compare How>
    [[gnu::always_inline]] static bool is(std::string_view frame)
    {
        constexpr std::size_t per_test = How == compare::alone ? 0 : 2;
        if (frame.size() < Topics[I].size()) return false;
        if constexpr (How == compare::leading && leading_byte_first && !Topics[I].empty()) {
            // telling_position < the topic's length <= the frame's: in bounds.
            if (frame[telling_position<I>] != Topics[I][telling_position<I>]) return false;
        }
        return has_prefix<Topics, I, per_test>(frame.data());
    }

    template <std::size_t I, compare How, class OnMatch>
    [[gnu::always_inline]] static bool one(std::string_view frame, OnMatch& on_match)
    {
        if (!is<I, How>(frame)) return false;
        on_match(std::integral_constant<std::size_t, I>{});
        return true;
    }

    // find()'s walk: the same tree as match()'s, returning the index from the leaf.
    template <std::size_t... I>
    [[gnu::always_inline]] static std::size_t leading_index(std::string_view frame, std::index_sequence<I...>)
    {
        std::size_t found = none;
        static_cast<void>(((is<I, compare::leading>(frame) ? (found = I, true) : false) || ...));
        return found;
    }

    template <std::size_t Node>
    [[gnu::always_inline]] static std::size_t node_index(std::string_view frame)
    {
        constexpr plan_node here = plan.nodes[Node];
        if constexpr (here.branch) {
            if (frame.size() <= here.position) return none;
            return edges_index<Node>(static_cast<unsigned char>(frame[here.position]), frame,
                                     std::make_index_sequence<here.count>{});
        } else {
            return leaf_index<here.first>(frame, std::make_index_sequence<here.count>{});
        }
    }

    template <std::size_t Node, std::size_t... E>
    [[gnu::always_inline]] static std::size_t edges_index(unsigned char byte, std::string_view frame,
                                                          std::index_sequence<E...>)
    {
        constexpr std::size_t first = plan.nodes[Node].first;
        std::size_t found = none;
        static_cast<void>(
            ((byte == plan.edges[first + E].byte ? (found = node_index<plan.edges[first + E].node>(frame), true)
                                                 : false) ||
             ...));
        return found;
    }

    template <std::size_t First, std::size_t... M>
    [[gnu::always_inline]] static std::size_t leaf_index(std::string_view frame, std::index_sequence<M...>)
    {
        constexpr compare how = sizeof...(M) == 1 ? compare::alone : compare::chained;
        std::size_t found = none;
        static_cast<void>(
            ((is<plan.members[First + M], how>(frame) ? (found = plan.members[First + M], true) : false) || ...));
        return found;
    }
};

/// Whether @p frame starts with one of Topics (none if Topics is empty); calls
/// `on_match(std::integral_constant<std::size_t, I>{})` for the one it starts with.
template <const auto& Topics, plan_limits Limits = default_plan_limits, class OnMatch>
[[gnu::always_inline]] inline bool match_topic(std::string_view frame, OnMatch&& on_match)
{
    if constexpr (std::tuple_size_v<std::remove_cvref_t<decltype(Topics)>> == 0) {
        static_cast<void>(frame);
        static_cast<void>(on_match);
        return false;
    } else {
        return topic_matcher<Topics, Limits>::match(frame, on_match);
    }
}

/// The index of the topic in Topics that @p frame starts with, or Topics.size() if none.
template <const auto& Topics, plan_limits Limits = default_plan_limits>
[[gnu::always_inline]] inline std::size_t find_topic(std::string_view frame)
{
    if constexpr (std::tuple_size_v<std::remove_cvref_t<decltype(Topics)>> == 0) {
        static_cast<void>(frame);
        return 0;
    } else {
        return topic_matcher<Topics, Limits>::find(frame);
    }
}

} // namespace event_engine::detail
