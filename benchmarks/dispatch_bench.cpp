// Benchmark (a): the cost of taking one received frame (topic + payload, a
// zmq::message_t) to the right typed handler, for a plugin subscribed to k event
// types, with nine dispatchers side by side in one process:
//
//   engine     event_engine::detail::dispatch<ev<0>..ev<k-1>>, exactly as
//              run_handler_loop() calls it (a plugin_runtime is built for it)
//   engine_fold, engine_tree  the same with the plan forced to one shape
//              (informative, for the crossover): the fold of whole-topic
//              compares at every k (the engine's dispatch before the plan), and
//              the decision tree from k = 2 on, without the first topic tested alone
//   chain      hand-written if / else-if chain of size check + memcmp: the floor
//   chain_sv   the same chain spelled with std::string_view::starts_with()
//              (informative)
//   vector_fn  run-time registry: vector of {prefix, std::function} scanned
//   map_fn     run-time registry: unordered_map<std::string, std::function>,
//              probed with each registered topic length
//   virtual    vector<unique_ptr<handler_base>> shaped like the Rust original's
//              Vec<Box<dyn EventType>>: per candidate a virtual filter() (the
//              topic; the original even allocates it anew per call) and a
//              run-time-length prefix test, then a virtual handle()
//   virtual_fused  the most favourable virtual form: one virtual try_handle()
//              per candidate that tests its own compile-time topic (informative)
//
// Every variant does the same work per event: find the type, check the payload
// size, memcpy the 64-bit payload, count the delivery, call sink::on<I>.
//
// Harness: rounds of interleaved trials. In each round every variant dispatches
// the same pre-built batch of frames `reps` times (the order of variants rotates
// from round to round). On a shared machine other processes only ever add time,
// so the estimate of a variant's cost is its lower decile over the rounds (the
// 10% least disturbed trials), and ratios are ratios of those. The median and
// the median of per-round ratios (variant / engine in the same round) are
// reported too; when the three disagree, the run was noisy.

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

    void operator()(const zmq::message_t& frame)
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

    void operator()(const zmq::message_t& frame)
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
constexpr std::array<variant, 9> all_variants{variant::engine,      variant::chain,         variant::chain_sv,
                                              variant::vector_fn,   variant::map_fn,        variant::virtual_fn,
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
        (vector_.entries.push_back({std::string{topic_table[Is]},
                                    make_erased_handler<Is>(sinks_[static_cast<std::size_t>(variant::vector_fn)],
                                                            vector_.count)}),
         ...);
        (map_.handlers.emplace(std::string{topic_table[Is]},
                               make_erased_handler<Is>(sinks_[static_cast<std::size_t>(variant::map_fn)], map_.count)),
         ...);
        (virtual_.handlers.push_back(
             std::make_unique<typed_handler<Is>>(sinks_[static_cast<std::size_t>(variant::virtual_fn)], virtual_.count)),
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

struct options {
    bool smoke = false;
    int rounds = 31;
    // Large enough that the branch predictor cannot learn the sequence (at 1024
    // frames it partly does: k=16 uniform looked 40% cheaper), small enough for L2.
    std::size_t batch_size = 16384;
    double trial_ms = 4.0;
    std::string json_path;
    // Profiling mode: run one variant only, for callgrind.
    std::string only_variant;
    std::size_t only_k = 0;
    std::string only_mix = "uniform";
    int only_reps = 100;
    std::vector<std::size_t> ks; // --k: only these (default: all)
};

struct result_row {
    std::size_t k;
    mix m;
    variant v;
    double ns_low;          // lower decile over rounds: the estimate
    double ns_median;
    double ns_high;         // upper decile
    double ratio_to_engine; // ns_low / engine's ns_low
    double ratio_to_chain;  // ns_low / chain's ns_low
    double paired_ratio_to_engine; // median over rounds of (this / engine in the same round)
};

template <std::size_t K>
bool measure_k(zmq::context_t& context, const options& opt, std::vector<result_row>& rows)
{
    if (!opt.ks.empty() && std::find(opt.ks.begin(), opt.ks.end(), K) == opt.ks.end()) return true;
    fixture<K> f{context};
    bool ok = true;
    std::vector<mix> mixes{mix::uniform};
    if (K > 1) {
        mixes.push_back(mix::skewed_first);
        mixes.push_back(mix::skewed_last);
    }
    for (const mix m : mixes) {
        const batch b = make_batch(K, m, opt.batch_size, 0x5eed0000 + K * 16 + static_cast<std::size_t>(m));
        // Calibrate: reps such that the engine's trial lasts about trial_ms.
        int reps = 1;
        for (;;) {
            const auto start = now_ns();
            f.run(variant::engine, b, reps);
            const double elapsed_ms = static_cast<double>(now_ns() - start) / 1e6;
            if (elapsed_ms >= opt.trial_ms / 4 || reps >= (1 << 20)) {
                reps = std::max(1, static_cast<int>(reps * opt.trial_ms / std::max(elapsed_ms, 1e-6)));
                break;
            }
            reps *= 4;
        }
        // Warm up every variant once, and check that all compute the same thing.
        const std::uint64_t expected = b.expected_sum * static_cast<std::uint64_t>(reps);
        for (const variant v : all_variants) {
            if (f.run(v, b, reps) != expected) {
                std::cerr << "dispatch: " << variant_name(v) << " computed a wrong sum (k=" << K << ")\n";
                ok = false;
            }
        }
        const double events = static_cast<double>(reps) * static_cast<double>(b.frames.size());
        std::array<std::vector<double>, all_variants.size()> ns;
        std::array<std::vector<double>, all_variants.size()> to_engine;
        for (int round = 0; round < opt.rounds; ++round) {
            std::array<double, all_variants.size()> this_round{};
            for (std::size_t j = 0; j < all_variants.size(); ++j) {
                const variant v = all_variants[(j + static_cast<std::size_t>(round)) % all_variants.size()];
                const auto start = now_ns();
                const std::uint64_t sum = f.run(v, b, reps);
                const auto elapsed = static_cast<double>(now_ns() - start);
                if (sum != expected) ok = false;
                this_round[static_cast<std::size_t>(v)] = elapsed / events;
            }
            for (std::size_t i = 0; i < all_variants.size(); ++i) {
                ns[i].push_back(this_round[i]);
                to_engine[i].push_back(this_round[i] / this_round[0]);
            }
        }
        const double engine_low = quantile(ns[0], 0.1);
        const double chain_low = quantile(ns[1], 0.1);
        for (std::size_t i = 0; i < all_variants.size(); ++i) {
            const double low = quantile(ns[i], 0.1);
            rows.push_back({K, m, all_variants[i], low, median(ns[i]), quantile(ns[i], 0.9), low / engine_low,
                            low / chain_low, median(to_engine[i])});
        }
    }
    // Every variant delivered every event it was given, no more, no less.
    for (const variant v : all_variants) {
        if (f.delivered(v) != f.given(v)) {
            std::cerr << "dispatch: " << variant_name(v) << " delivered " << f.delivered(v) << " of the "
                      << f.given(v) << " events it was given (k=" << K << ")\n";
            ok = false;
        }
    }
    return ok;
}

template <std::size_t K>
int profile_one(zmq::context_t& context, const options& opt)
{
    fixture<K> f{context};
    mix m = mix::uniform;
    if (opt.only_mix == "skewed_first") m = mix::skewed_first;
    if (opt.only_mix == "skewed_last") m = mix::skewed_last;
    const batch b = make_batch(K, m, opt.batch_size, 0x5eed0000 + K * 16 + static_cast<std::size_t>(m));
    for (const variant v : all_variants) {
        if (variant_name(v) == opt.only_variant) {
            const auto sum = f.run(v, b, opt.only_reps);
            return sum == b.expected_sum * static_cast<std::uint64_t>(opt.only_reps) ? 0 : 1;
        }
    }
    std::cerr << "dispatch: unknown variant " << opt.only_variant << "\n";
    return 2;
}

options parse(int argc, char** argv)
{
    options opt;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto next = [&] { return option_value(argc, argv, i, "dispatch"); };
        if (arg == "--smoke") {
            opt.smoke = true;
            opt.rounds = 3;
            opt.batch_size = 512;
            opt.trial_ms = 0.2;
        } else if (arg == "--json") {
            opt.json_path = next();
        } else if (arg == "--rounds") {
            opt.rounds = std::stoi(next());
        } else if (arg == "--batch") {
            opt.batch_size = std::stoul(next());
        } else if (arg == "--trial-ms") {
            opt.trial_ms = std::stod(next());
        } else if (arg == "--k") { // comma-separated
            std::string list = next();
            for (std::size_t at = 0; at <= list.size();) {
                const std::size_t comma = std::min(list.find(',', at), list.size());
                opt.ks.push_back(std::stoul(list.substr(at, comma - at)));
                at = comma + 1;
            }
        } else if (arg == "--profile") { // --profile <variant> <k> <mix> <reps>
            opt.only_variant = next();
            opt.only_k = std::stoul(next());
            opt.only_mix = next();
            opt.only_reps = std::stoi(next());
        } else {
            std::cerr << "usage: ee_bench_dispatch [--smoke] [--json FILE] [--rounds N] [--batch N] [--trial-ms MS]\n"
                         "                         [--k K,K,...] [--profile VARIANT K MIX REPS]\n";
            std::exit(2);
        }
    }
    return opt;
}

} // namespace bench::dispatch

int main(int argc, char** argv)
{
    using namespace bench::dispatch;
    const options opt = parse(argc, argv);
    zmq::context_t context;

    if (!opt.only_variant.empty()) {
        switch (opt.only_k) {
        case 1: return profile_one<1>(context, opt);
        case 4: return profile_one<4>(context, opt);
        case 8: return profile_one<8>(context, opt);
        case 16: return profile_one<16>(context, opt);
        case 32: return profile_one<32>(context, opt);
        case 64: return profile_one<64>(context, opt);
        case 256: return profile_one<256>(context, opt);
        default: std::cerr << "dispatch: k must be 1, 4, 8, 16, 32, 64 or 256\n"; return 2;
        }
    }

    std::vector<result_row> rows;
    bool ok = measure_k<1>(context, opt, rows);
    ok = measure_k<4>(context, opt, rows) && ok;
    ok = measure_k<8>(context, opt, rows) && ok;
    ok = measure_k<16>(context, opt, rows) && ok;
    ok = measure_k<32>(context, opt, rows) && ok;
    ok = measure_k<64>(context, opt, rows) && ok;
    ok = measure_k<256>(context, opt, rows) && ok;

    std::printf("%-3s %-13s %-13s %10s %10s %10s %9s %9s %9s\n", "k", "mix", "variant", "ns/event", "median",
                "p90", "x engine", "x chain", "paired");
    std::vector<std::string> json_rows;
    for (const auto& row : rows) {
        std::printf("%-3zu %-13s %-13s %10.2f %10.2f %10.2f %9.2f %9.2f %9.2f\n", row.k, mix_name(row.m).data(),
                    variant_name(row.v).data(), row.ns_low, row.ns_median, row.ns_high, row.ratio_to_engine,
                    row.ratio_to_chain, row.paired_ratio_to_engine);
        json_rows.push_back(bench::json_object{}
                                .add("k", static_cast<std::uint64_t>(row.k))
                                .add("mix", mix_name(row.m))
                                .add("variant", variant_name(row.v))
                                .add("label", variant_label(row.v))
                                .add("ns_per_event", row.ns_low)
                                .add("ns_median", row.ns_median)
                                .add("ns_p90", row.ns_high)
                                .add("ratio_to_engine", row.ratio_to_engine)
                                .add("ratio_to_chain", row.ratio_to_chain)
                                .add("paired_ratio_to_engine", row.paired_ratio_to_engine)
                                .str());
    }
    if (!opt.json_path.empty()) {
        const std::string json = bench::json_object{}
                                     .add("benchmark", "dispatch")
                                     .add("smoke", opt.smoke)
                                     .add("ok", ok)
                                     .add("rounds", opt.rounds)
                                     .add("batch", static_cast<std::uint64_t>(opt.batch_size))
                                     .add("trial_ms", opt.trial_ms)
                                     .raw("rows", bench::json_array(json_rows))
                                     .str();
        if (!bench::write_file(opt.json_path, json)) {
            std::cerr << "dispatch: cannot write " << opt.json_path << "\n";
            return 1;
        }
    }
    if (!ok) std::cerr << "dispatch: FAILED consistency checks\n";
    return ok ? 0 : 1;
}
