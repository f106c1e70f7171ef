// Benchmark (a) on Google Benchmark: the same nine dispatchers as ee_bench_dispatch
// (dispatch_variants.hpp; described at the top of dispatch_bench.cpp), for a plugin
// subscribed to k = 1 ... 256 event types, three topic mixes. One iteration = one pass
// over a pre-built batch of 16,384 frames; `per_event` is the time per frame (seconds,
// with an SI prefix), items_per_second its inverse.
//
//   ee_gbench_dispatch --benchmark_filter='dispatch/(engine|chain)/uniform/'
//                      --benchmark_enable_random_interleaving=true --benchmark_repetitions=10
//                      --benchmark_report_aggregates_only=true
//
// Names: dispatch/<variant>/<mix>/k:<k>. Every iteration checks the handlers' sum; a
// dispatcher that computes a wrong one stops its benchmark with an error (non-zero exit).
// ee_bench_dispatch (the paired-ratio report) stays the reference for ratios on a shared
// machine (docs/benchmarks.md).

#include "dispatch_variants.hpp"

#include <benchmark/benchmark.h>

#include <zmq.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using namespace bench::dispatch;

bool failed = false; // a dispatcher computed a wrong sum: the program exits non-zero

constexpr std::size_t batch_size = 16384; // as ee_bench_dispatch: beyond what the branch predictor learns

zmq::context_t& context()
{
    static zmq::context_t instance;
    return instance;
}

template <std::size_t K>
fixture<K>& fixture_of()
{
    static fixture<K> instance{context()};
    return instance;
}

template <std::size_t K>
void run(benchmark::State& state, variant v, mix m)
{
    fixture<K>& f = fixture_of<K>();
    const batch b = make_batch(K, m, batch_size, 0x5eed0000 + K * 16 + static_cast<std::size_t>(m));
    for (auto _ : state) {
        if (f.run(v, b, 1) != b.expected_sum) {
            failed = true;
            state.SkipWithError("the handlers' sum is wrong");
            break;
        }
    }
    const auto events = static_cast<double>(state.iterations()) * static_cast<double>(b.frames.size());
    state.SetItemsProcessed(static_cast<std::int64_t>(events));
    // Seconds per event (printed with an SI prefix: 5.2n is 5.2 ns).
    state.counters["per_event"] = benchmark::Counter(events, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

template <std::size_t K>
void register_k()
{
    for (const mix m : {mix::uniform, mix::skewed_first, mix::skewed_last}) {
        if (K == 1 && m != mix::uniform) continue; // one type: no skew
        for (const variant v : all_variants) {
            const std::string name =
                "dispatch/" + std::string{variant_name(v)} + "/" + std::string{mix_name(m)} + "/k:" + std::to_string(K);
            benchmark::RegisterBenchmark(name.c_str(), [v, m](benchmark::State& state) { run<K>(state, v, m); });
        }
    }
}

} // namespace

int main(int argc, char** argv)
{
    register_k<1>();
    register_k<4>();
    register_k<8>();
    register_k<16>();
    register_k<32>();
    register_k<64>();
    register_k<256>();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return failed ? 1 : 0;
}
