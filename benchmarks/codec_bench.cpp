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

#include <event_engine/codec.hpp>
#include <event_engine/reflective_codec.hpp>

#include <boost/hana/define_struct.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bench::codec {

namespace ee = event_engine;

enum class quality : std::uint8_t { bad, fair, good };

// The IMU sample, one type per codec (the codec is a member alias).
#define EE_BENCH_IMU_MEMBERS                                                                                          \
    std::uint64_t stamp_ns;                                                                                           \
    std::uint32_t sensor;                                                                                             \
    std::uint32_t sequence;                                                                                           \
    std::array<float, 3> accel;                                                                                       \
    std::array<float, 3> gyro;                                                                                        \
    double temperature;                                                                                               \
    quality level;                                                                                                    \
    bool saturated;

template <class Codec>
struct imu {
    static constexpr std::string_view name = "Imu";
    using codec = Codec;
    EE_BENCH_IMU_MEMBERS
};

struct imu_hana {
    static constexpr std::string_view name = "Imu";
    using codec = ee::reflective_codec;
    BOOST_HANA_DEFINE_STRUCT(imu_hana, (std::uint64_t, stamp_ns), (std::uint32_t, sensor), (std::uint32_t, sequence),
                             (std::array<float, 3>, accel), (std::array<float, 3>, gyro), (double, temperature),
                             (quality, level), (bool, saturated));
};

template <class Out>
Out& copy_imu(const auto& from, Out& to)
{
    to.stamp_ns = from.stamp_ns;
    to.sensor = from.sensor;
    to.sequence = from.sequence;
    to.accel = from.accel;
    to.gyro = from.gyro;
    to.temperature = from.temperature;
    to.level = from.level;
    to.saturated = from.saturated;
    return to;
}

[[noreturn, gnu::cold, gnu::noinline]] inline void reject(const char* what)
{
    throw ee::decode_error{what};
}

/// The portable layout of the IMU sample, by hand (a little-endian machine assumed).
struct handwritten_imu_codec {
    static constexpr std::size_t size = 8 + 4 + 4 + 12 + 12 + 8 + 1 + 1;

    template <class E>
    static void encode(const E& e, ee::payload_writer& out)
    {
        std::byte* p = out.extend(size).data();
        std::memcpy(p, &e.stamp_ns, 8);
        std::memcpy(p + 8, &e.sensor, 4);
        std::memcpy(p + 12, &e.sequence, 4);
        std::memcpy(p + 16, e.accel.data(), 12);
        std::memcpy(p + 28, e.gyro.data(), 12);
        std::memcpy(p + 40, &e.temperature, 8);
        p[48] = static_cast<std::byte>(e.level);
        p[49] = std::byte{e.saturated ? std::uint8_t{1} : std::uint8_t{0}};
    }
    template <class E>
    static E decode(std::span<const std::byte> payload)
    {
        if (payload.size() != size) reject("Imu: wrong size");
        const std::byte* p = payload.data();
        if (p[49] > std::byte{1}) reject("Imu.saturated: not a bool");
        E e;
        std::memcpy(&e.stamp_ns, p, 8);
        std::memcpy(&e.sensor, p + 8, 4);
        std::memcpy(&e.sequence, p + 12, 4);
        std::memcpy(e.accel.data(), p + 16, 12);
        std::memcpy(e.gyro.data(), p + 28, 12);
        std::memcpy(&e.temperature, p + 40, 8);
        e.level = static_cast<quality>(p[48]);
        e.saturated = p[49] == std::byte{1};
        return e;
    }
};

// The informative variable-size event: a detection with a label, scores and a box.
struct box {
    float x, y, w, h;
};

template <class Codec>
struct detection {
    static constexpr std::string_view name = "Detection";
    using codec = Codec;
    std::uint64_t frame;
    std::string label;
    std::vector<float> scores;
    std::optional<box> where;
};

struct handwritten_detection_codec {
    template <class E>
    static void encode(const E& e, ee::payload_writer& out)
    {
        const std::size_t size = 8 + 4 + e.label.size() + 4 + 4 * e.scores.size() + 1 + (e.where ? 16 : 0);
        std::byte* p = out.extend(size).data();
        const auto label_size = static_cast<std::uint32_t>(e.label.size());
        const auto score_count = static_cast<std::uint32_t>(e.scores.size());
        std::memcpy(p, &e.frame, 8);
        std::memcpy(p + 8, &label_size, 4);
        p += 12;
        std::memcpy(p, e.label.data(), label_size);
        p += label_size;
        std::memcpy(p, &score_count, 4);
        std::memcpy(p + 4, e.scores.data(), 4 * score_count);
        p += 4 + 4 * score_count;
        *p = std::byte{e.where ? std::uint8_t{1} : std::uint8_t{0}};
        if (e.where) std::memcpy(p + 1, &*e.where, 16);
    }
    template <class E>
    static E decode(std::span<const std::byte> payload)
    {
        E e;
        const std::byte* p = payload.data();
        std::size_t left = payload.size();
        const auto need = [&](std::size_t n) {
            if (left < n) reject("Detection: truncated");
            left -= n;
        };
        std::uint32_t length = 0;
        need(12);
        std::memcpy(&e.frame, p, 8);
        std::memcpy(&length, p + 8, 4);
        p += 12;
        need(length);
        e.label.assign(reinterpret_cast<const char*>(p), length);
        p += length;
        need(4);
        std::memcpy(&length, p, 4);
        p += 4;
        need(std::size_t{4} * length);
        e.scores.resize(length);
        std::memcpy(e.scores.data(), p, 4 * std::size_t{length});
        p += 4 * std::size_t{length};
        need(1);
        if (*p > std::byte{1}) reject("Detection.where: bad tag");
        if (*p == std::byte{1}) {
            need(16);
            e.where.emplace();
            std::memcpy(&*e.where, p + 1, 16);
        }
        if (left != 0) reject("Detection: trailing bytes");
        return e;
    }
};

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
    auto frame = std::make_shared<ee::detail::byte_buffer>();
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

    imu<ee::trivial_codec> sample{};
    sample.stamp_ns = 1'700'000'000'123'456'789ULL;
    sample.sensor = 7;
    sample.sequence = 0;
    sample.accel = {0.01F, -0.02F, 9.81F};
    sample.gyro = {0.001F, 0.002F, -0.003F};
    sample.temperature = 36.6;
    sample.level = quality::good;
    sample.saturated = false;
    const auto bump = [](auto& e) { ++e.sequence; };
    const auto same = [](const auto& a, const auto& b) {
        return a.stamp_ns == b.stamp_ns && a.sensor == b.sensor && a.sequence == b.sequence && a.accel == b.accel &&
               a.gyro == b.gyro && a.temperature == b.temperature && a.level == b.level && a.saturated == b.saturated;
    };
    imu<handwritten_imu_codec> hand_sample{};
    imu<ee::reflective_codec> reflective_sample{};
    imu_hana hana_sample{};
    std::vector<variant> imus;
    imus.push_back(make_variant("trivial", sample, bump, same, true));
    imus.push_back(make_variant("handwritten", copy_imu(sample, hand_sample), bump, same, true));
    imus.push_back(make_variant("reflective", copy_imu(sample, reflective_sample), bump, same, true));
    imus.push_back(make_variant("reflective_hana", copy_imu(sample, hana_sample), bump, same, true));

    const std::vector<float> scores{0.91F, 0.05F, 0.02F, 0.01F, 0.01F};
    const detection<handwritten_detection_codec> hand_detection{42, "pedestrian", scores, box{10, 20, 30, 60}};
    const detection<ee::reflective_codec> reflective_detection{42, "pedestrian", scores, box{10, 20, 30, 60}};
    const auto bump_frame = [](auto& e) { ++e.frame; };
    const auto same_detection = [](const auto& a, const auto& b) {
        return a.frame == b.frame && a.label == b.label && a.scores == b.scores && a.where.has_value() &&
               b.where.has_value() && a.where->h == b.where->h;
    };
    std::vector<variant> detections;
    detections.push_back(make_variant("handwritten", hand_detection, bump_frame, same_detection, true));
    detections.push_back(make_variant("reflective", reflective_detection, bump_frame, same_detection, true));

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
