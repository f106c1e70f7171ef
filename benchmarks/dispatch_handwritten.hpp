#pragma once
// Variant (2), the floor: what a programmer writes by hand without a framework,
// an if / else-if chain of prefix tests against constant topics, then the same
// decode (size check + memcpy), counter and handler call as every other variant.
// Written out per k as plain source; the macros only save repeating the same line.
//
// handwritten_chain<K>     tests with has_prefix(): size check + memcmp of a
//                          constant length, inlined (the floor);
// handwritten_sv_chain<K>  tests with std::string_view::starts_with(), the
//                          obvious C++20 spelling (informative: libstdc++'s
//                          starts_with compares through min(size, n), so the
//                          memcmp is not inlined).

#include "dispatch_topics.hpp"

#include <zmq.hpp>

#include <cstdint>
#include <cstring>
#include <string_view>

namespace bench::dispatch {

// always_inline: otherwise g++ 12 stops inlining it after a dozen call sites and
// the "floor" pays a call plus a run-time-length memcmp per test.
[[gnu::always_inline]] inline bool has_prefix(std::string_view bytes, std::string_view prefix) noexcept
{
    return bytes.size() >= prefix.size() && std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

struct handwritten_base {
    sink* handlers = nullptr;
    std::uint64_t delivered = 0;
    std::uint64_t failures = 0;
    std::uint64_t unknown = 0;

    template <std::size_t I>
    void deliver(std::string_view bytes)
    {
        const std::string_view payload = bytes.substr(topic_table[I].size());
        if (payload.size() != sizeof(std::uint64_t)) {
            ++failures;
            return;
        }
        ev<I> event;
        std::memcpy(&event.value, payload.data(), sizeof event.value);
        ++delivered;
        handlers->on(event);
    }
};

template <std::size_t K>
struct handwritten_chain;
template <std::size_t K>
struct handwritten_sv_chain;

#define EE_BENCH_CASE(i) else if (has_prefix(bytes, topic_table[i])) deliver<i>(bytes);
#define EE_BENCH_SV_CASE(i) else if (bytes.starts_with(topic_table[i])) deliver<i>(bytes);

template <>
struct handwritten_chain<1> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (has_prefix(bytes, topic_table[0])) deliver<0>(bytes);
        else ++unknown;
    }
};

template <>
struct handwritten_chain<4> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (has_prefix(bytes, topic_table[0])) deliver<0>(bytes);
        EE_BENCH_CASE(1) EE_BENCH_CASE(2) EE_BENCH_CASE(3)
        else ++unknown;
    }
};

template <>
struct handwritten_chain<16> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (has_prefix(bytes, topic_table[0])) deliver<0>(bytes);
        EE_BENCH_CASE(1) EE_BENCH_CASE(2) EE_BENCH_CASE(3) EE_BENCH_CASE(4)
        EE_BENCH_CASE(5) EE_BENCH_CASE(6) EE_BENCH_CASE(7) EE_BENCH_CASE(8)
        EE_BENCH_CASE(9) EE_BENCH_CASE(10) EE_BENCH_CASE(11) EE_BENCH_CASE(12)
        EE_BENCH_CASE(13) EE_BENCH_CASE(14) EE_BENCH_CASE(15)
        else ++unknown;
    }
};

template <>
struct handwritten_chain<64> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (has_prefix(bytes, topic_table[0])) deliver<0>(bytes);
        EE_BENCH_CASE(1) EE_BENCH_CASE(2) EE_BENCH_CASE(3) EE_BENCH_CASE(4)
        EE_BENCH_CASE(5) EE_BENCH_CASE(6) EE_BENCH_CASE(7) EE_BENCH_CASE(8)
        EE_BENCH_CASE(9) EE_BENCH_CASE(10) EE_BENCH_CASE(11) EE_BENCH_CASE(12)
        EE_BENCH_CASE(13) EE_BENCH_CASE(14) EE_BENCH_CASE(15) EE_BENCH_CASE(16)
        EE_BENCH_CASE(17) EE_BENCH_CASE(18) EE_BENCH_CASE(19) EE_BENCH_CASE(20)
        EE_BENCH_CASE(21) EE_BENCH_CASE(22) EE_BENCH_CASE(23) EE_BENCH_CASE(24)
        EE_BENCH_CASE(25) EE_BENCH_CASE(26) EE_BENCH_CASE(27) EE_BENCH_CASE(28)
        EE_BENCH_CASE(29) EE_BENCH_CASE(30) EE_BENCH_CASE(31) EE_BENCH_CASE(32)
        EE_BENCH_CASE(33) EE_BENCH_CASE(34) EE_BENCH_CASE(35) EE_BENCH_CASE(36)
        EE_BENCH_CASE(37) EE_BENCH_CASE(38) EE_BENCH_CASE(39) EE_BENCH_CASE(40)
        EE_BENCH_CASE(41) EE_BENCH_CASE(42) EE_BENCH_CASE(43) EE_BENCH_CASE(44)
        EE_BENCH_CASE(45) EE_BENCH_CASE(46) EE_BENCH_CASE(47) EE_BENCH_CASE(48)
        EE_BENCH_CASE(49) EE_BENCH_CASE(50) EE_BENCH_CASE(51) EE_BENCH_CASE(52)
        EE_BENCH_CASE(53) EE_BENCH_CASE(54) EE_BENCH_CASE(55) EE_BENCH_CASE(56)
        EE_BENCH_CASE(57) EE_BENCH_CASE(58) EE_BENCH_CASE(59) EE_BENCH_CASE(60)
        EE_BENCH_CASE(61) EE_BENCH_CASE(62) EE_BENCH_CASE(63)
        else ++unknown;
    }
};

template <>
struct handwritten_sv_chain<1> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (bytes.starts_with(topic_table[0])) deliver<0>(bytes);
        else ++unknown;
    }
};

template <>
struct handwritten_sv_chain<4> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (bytes.starts_with(topic_table[0])) deliver<0>(bytes);
        EE_BENCH_SV_CASE(1) EE_BENCH_SV_CASE(2) EE_BENCH_SV_CASE(3)
        else ++unknown;
    }
};

template <>
struct handwritten_sv_chain<16> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (bytes.starts_with(topic_table[0])) deliver<0>(bytes);
        EE_BENCH_SV_CASE(1) EE_BENCH_SV_CASE(2) EE_BENCH_SV_CASE(3) EE_BENCH_SV_CASE(4)
        EE_BENCH_SV_CASE(5) EE_BENCH_SV_CASE(6) EE_BENCH_SV_CASE(7) EE_BENCH_SV_CASE(8)
        EE_BENCH_SV_CASE(9) EE_BENCH_SV_CASE(10) EE_BENCH_SV_CASE(11) EE_BENCH_SV_CASE(12)
        EE_BENCH_SV_CASE(13) EE_BENCH_SV_CASE(14) EE_BENCH_SV_CASE(15)
        else ++unknown;
    }
};

template <>
struct handwritten_sv_chain<64> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (bytes.starts_with(topic_table[0])) deliver<0>(bytes);
        EE_BENCH_SV_CASE(1) EE_BENCH_SV_CASE(2) EE_BENCH_SV_CASE(3) EE_BENCH_SV_CASE(4)
        EE_BENCH_SV_CASE(5) EE_BENCH_SV_CASE(6) EE_BENCH_SV_CASE(7) EE_BENCH_SV_CASE(8)
        EE_BENCH_SV_CASE(9) EE_BENCH_SV_CASE(10) EE_BENCH_SV_CASE(11) EE_BENCH_SV_CASE(12)
        EE_BENCH_SV_CASE(13) EE_BENCH_SV_CASE(14) EE_BENCH_SV_CASE(15) EE_BENCH_SV_CASE(16)
        EE_BENCH_SV_CASE(17) EE_BENCH_SV_CASE(18) EE_BENCH_SV_CASE(19) EE_BENCH_SV_CASE(20)
        EE_BENCH_SV_CASE(21) EE_BENCH_SV_CASE(22) EE_BENCH_SV_CASE(23) EE_BENCH_SV_CASE(24)
        EE_BENCH_SV_CASE(25) EE_BENCH_SV_CASE(26) EE_BENCH_SV_CASE(27) EE_BENCH_SV_CASE(28)
        EE_BENCH_SV_CASE(29) EE_BENCH_SV_CASE(30) EE_BENCH_SV_CASE(31) EE_BENCH_SV_CASE(32)
        EE_BENCH_SV_CASE(33) EE_BENCH_SV_CASE(34) EE_BENCH_SV_CASE(35) EE_BENCH_SV_CASE(36)
        EE_BENCH_SV_CASE(37) EE_BENCH_SV_CASE(38) EE_BENCH_SV_CASE(39) EE_BENCH_SV_CASE(40)
        EE_BENCH_SV_CASE(41) EE_BENCH_SV_CASE(42) EE_BENCH_SV_CASE(43) EE_BENCH_SV_CASE(44)
        EE_BENCH_SV_CASE(45) EE_BENCH_SV_CASE(46) EE_BENCH_SV_CASE(47) EE_BENCH_SV_CASE(48)
        EE_BENCH_SV_CASE(49) EE_BENCH_SV_CASE(50) EE_BENCH_SV_CASE(51) EE_BENCH_SV_CASE(52)
        EE_BENCH_SV_CASE(53) EE_BENCH_SV_CASE(54) EE_BENCH_SV_CASE(55) EE_BENCH_SV_CASE(56)
        EE_BENCH_SV_CASE(57) EE_BENCH_SV_CASE(58) EE_BENCH_SV_CASE(59) EE_BENCH_SV_CASE(60)
        EE_BENCH_SV_CASE(61) EE_BENCH_SV_CASE(62) EE_BENCH_SV_CASE(63)
        else ++unknown;
    }
};

#undef EE_BENCH_CASE
#undef EE_BENCH_SV_CASE

} // namespace bench::dispatch
