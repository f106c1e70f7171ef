#pragma once
// The decision tree that finds a received frame's topic, planned at compile time
// from the subscribed topics (detail/dispatch/topic_match.hpp turns it into code).
//
// A frame matches topic T iff it starts with T; topics are prefix-free, so at
// most one matches. The tree:
//
//   branch  "if the frame is longer than p, switch on its byte p": p is chosen
//           per node, among the positions every topic of the node has (p < the
//           shortest one's length), as the one whose byte splits the node's
//           topics into the most buckets (then: the smallest largest bucket, then
//           the first position). A frame no longer than p matches none of them.
//           Such a p always exists for two or more prefix-free topics: another
//           topic differs from the shortest one before the shortest one ends.
//   leaf    "does the frame start with T1, else T2, ...": a fold of whole-topic
//           compares in subscription order (the hand-written chain).
//
// A fixed position (a perfect hash on the leading bytes) cannot work for real
// topic sets, which share long prefixes ("sensor.camera.front.", "sensor.camera.
// rear."): here each bucket chooses its own position, so "sensor.camera." costs
// one branch at byte 14 after one at byte 0 and one at byte 7.
//
// Everything is constexpr and callable at run time too (the tests build plans
// for thousands of random topic sets and check them against a linear scan).

#include <array>
#include <cstddef>
#include <string_view>

namespace event_engine::detail {

/// When to stop splitting: a set of at most `fold_up_to` topics is one leaf (the
/// fold), and so is a bucket of at most `leaf_up_to` topics below a branch.
struct plan_limits {
    std::size_t fold_up_to;
    std::size_t leaf_up_to;
    /// Beyond the fold: test leading subscribed topics on their own before the tree
    /// (one compare for the hot type of a plugin that lists it first; with clang++,
    /// a one-byte test first, detail/dispatch/topic_match.hpp).
    bool first_alone;
    /// With first_alone, up to this many topics the first `fold_up_to` are tested
    /// before the tree (a fold, then a tree over the rest); beyond, only the first.
    std::size_t fold_first_up_to = 0;
};

/// Chosen on benchmark (a) (docs/benchmarks.md; the runs behind it in
/// docs/benchmarks-history.md (a)): with a uniform mix the tree costs a mispredicted jump
/// per level, the fold one mispredicted branch and a compare per candidate, so the fold
/// is as fast up to about 16 topics and the tree faster beyond. From 9 to 16 topics, half
/// and half: the first 8 folded (as fast as the chain when the hot types come first or
/// the mix is uniform), the rest in a tree (a hot type listed late no longer waits behind
/// 15 failing compares). Below a branch, buckets are split down to a single topic.
inline constexpr plan_limits default_plan_limits{8, 1, true, 16};

struct plan_node {
    bool branch = false;
    std::size_t position = 0; // branch: the byte switched on
    std::size_t first = 0;    // branch: first of its edges; leaf: first of its members
    std::size_t count = 0;    // branch: edges; leaf: members
};

struct plan_edge {
    unsigned char byte = 0;
    std::size_t node = 0;
};

/// The tree for K topics, nodes in pre-order (node 0 is the root). Each leaf owns
/// a run of `members` (topic indices, in subscription order); each branch a run of
/// `edges`, in the order their bytes first appear in subscription order. At most
/// K leaves and K - 1 branches, since every branch has two or more children.
template <std::size_t K>
struct dispatch_plan {
    std::array<plan_node, 2 * K> nodes{};
    std::array<plan_edge, 2 * K> edges{};
    std::array<std::size_t, K> members{};
    std::size_t node_count = 0;
    std::size_t edge_count = 0;
    std::size_t leading = 0; // topics [0, leading) are tested before the tree, which holds the others
};

// clang-format off
template <std::size_t K>
    requires(K > 0)
class plan_builder {
    // clang-format on
public:
    constexpr plan_builder(const std::array<std::string_view, K>& topics, plan_limits limits) noexcept
        : topics_{topics}, limits_{limits}
    {}

    constexpr dispatch_plan<K> build() noexcept
    {
        for (std::size_t i = 0; i < K; ++i) plan_.members[i] = i;
        plan_.node_count = 1;
        // Leading topics leave at least one for the tree (and g++ -O3 sees members[leading] exists).
        const std::size_t leading = !limits_.first_alone || K <= limits_.fold_up_to ? 0
                                    : K <= limits_.fold_first_up_to                 ? limits_.fold_up_to
                                                                                    : 1;
        plan_.leading = K > leading ? leading : 0;
        if (plan_.leading > 0) plan_node_at(0, plan_.leading, K - plan_.leading, 0);
        else plan_node_at(0, 0, K, limits_.fold_up_to);
        return plan_;
    }

private:
    // Byte @p position of the topic at members[@p member], through text_ (filled per node:
    // plain pointers cost clang's constant evaluator fewer steps than nested operator[]).
    [[nodiscard]] constexpr unsigned char byte_of(std::size_t member, std::size_t position) const noexcept
    {
        return static_cast<unsigned char>(text_[member][position]);
    }

    // Plans node @p node for members [first, first + count). The work is kept small
    // (clang++ allows 2^20 evaluation steps for the whole plan): positions every topic
    // of the node shares are skipped, and the search stops at a position that splits
    // the node into single topics.
    constexpr void plan_node_at(std::size_t node, std::size_t first, std::size_t count, std::size_t leaf_up_to) noexcept
    {
        const std::size_t end = first + count;
        std::size_t shortest = topics_[plan_.members[first]].size();
        for (std::size_t m = first; m < end; ++m) {
            const std::string_view topic = topics_[plan_.members[m]];
            text_[m] = topic.data();
            shortest = topic.size() < shortest ? topic.size() : shortest;
        }
        if (count <= leaf_up_to || count < 2 || shortest == 0) { // (an empty topic is alone: prefix-free)
            plan_.nodes[node] = {false, 0, first, count};
            return;
        }
        std::size_t common = 0; // leading positions where all agree: one bucket, no use
        for (bool same = true; same && common < shortest; common += same ? 1 : 0)
            for (std::size_t m = first + 1; same && m < end; ++m) same = byte_of(m, common) == byte_of(first, common);
        std::size_t best_position = common;
        std::size_t best_buckets = 0;
        std::size_t best_largest = count + 1;
        for (std::size_t p = common; p < shortest && best_buckets < count; ++p) {
            std::size_t buckets = 0;
            std::size_t largest = 0;
            for (std::size_t m = first; m < end; ++m) {
                const std::size_t seen = ++counts_[byte_of(m, p)];
                buckets += seen == 1 ? 1 : 0;
                largest = seen > largest ? seen : largest;
            }
            for (std::size_t m = first; m < end; ++m) counts_[byte_of(m, p)] = 0;
            if (buckets > best_buckets || (buckets == best_buckets && largest < best_largest)) {
                best_position = p;
                best_buckets = buckets;
                best_largest = largest;
            }
        }
        // Stable partition by the chosen byte, buckets in order of first appearance.
        const std::size_t first_edge = plan_.edge_count;
        plan_.edge_count += best_buckets;
        plan_.nodes[node] = {true, best_position, first_edge, best_buckets};
        std::size_t filled = 0;
        for (std::size_t m = first; m < end; ++m) {
            const unsigned char b = byte_of(m, best_position);
            if (counts_[b]++ == 0) plan_.edges[first_edge + filled++].byte = b;
        }
        // A counting sort: counts_[b] becomes the next free slot of b's bucket.
        std::size_t start = first;
        for (std::size_t e = first_edge; e < first_edge + best_buckets; ++e) {
            const unsigned char b = plan_.edges[e].byte;
            edge_start_[e] = start;
            start += counts_[b];
            counts_[b] = edge_start_[e];
        }
        for (std::size_t m = first; m < end; ++m) scratch_[counts_[byte_of(m, best_position)]++] = plan_.members[m];
        for (std::size_t e = first_edge; e < first_edge + best_buckets; ++e) counts_[plan_.edges[e].byte] = 0;
        for (std::size_t m = first; m < end; ++m) plan_.members[m] = scratch_[m];
        for (std::size_t e = first_edge; e < first_edge + best_buckets; ++e) {
            const std::size_t size = (e + 1 < first_edge + best_buckets ? edge_start_[e + 1] : end) - edge_start_[e];
            plan_.edges[e].node = plan_.node_count++;
            plan_node_at(plan_.edges[e].node, edge_start_[e], size, limits_.leaf_up_to);
        }
    }

    const std::array<std::string_view, K>& topics_;
    plan_limits limits_;
    dispatch_plan<K> plan_{};
    std::array<std::size_t, K> scratch_{};
    std::array<const char*, K> text_{};           // per member position: its topic's bytes
    std::array<std::size_t, 2 * K> edge_start_{}; // per edge: where its bucket's members start
    std::array<std::size_t, 256> counts_{};       // per byte value; zero between uses
};

/// The decision tree for @p topics (unique, prefix-free, in subscription order).
// clang-format off
template <std::size_t K>
    requires(K > 0)
constexpr dispatch_plan<K> make_dispatch_plan(const std::array<std::string_view, K>& topics,
                                              plan_limits limits = default_plan_limits) noexcept
// clang-format on
{
    return plan_builder<K>{topics, limits}.build();
}

} // namespace event_engine::detail
