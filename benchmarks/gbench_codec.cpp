// Benchmark (f) on Google Benchmark: the codecs of ee_bench_codec (codec_events.hpp;
// described at the top of codec_bench.cpp) on the same events. Per event and codec two
// benchmarks: `encode` (encode into a reused frame after a 2-byte topic) and `round_trip`
// (that, then decode it back).
//
//   ee_gbench_codec --benchmark_enable_random_interleaving=true --benchmark_repetitions=10
//                   --benchmark_report_aggregates_only=true
//
// Names: codec/<event>/<codec>/<encode|round_trip>. Before timing, each codec must
// decode what it encoded, or the program exits non-zero without running anything.
// ee_bench_codec (the paired-ratio report) stays the reference for ratios on a shared
// machine (docs/benchmarks.md).

#include "codec_events.hpp"

#include <benchmark/benchmark.h>

#include <event_engine/codec.hpp>

#include <array>
#include <cstddef>
#include <iostream>
#include <span>
#include <string>
#include <vector>

namespace {

using namespace bench::codec;

constexpr std::array<std::byte, 2> topic{std::byte{0x01}, std::byte{0x00}};

/// Encodes @p event after the topic into @p frame (cleared first); returns the payload.
template <class E>
std::span<const std::byte> encode(const E& event, ee::byte_buffer& frame)
{
    frame.clear();
    frame.append(topic);
    ee::payload_writer out{frame};
    ee::codec<E>::encode(event, out);
    return {frame.data() + topic.size(), out.size()};
}

/// Registers codec/<event>/<codec>/encode and .../round_trip for @p sample; @p bump changes
/// the event a little before each operation (nothing is hoisted out of the loop).
template <class E, class Bump, class Same>
bool add(const std::string& name, const E& sample, Bump bump, Same same)
{
    ee::byte_buffer check_frame;
    if (!same(ee::codec<E>::decode(encode(sample, check_frame)), sample)) {
        std::cerr << "ee_gbench_codec: " << name << " does not decode what it encoded\n";
        return false;
    }
    benchmark::RegisterBenchmark((name + "/encode").c_str(), [sample, bump](benchmark::State& state) {
        E event = sample;
        ee::byte_buffer frame;
        for (auto _ : state) {
            bump(event);
            benchmark::DoNotOptimize(encode(event, frame).size());
        }
        state.SetItemsProcessed(state.iterations());
    });
    benchmark::RegisterBenchmark((name + "/round_trip").c_str(), [sample, bump](benchmark::State& state) {
        E event = sample;
        ee::byte_buffer frame;
        for (auto _ : state) {
            bump(event);
            const E back = ee::codec<E>::decode(encode(event, frame));
            benchmark::DoNotOptimize(back);
        }
        state.SetItemsProcessed(state.iterations());
    });
    return true;
}

bool register_all()
{
    bool ok = add("codec/Imu/trivial", imu_sample<imu<ee::trivial_codec>>(), bump_imu, same_imu);
    ok = add("codec/Imu/handwritten", imu_sample<imu<handwritten_imu_codec>>(), bump_imu, same_imu) && ok;
    ok = add("codec/Imu/reflective", imu_sample<imu<ee::reflective_codec>>(), bump_imu, same_imu) && ok;
    ok = add("codec/Imu/reflective_hana", imu_sample<imu_hana>(), bump_imu, same_imu) && ok;
    ok = add("codec/Detection/handwritten", detection_sample<handwritten_detection_codec>(), bump_detection,
             same_detection) &&
         ok;
    ok = add("codec/Detection/reflective", detection_sample<ee::reflective_codec>(), bump_detection, same_detection) &&
         ok;
    return ok;
}

} // namespace

int main(int argc, char** argv)
{
    if (!register_all()) return 1;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
