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
#include "dispatch_variants.hpp"

#include <zmq.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace bench::dispatch {

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
    double ns_low; // lower decile over rounds: the estimate
    double ns_median;
    double ns_high;                // upper decile
    double ratio_to_engine;        // ns_low / engine's ns_low
    double ratio_to_chain;         // ns_low / chain's ns_low
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
            std::cerr << "dispatch: " << variant_name(v) << " delivered " << f.delivered(v) << " of the " << f.given(v)
                      << " events it was given (k=" << K << ")\n";
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

    std::printf("%-3s %-13s %-13s %10s %10s %10s %9s %9s %9s\n", "k", "mix", "variant", "ns/event", "median", "p90",
                "x engine", "x chain", "paired");
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
