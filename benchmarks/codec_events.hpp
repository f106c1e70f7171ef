#pragma once
// Benchmark (f)'s events and hand-written codecs, shared by ee_bench_codec (the paired-ratio report,
// codec_bench.cpp) and ee_gbench_codec (the same codecs on Google Benchmark, gbench_codec.cpp).
// The variants are described at the top of codec_bench.cpp.

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
#define EE_BENCH_IMU_MEMBERS                                                                                           \
    std::uint64_t stamp_ns;                                                                                            \
    std::uint32_t sensor;                                                                                              \
    std::uint32_t sequence;                                                                                            \
    std::array<float, 3> accel;                                                                                        \
    std::array<float, 3> gyro;                                                                                         \
    double temperature;                                                                                                \
    quality level;                                                                                                     \
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

[[noreturn, gnu::cold, gnu::noinline]] inline void reject(const char* what) { throw ee::decode_error{what}; }

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
// The samples both programs measure, how they change before each operation (so
// nothing is hoisted out of the loop) and how a decoded event is compared.

/// The IMU sample, in any of the imu types.
template <class Imu>
Imu imu_sample()
{
    imu<ee::trivial_codec> sample{};
    sample.stamp_ns = 1'700'000'000'123'456'789ULL;
    sample.sensor = 7;
    sample.sequence = 0;
    sample.accel = {0.01F, -0.02F, 9.81F};
    sample.gyro = {0.001F, 0.002F, -0.003F};
    sample.temperature = 36.6;
    sample.level = quality::good;
    sample.saturated = false;
    Imu out{};
    return copy_imu(sample, out);
}

inline constexpr auto bump_imu = [](auto& e) { ++e.sequence; };
inline constexpr auto same_imu = [](const auto& a, const auto& b) {
    return a.stamp_ns == b.stamp_ns && a.sensor == b.sensor && a.sequence == b.sequence && a.accel == b.accel &&
           a.gyro == b.gyro && a.temperature == b.temperature && a.level == b.level && a.saturated == b.saturated;
};

/// The detection sample with @p Codec.
template <class Codec>
detection<Codec> detection_sample()
{
    return {42, "pedestrian", {0.91F, 0.05F, 0.02F, 0.01F, 0.01F}, box{10, 20, 30, 60}};
}

inline constexpr auto bump_detection = [](auto& e) { ++e.frame; };
inline constexpr auto same_detection = [](const auto& a, const auto& b) {
    return a.frame == b.frame && a.label == b.label && a.scores == b.scores && a.where.has_value() &&
           b.where.has_value() && a.where->h == b.where->h;
};

} // namespace bench::codec
