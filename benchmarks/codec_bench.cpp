// Benchmark (f): reflective_codec (the portable layout, docs/layout.md) beside
// trivial_codec (memcpy of the object) and a hand-written encoder of the same
// layout, on the same struct, in one process:
//
//   trivial      trivial_codec: one memcpy each way, plus its size check
//   handwritten  the portable layout written by hand: extend() once, a memcpy per
//                member, a size check and a bool check on decoding
//   reflective   reflective_codec on a plain aggregate (no macro)
//   reflective_hana  reflective_codec on the same members in BOOST_HANA_DEFINE_STRUCT
//
// The event is an IMU sample (64 bytes in memory, 50 in the layout: no padding).
// A second, informative event with a string, a vector and an optional (which
// trivial_codec cannot carry) compares reflective_codec with a hand-written encoder.
//
// One operation = encode the event into a reused frame after a 2-byte topic, then
// decode it back. Harness as in dispatch_bench: rounds of interleaved trials, the
// variants' order rotating; a variant's cost is its lower decile over the rounds
// (other processes only add time), ratios are ratios of those; the median of
// per-round ratios is printed as a check.
//
// Usage: ee_bench_codec [--smoke] [--rounds N] [--json FILE]

#include "bench_common.hpp"
#include "codec_events.hpp"

#include <event_engine/codec.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bench::codec {

// ---------------------------------------------------------------------------
// The harness.

struct variant {
    std::string name;
    std::function<void(std::size_t)> encode_only; // reps encodes
    std::function<void(std::size_t)> round_trip;  // reps encodes + decodes
    std::vector<double> encode_ns;
    std::vector<double> round_trip_ns;
};

constexpr std::array<std::byte, 2> topic{std::byte{0x01}, std::byte{0x00}};

/// A variant for event type E: @p bump changes the event a little before each
/// operation (nothing is hoisted out of the loop), @p same checks a decoded event.
template <class E, class Bump, class Same>
variant make_variant(std::string name, const E& sample, Bump bump, Same same, bool check)
{
    auto event = std::make_shared<E>(sample);
    auto frame = std::make_shared<ee::byte_buffer>();
    const auto encode = [event, frame, bump]() -> std::span<const std::byte> {
        bump(*event);
        frame->clear();
        frame->append(topic);
        ee::payload_writer out{*frame};
        ee::codec<E>::encode(*event, out);
        return {frame->data() + topic.size(), out.size()};
    };
    if (check) {
        const E back = ee::codec<E>::decode(encode());
        if (!same(back, *event)) {
            std::cerr << "ee_bench_codec: " << name << " does not decode what it encoded\n";
            std::exit(1);
        }
    }
    return {std::move(name),
            [encode](std::size_t reps) {
                for (std::size_t i = 0; i != reps; ++i) do_not_optimize(encode().size());
            },
            [encode](std::size_t reps) {
                for (std::size_t i = 0; i != reps; ++i) {
                    const E back = ee::codec<E>::decode(encode());
                    do_not_optimize(back);
                }
            },
            {},
            {}};
}

double time_ns_per_op(const std::function<void(std::size_t)>& run, std::size_t reps)
{
    const std::int64_t start = now_ns();
    run(reps);
    return static_cast<double>(now_ns() - start) / static_cast<double>(reps);
}

void measure(std::vector<variant>& variants, std::size_t rounds, std::size_t reps)
{
    for (variant& v : variants) v.round_trip(reps / 10 + 1); // warm up
    for (std::size_t round = 0; round != rounds; ++round) {
        for (std::size_t k = 0; k != variants.size(); ++k) {
            variant& v = variants[(k + round) % variants.size()];
            v.encode_ns.push_back(time_ns_per_op(v.encode_only, reps));
            v.round_trip_ns.push_back(time_ns_per_op(v.round_trip, reps));
        }
    }
}

double lower_decile(const std::vector<double>& values) { return quantile(values, 0.1); }

/// Median over rounds of v's time / base's time in the same round.
double median_ratio(const std::vector<double>& v, const std::vector<double>& base)
{
    std::vector<double> ratios;
    for (std::size_t i = 0; i != v.size() && i != base.size(); ++i) ratios.push_back(v[i] / base[i]);
    return median(ratios);
}

std::string report(std::string_view event, const std::vector<variant>& variants, const variant* trivial,
                   const variant& handwritten, std::vector<std::string>& json_rows)
{
    char line[256];
    std::string text = "\n" + std::string{event} + "\n";
    std::snprintf(line, sizeof line, "| %-16s | %10s | %14s | %10s | %12s | %14s |\n", "codec", "encode ns",
                  "enc+dec ns p10", "median", "x trivial", "x handwritten");
    text += line;
    text += "|------------------|-----------:|---------------:|-----------:|-------------:|---------------:|\n";
    for (const variant& v : variants) {
        const double p10 = lower_decile(v.round_trip_ns);
        const double vs_trivial = trivial ? p10 / lower_decile(trivial->round_trip_ns) : 0.0;
        const double vs_hand = p10 / lower_decile(handwritten.round_trip_ns);
        char trivial_text[32] = "-";
        if (trivial) std::snprintf(trivial_text, sizeof trivial_text, "%.2f", vs_trivial);
        std::snprintf(line, sizeof line, "| %-16s | %10.1f | %14.1f | %10.1f | %12s | %8.2f (%.2f) |\n", v.name.c_str(),
                      lower_decile(v.encode_ns), p10, median(v.round_trip_ns), trivial_text, vs_hand,
                      median_ratio(v.round_trip_ns, handwritten.round_trip_ns));
        text += line;
        json_object row;
        row.add("event", event).add("codec", v.name).add("encode_ns_p10", lower_decile(v.encode_ns));
        row.add("round_trip_ns_p10", p10).add("round_trip_ns_median", median(v.round_trip_ns));
        row.add("x_handwritten", vs_hand);
        if (trivial) row.add("x_trivial", vs_trivial);
        json_rows.push_back(row.str());
    }
    return text;
}

} // namespace bench::codec

int main(int argc, char** argv)
{
    using namespace bench::codec;
    bool smoke = false;
    std::size_t rounds = 40;
    std::string json_path;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--smoke") smoke = true;
        else if (arg == "--rounds") rounds = std::stoul(bench::option_value(argc, argv, i, "ee_bench_codec"));
        else if (arg == "--json") json_path = bench::option_value(argc, argv, i, "ee_bench_codec");
        else {
            std::cerr << "usage: ee_bench_codec [--smoke] [--rounds N] [--json FILE]\n";
            return 2;
        }
    }
    if (smoke) rounds = 3;
    const std::size_t reps = smoke ? 200 : 20000;

    std::vector<variant> imus;
    imus.push_back(make_variant("trivial", imu_sample<imu<ee::trivial_codec>>(), bump_imu, same_imu, true));
    imus.push_back(make_variant("handwritten", imu_sample<imu<handwritten_imu_codec>>(), bump_imu, same_imu, true));
    imus.push_back(make_variant("reflective", imu_sample<imu<ee::reflective_codec>>(), bump_imu, same_imu, true));
    imus.push_back(make_variant("reflective_hana", imu_sample<imu_hana>(), bump_imu, same_imu, true));

    std::vector<variant> detections;
    detections.push_back(make_variant("handwritten", detection_sample<handwritten_detection_codec>(), bump_detection,
                                      same_detection, true));
    detections.push_back(
        make_variant("reflective", detection_sample<ee::reflective_codec>(), bump_detection, same_detection, true));

    measure(imus, rounds, reps);
    measure(detections, rounds, reps);

    std::vector<std::string> rows;
    std::cout << "ee_bench_codec: " << rounds << " rounds x " << reps
              << " operations per variant; one operation = encode after a 2-byte topic + decode;"
                 " p10 = lower decile over rounds; (x) = median of per-round ratios\n";
    std::cout << report("Imu (50-byte layout, 64 bytes in memory)", imus, &imus[0], imus[1], rows);
    std::cout << report("Detection (string, vector<float> of 5, optional box: 61 bytes)", detections, nullptr,
                        detections[0], rows);
    if (!json_path.empty() && !bench::write_file(json_path, bench::json_array(rows))) {
        std::cerr << "ee_bench_codec: cannot write " << json_path << "\n";
        return 1;
    }
    return 0;
}
