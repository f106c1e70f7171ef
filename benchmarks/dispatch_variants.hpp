#pragma once
// Benchmark (a)'s dispatchers and their fixture, shared by ee_bench_dispatch (the paired-ratio
// report, dispatch_bench.cpp) and ee_gbench_dispatch (the same dispatchers on Google Benchmark,
// gbench_dispatch.cpp). The variants are described at the top of dispatch_bench.cpp.

#include "bench_common.hpp"
#include "dispatch_handwritten.hpp"
#include "dispatch_topics.hpp"

#include <event_engine/event_engine.hpp>

#include <zmq.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bench::dispatch {

namespace ee = event_engine;

// ---------------------------------------------------------------------------
// (1) The engine's dispatch, as run_handler_loop uses it.
template <class Seq>
struct engine_dispatch;
template <std::size_t... Is>
struct engine_dispatch<std::index_sequence<Is...>> {
    ee::detail::plugin_runtime* runtime = nullptr;
    sink* handlers = nullptr;

    // always_inline: run_handler_loop() has the dispatch inlined into its loop (every step of
    // it is always_inline); this wrapper must not add a call per event that it does not have.
    [[gnu::always_inline]] void operator()(const zmq::message_t& frame)
    {
        sink& plugin = *handlers;
        ee::detail::dispatch<ev<Is>...>(*runtime, frame, [&plugin](const auto& event) { plugin.on(event); });
    }
};

// (1f), (1t) The same with the plan's shape forced.
inline constexpr ee::detail::plan_limits fold_only{~std::size_t{0}, 1, false};
inline constexpr ee::detail::plan_limits tree_only{1, 1, false};

template <ee::detail::plan_limits Limits, class Seq>
struct engine_planned;
template <ee::detail::plan_limits Limits, std::size_t... Is>
struct engine_planned<Limits, std::index_sequence<Is...>> {
    ee::detail::plugin_runtime* runtime = nullptr;
    sink* handlers = nullptr;

    [[gnu::always_inline]] void operator()(const zmq::message_t& frame) // as engine_dispatch's
    {
        sink& plugin = *handlers;
        ee::detail::dispatch_planned<Limits, ev<Is>...>(*runtime, frame,
                                                        [&plugin](const auto& event) { plugin.on(event); });
    }
};

// ---------------------------------------------------------------------------
// (3) Run-time registries: handlers registered at run time as std::function,
// each wrapping the typed decode + handler call, as a framework without
// compile-time knowledge of the event set would.
using erased_handler = std::function<void(std::string_view payload)>;

struct counters {
    std::uint64_t delivered = 0;
    std::uint64_t failures = 0;
    std::uint64_t unknown = 0;
};

template <std::size_t I>
erased_handler make_erased_handler(sink& handlers, counters& count)
{
    return [&handlers, &count](std::string_view payload) {
        if (payload.size() != sizeof(std::uint64_t)) {
            ++count.failures;
            return;
        }
        ev<I> event;
        std::memcpy(&event.value, payload.data(), sizeof event.value);
        ++count.delivered;
        handlers.on(event);
    };
}

struct vector_registry {
    struct entry {
        std::string prefix;
        erased_handler handler;
    };
    std::vector<entry> entries;
    counters count;

    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        for (const auto& e : entries) {
            if (bytes.starts_with(e.prefix)) {
                e.handler(bytes.substr(e.prefix.size()));
                return;
            }
        }
        ++count.unknown;
    }
};

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

// A frame is topic + payload with no separator, so a map keyed by topic is probed
// with every distinct registered topic length, shortest first (heterogeneous
// lookup: no allocation per probe).
struct map_registry {
    std::unordered_map<std::string, erased_handler, string_hash, std::equal_to<>> handlers;
    std::vector<std::size_t> lengths;
    counters count;

    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        for (const std::size_t length : lengths) {
            if (length > bytes.size()) break;
            const auto found = handlers.find(bytes.substr(0, length));
            if (found != handlers.end()) {
                found->second(bytes.substr(length));
                return;
            }
        }
        ++count.unknown;
    }
};

// ---------------------------------------------------------------------------
// (4) Virtual interface registry, shaped like the Rust original: each
// subscription is an object with a virtual filter() and a virtual handle().
struct handler_base {
    virtual ~handler_base() = default;
    [[nodiscard]] virtual std::string_view filter() const = 0;
    virtual void handle(std::string_view payload) = 0;
};

template <std::size_t I>
struct typed_handler final : handler_base {
    typed_handler(sink& h, counters& c) : handlers{&h}, count{&c} {}
    [[nodiscard]] std::string_view filter() const override { return topic_table[I]; }
    void handle(std::string_view payload) override
    {
        if (payload.size() != sizeof(std::uint64_t)) {
            ++count->failures;
            return;
        }
        ev<I> event;
        std::memcpy(&event.value, payload.data(), sizeof event.value);
        ++count->delivered;
        handlers->on(event);
    }
    sink* handlers;
    counters* count;
};

struct virtual_registry {
    std::vector<std::unique_ptr<handler_base>> handlers;
    counters count;

    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        for (const auto& handler : handlers) {
            const std::string_view filter = handler->filter();
            if (bytes.size() >= filter.size() && std::memcmp(bytes.data(), filter.data(), filter.size()) == 0) {
                handler->handle(bytes.substr(filter.size()));
                return;
            }
        }
        ++count.unknown;
    }
};

// (4b) The most favourable virtual form: each handler tests its own compile-time
// topic inside one virtual call.
struct fused_handler_base {
    virtual ~fused_handler_base() = default;
    virtual bool try_handle(std::string_view frame) = 0;
};

template <std::size_t I>
struct fused_handler final : fused_handler_base {
    fused_handler(sink& h, counters& c) : handlers{&h}, count{&c} {}
    bool try_handle(std::string_view frame) override
    {
        if (!frame.starts_with(topic_table[I])) return false;
        const std::string_view payload = frame.substr(topic_table[I].size());
        if (payload.size() != sizeof(std::uint64_t)) {
            ++count->failures;
            return true;
        }
        ev<I> event;
        std::memcpy(&event.value, payload.data(), sizeof event.value);
        ++count->delivered;
        handlers->on(event);
        return true;
    }
    sink* handlers;
    counters* count;
};

struct fused_registry {
    std::vector<std::unique_ptr<fused_handler_base>> handlers;
    counters count;

    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        for (const auto& handler : handlers) {
            if (handler->try_handle(bytes)) return;
        }
        ++count.unknown;
    }
};

// ---------------------------------------------------------------------------
// The measured loop, one instantiation per dispatcher, never inlined into the harness.
template <class Dispatcher>
[[gnu::noinline]] void run_frames(Dispatcher& dispatcher, const std::vector<zmq::message_t>& frames, int reps)
{
    for (int r = 0; r < reps; ++r) {
        for (const auto& frame : frames) dispatcher(frame);
    }
}

enum class variant { engine, chain, chain_sv, vector_fn, map_fn, virtual_fn, virtual_fused, engine_fold, engine_tree };
constexpr std::array<variant, 9> all_variants{variant::engine,        variant::chain,       variant::chain_sv,
                                              variant::vector_fn,     variant::map_fn,      variant::virtual_fn,
                                              variant::virtual_fused, variant::engine_fold, variant::engine_tree};

constexpr std::string_view variant_name(variant v)
{
    switch (v) {
    case variant::engine: return "engine";
    case variant::chain: return "chain";
    case variant::chain_sv: return "chain_sv";
    case variant::vector_fn: return "vector_fn";
    case variant::map_fn: return "map_fn";
    case variant::virtual_fn: return "virtual";
    case variant::virtual_fused: return "virtual_fused";
    case variant::engine_fold: return "engine_fold";
    case variant::engine_tree: return "engine_tree";
    }
    return "?";
}

constexpr std::string_view variant_label(variant v)
{
    switch (v) {
    case variant::engine: return "(1) event_engine detail::dispatch";
    case variant::chain: return "(2) hand-written if/else chain, size check + memcmp";
    case variant::chain_sv: return "(2b) hand-written if/else chain, string_view::starts_with";
    case variant::vector_fn: return "(3a) vector<{prefix, std::function}> scan";
    case variant::map_fn: return "(3b) unordered_map<string, std::function>";
    case variant::virtual_fn: return "(4) vector<unique_ptr<handler_base>>: virtual filter() + handle()";
    case variant::virtual_fused: return "(4b) vector<unique_ptr<handler_base>>: one virtual try_handle()";
    case variant::engine_fold: return "(1f) event_engine dispatch, plan forced to the fold of compares";
    case variant::engine_tree: return "(1t) event_engine dispatch, plan forced to the decision tree";
    }
    return "?";
}

struct batch {
    std::vector<zmq::message_t> frames;
    std::uint64_t expected_sum = 0; // per pass over the frames
};

enum class mix { uniform, skewed_first, skewed_last };

constexpr std::string_view mix_name(mix m)
{
    switch (m) {
    case mix::uniform: return "uniform";
    case mix::skewed_first: return "skewed_first";
    case mix::skewed_last: return "skewed_last";
    }
    return "?";
}

// Skewed: 90% of the frames are one type (the first or the last subscribed, the
// best and worst place in a linear chain), the rest uniform over the others.
batch make_batch(std::size_t k, mix m, std::size_t size, std::uint64_t seed)
{
    std::mt19937_64 random{seed};
    std::uniform_int_distribution<std::size_t> any_type{0, k - 1};
    std::uniform_real_distribution<double> coin{0.0, 1.0};
    const std::size_t hot = m == mix::skewed_last ? k - 1 : 0;
    batch out;
    out.frames.reserve(size);
    for (std::size_t i = 0; i < size; ++i) {
        std::size_t type = any_type(random);
        if (m != mix::uniform && k > 1) {
            if (coin(random) < 0.9) {
                type = hot;
            } else {
                do type = any_type(random);
                while (type == hot);
            }
        }
        const std::uint64_t value = random() >> 16;
        const std::string_view topic = topic_table[type];
        zmq::message_t frame{topic.size() + sizeof value};
        std::memcpy(frame.data(), topic.data(), topic.size());
        std::memcpy(static_cast<char*>(frame.data()) + topic.size(), &value, sizeof value);
        out.frames.push_back(std::move(frame));
        out.expected_sum += value + type;
    }
    return out;
}

// Everything one k needs: the dispatchers of the five variants, wired to one sink each.
template <std::size_t K>
class fixture {
public:
    using seq = std::make_index_sequence<K>;

    explicit fixture(zmq::context_t& context)
    {
        static constexpr auto topics = [] {
            std::array<std::string_view, K> out{};
            for (std::size_t i = 0; i < K; ++i) out[i] = topic_table[i];
            return out;
        }();
        for (auto& runtime : runtimes_) {
            runtime = std::make_unique<ee::detail::plugin_runtime>(context, "dispatch-bench", 0, std::span{topics},
                                                                   ee::detail::runtime_settings{}, stop_);
        }
        engine_.runtime = runtimes_[0].get();
        engine_.handlers = &sinks_[0];
        fold_.runtime = runtimes_[1].get();
        fold_.handlers = &sinks_[static_cast<std::size_t>(variant::engine_fold)];
        tree_.runtime = runtimes_[2].get();
        tree_.handlers = &sinks_[static_cast<std::size_t>(variant::engine_tree)];
        chain_.handlers = &sinks_[static_cast<std::size_t>(variant::chain)];
        chain_sv_.handlers = &sinks_[static_cast<std::size_t>(variant::chain_sv)];
        register_all(seq{});
        std::vector<std::size_t> lengths;
        for (std::size_t i = 0; i < K; ++i) lengths.push_back(topic_table[i].size());
        std::sort(lengths.begin(), lengths.end());
        lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
        map_.lengths = lengths;
    }

    /// Runs @p v over the batch @p reps times; returns the handlers' sum for checking.
    std::uint64_t run(variant v, const batch& b, int reps)
    {
        sink& s = sinks_[static_cast<std::size_t>(v)];
        s.sum = 0;
        switch (v) {
        case variant::engine: run_frames(engine_, b.frames, reps); break;
        case variant::chain: run_frames(chain_, b.frames, reps); break;
        case variant::chain_sv: run_frames(chain_sv_, b.frames, reps); break;
        case variant::vector_fn: run_frames(vector_, b.frames, reps); break;
        case variant::map_fn: run_frames(map_, b.frames, reps); break;
        case variant::virtual_fn: run_frames(virtual_, b.frames, reps); break;
        case variant::virtual_fused: run_frames(fused_, b.frames, reps); break;
        case variant::engine_fold: run_frames(fold_, b.frames, reps); break;
        case variant::engine_tree: run_frames(tree_, b.frames, reps); break;
        }
        do_not_optimize(s.sum);
        given_[static_cast<std::size_t>(v)] += static_cast<std::uint64_t>(reps) * b.frames.size();
        return s.sum;
    }

    /// Events given to variant @p v so far.
    [[nodiscard]] std::uint64_t given(variant v) const { return given_[static_cast<std::size_t>(v)]; }

    /// Events delivered to handlers so far, per variant (the engine's from its run report).
    std::uint64_t delivered(variant v)
    {
        switch (v) {
        case variant::engine: return runtimes_[0]->final_report().events_received;
        case variant::engine_fold: return runtimes_[1]->final_report().events_received;
        case variant::engine_tree: return runtimes_[2]->final_report().events_received;
        case variant::chain: return chain_.delivered;
        case variant::chain_sv: return chain_sv_.delivered;
        case variant::vector_fn: return vector_.count.delivered;
        case variant::map_fn: return map_.count.delivered;
        case variant::virtual_fn: return virtual_.count.delivered;
        case variant::virtual_fused: return fused_.count.delivered;
        }
        return 0;
    }

private:
    template <std::size_t... Is>
    void register_all(std::index_sequence<Is...>)
    {
        (vector_.entries.push_back(
             {std::string{topic_table[Is]},
              make_erased_handler<Is>(sinks_[static_cast<std::size_t>(variant::vector_fn)], vector_.count)}),
         ...);
        (map_.handlers.emplace(std::string{topic_table[Is]},
                               make_erased_handler<Is>(sinks_[static_cast<std::size_t>(variant::map_fn)], map_.count)),
         ...);
        (virtual_.handlers.push_back(std::make_unique<typed_handler<Is>>(
             sinks_[static_cast<std::size_t>(variant::virtual_fn)], virtual_.count)),
         ...);
        (fused_.handlers.push_back(std::make_unique<fused_handler<Is>>(
             sinks_[static_cast<std::size_t>(variant::virtual_fused)], fused_.count)),
         ...);
    }

    ee::detail::stop_flag stop_;
    std::array<std::unique_ptr<ee::detail::plugin_runtime>, 3> runtimes_; // engine, engine_fold, engine_tree
    std::array<sink, all_variants.size()> sinks_{};
    std::array<std::uint64_t, all_variants.size()> given_{};
    engine_dispatch<seq> engine_;
    engine_planned<fold_only, seq> fold_;
    engine_planned<tree_only, seq> tree_;
    handwritten_chain<K> chain_;
    handwritten_sv_chain<K> chain_sv_;
    vector_registry vector_;
    map_registry map_;
    virtual_registry virtual_;
    fused_registry fused_;
};

} // namespace bench::dispatch
