#pragma once
// Variant (2), the floor: what a programmer writes by hand without a framework,
// an if / else-if chain of prefix tests against constant topics, then the same
// decode (size check + memcpy), counter and handler call as every other variant.
// Written out per k as plain source (k = 1, 4, 8, 16, 32, 64, 256); the macros only
// save repeating the same line.
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
        // clang-format off
        EE_BENCH_CASE(1) EE_BENCH_CASE(2) EE_BENCH_CASE(3)
        else ++unknown;
        // clang-format on
    }
};

template <>
struct handwritten_chain<8> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (has_prefix(bytes, topic_table[0])) deliver<0>(bytes);
        // clang-format off
        EE_BENCH_CASE(1) EE_BENCH_CASE(2) EE_BENCH_CASE(3) EE_BENCH_CASE(4)
        EE_BENCH_CASE(5) EE_BENCH_CASE(6) EE_BENCH_CASE(7)
        else ++unknown;
        // clang-format on
    }
};

template <>
struct handwritten_chain<16> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (has_prefix(bytes, topic_table[0])) deliver<0>(bytes);
        // clang-format off
        EE_BENCH_CASE(1) EE_BENCH_CASE(2) EE_BENCH_CASE(3) EE_BENCH_CASE(4)
        EE_BENCH_CASE(5) EE_BENCH_CASE(6) EE_BENCH_CASE(7) EE_BENCH_CASE(8)
        EE_BENCH_CASE(9) EE_BENCH_CASE(10) EE_BENCH_CASE(11) EE_BENCH_CASE(12)
        EE_BENCH_CASE(13) EE_BENCH_CASE(14) EE_BENCH_CASE(15)
        else ++unknown;
        // clang-format on
    }
};

template <>
struct handwritten_chain<32> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (has_prefix(bytes, topic_table[0])) deliver<0>(bytes);
        // clang-format off
        EE_BENCH_CASE(1) EE_BENCH_CASE(2) EE_BENCH_CASE(3) EE_BENCH_CASE(4)
        EE_BENCH_CASE(5) EE_BENCH_CASE(6) EE_BENCH_CASE(7) EE_BENCH_CASE(8)
        EE_BENCH_CASE(9) EE_BENCH_CASE(10) EE_BENCH_CASE(11) EE_BENCH_CASE(12)
        EE_BENCH_CASE(13) EE_BENCH_CASE(14) EE_BENCH_CASE(15) EE_BENCH_CASE(16)
        EE_BENCH_CASE(17) EE_BENCH_CASE(18) EE_BENCH_CASE(19) EE_BENCH_CASE(20)
        EE_BENCH_CASE(21) EE_BENCH_CASE(22) EE_BENCH_CASE(23) EE_BENCH_CASE(24)
        EE_BENCH_CASE(25) EE_BENCH_CASE(26) EE_BENCH_CASE(27) EE_BENCH_CASE(28)
        EE_BENCH_CASE(29) EE_BENCH_CASE(30) EE_BENCH_CASE(31)
        else ++unknown;
        // clang-format on
    }
};

template <>
struct handwritten_chain<64> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (has_prefix(bytes, topic_table[0])) deliver<0>(bytes);
        // clang-format off
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
        // clang-format on
    }
};

template <>
struct handwritten_chain<256> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (has_prefix(bytes, topic_table[0])) deliver<0>(bytes);
        // clang-format off
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
        EE_BENCH_CASE(61) EE_BENCH_CASE(62) EE_BENCH_CASE(63) EE_BENCH_CASE(64)
        EE_BENCH_CASE(65) EE_BENCH_CASE(66) EE_BENCH_CASE(67) EE_BENCH_CASE(68)
        EE_BENCH_CASE(69) EE_BENCH_CASE(70) EE_BENCH_CASE(71) EE_BENCH_CASE(72)
        EE_BENCH_CASE(73) EE_BENCH_CASE(74) EE_BENCH_CASE(75) EE_BENCH_CASE(76)
        EE_BENCH_CASE(77) EE_BENCH_CASE(78) EE_BENCH_CASE(79) EE_BENCH_CASE(80)
        EE_BENCH_CASE(81) EE_BENCH_CASE(82) EE_BENCH_CASE(83) EE_BENCH_CASE(84)
        EE_BENCH_CASE(85) EE_BENCH_CASE(86) EE_BENCH_CASE(87) EE_BENCH_CASE(88)
        EE_BENCH_CASE(89) EE_BENCH_CASE(90) EE_BENCH_CASE(91) EE_BENCH_CASE(92)
        EE_BENCH_CASE(93) EE_BENCH_CASE(94) EE_BENCH_CASE(95) EE_BENCH_CASE(96)
        EE_BENCH_CASE(97) EE_BENCH_CASE(98) EE_BENCH_CASE(99) EE_BENCH_CASE(100)
        EE_BENCH_CASE(101) EE_BENCH_CASE(102) EE_BENCH_CASE(103) EE_BENCH_CASE(104)
        EE_BENCH_CASE(105) EE_BENCH_CASE(106) EE_BENCH_CASE(107) EE_BENCH_CASE(108)
        EE_BENCH_CASE(109) EE_BENCH_CASE(110) EE_BENCH_CASE(111) EE_BENCH_CASE(112)
        EE_BENCH_CASE(113) EE_BENCH_CASE(114) EE_BENCH_CASE(115) EE_BENCH_CASE(116)
        EE_BENCH_CASE(117) EE_BENCH_CASE(118) EE_BENCH_CASE(119) EE_BENCH_CASE(120)
        EE_BENCH_CASE(121) EE_BENCH_CASE(122) EE_BENCH_CASE(123) EE_BENCH_CASE(124)
        EE_BENCH_CASE(125) EE_BENCH_CASE(126) EE_BENCH_CASE(127) EE_BENCH_CASE(128)
        EE_BENCH_CASE(129) EE_BENCH_CASE(130) EE_BENCH_CASE(131) EE_BENCH_CASE(132)
        EE_BENCH_CASE(133) EE_BENCH_CASE(134) EE_BENCH_CASE(135) EE_BENCH_CASE(136)
        EE_BENCH_CASE(137) EE_BENCH_CASE(138) EE_BENCH_CASE(139) EE_BENCH_CASE(140)
        EE_BENCH_CASE(141) EE_BENCH_CASE(142) EE_BENCH_CASE(143) EE_BENCH_CASE(144)
        EE_BENCH_CASE(145) EE_BENCH_CASE(146) EE_BENCH_CASE(147) EE_BENCH_CASE(148)
        EE_BENCH_CASE(149) EE_BENCH_CASE(150) EE_BENCH_CASE(151) EE_BENCH_CASE(152)
        EE_BENCH_CASE(153) EE_BENCH_CASE(154) EE_BENCH_CASE(155) EE_BENCH_CASE(156)
        EE_BENCH_CASE(157) EE_BENCH_CASE(158) EE_BENCH_CASE(159) EE_BENCH_CASE(160)
        EE_BENCH_CASE(161) EE_BENCH_CASE(162) EE_BENCH_CASE(163) EE_BENCH_CASE(164)
        EE_BENCH_CASE(165) EE_BENCH_CASE(166) EE_BENCH_CASE(167) EE_BENCH_CASE(168)
        EE_BENCH_CASE(169) EE_BENCH_CASE(170) EE_BENCH_CASE(171) EE_BENCH_CASE(172)
        EE_BENCH_CASE(173) EE_BENCH_CASE(174) EE_BENCH_CASE(175) EE_BENCH_CASE(176)
        EE_BENCH_CASE(177) EE_BENCH_CASE(178) EE_BENCH_CASE(179) EE_BENCH_CASE(180)
        EE_BENCH_CASE(181) EE_BENCH_CASE(182) EE_BENCH_CASE(183) EE_BENCH_CASE(184)
        EE_BENCH_CASE(185) EE_BENCH_CASE(186) EE_BENCH_CASE(187) EE_BENCH_CASE(188)
        EE_BENCH_CASE(189) EE_BENCH_CASE(190) EE_BENCH_CASE(191) EE_BENCH_CASE(192)
        EE_BENCH_CASE(193) EE_BENCH_CASE(194) EE_BENCH_CASE(195) EE_BENCH_CASE(196)
        EE_BENCH_CASE(197) EE_BENCH_CASE(198) EE_BENCH_CASE(199) EE_BENCH_CASE(200)
        EE_BENCH_CASE(201) EE_BENCH_CASE(202) EE_BENCH_CASE(203) EE_BENCH_CASE(204)
        EE_BENCH_CASE(205) EE_BENCH_CASE(206) EE_BENCH_CASE(207) EE_BENCH_CASE(208)
        EE_BENCH_CASE(209) EE_BENCH_CASE(210) EE_BENCH_CASE(211) EE_BENCH_CASE(212)
        EE_BENCH_CASE(213) EE_BENCH_CASE(214) EE_BENCH_CASE(215) EE_BENCH_CASE(216)
        EE_BENCH_CASE(217) EE_BENCH_CASE(218) EE_BENCH_CASE(219) EE_BENCH_CASE(220)
        EE_BENCH_CASE(221) EE_BENCH_CASE(222) EE_BENCH_CASE(223) EE_BENCH_CASE(224)
        EE_BENCH_CASE(225) EE_BENCH_CASE(226) EE_BENCH_CASE(227) EE_BENCH_CASE(228)
        EE_BENCH_CASE(229) EE_BENCH_CASE(230) EE_BENCH_CASE(231) EE_BENCH_CASE(232)
        EE_BENCH_CASE(233) EE_BENCH_CASE(234) EE_BENCH_CASE(235) EE_BENCH_CASE(236)
        EE_BENCH_CASE(237) EE_BENCH_CASE(238) EE_BENCH_CASE(239) EE_BENCH_CASE(240)
        EE_BENCH_CASE(241) EE_BENCH_CASE(242) EE_BENCH_CASE(243) EE_BENCH_CASE(244)
        EE_BENCH_CASE(245) EE_BENCH_CASE(246) EE_BENCH_CASE(247) EE_BENCH_CASE(248)
        EE_BENCH_CASE(249) EE_BENCH_CASE(250) EE_BENCH_CASE(251) EE_BENCH_CASE(252)
        EE_BENCH_CASE(253) EE_BENCH_CASE(254) EE_BENCH_CASE(255)
        else ++unknown;
        // clang-format on
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
        // clang-format off
        EE_BENCH_SV_CASE(1) EE_BENCH_SV_CASE(2) EE_BENCH_SV_CASE(3)
        else ++unknown;
        // clang-format on
    }
};

template <>
struct handwritten_sv_chain<8> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (bytes.starts_with(topic_table[0])) deliver<0>(bytes);
        // clang-format off
        EE_BENCH_SV_CASE(1) EE_BENCH_SV_CASE(2) EE_BENCH_SV_CASE(3) EE_BENCH_SV_CASE(4)
        EE_BENCH_SV_CASE(5) EE_BENCH_SV_CASE(6) EE_BENCH_SV_CASE(7)
        else ++unknown;
        // clang-format on
    }
};

template <>
struct handwritten_sv_chain<16> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (bytes.starts_with(topic_table[0])) deliver<0>(bytes);
        // clang-format off
        EE_BENCH_SV_CASE(1) EE_BENCH_SV_CASE(2) EE_BENCH_SV_CASE(3) EE_BENCH_SV_CASE(4)
        EE_BENCH_SV_CASE(5) EE_BENCH_SV_CASE(6) EE_BENCH_SV_CASE(7) EE_BENCH_SV_CASE(8)
        EE_BENCH_SV_CASE(9) EE_BENCH_SV_CASE(10) EE_BENCH_SV_CASE(11) EE_BENCH_SV_CASE(12)
        EE_BENCH_SV_CASE(13) EE_BENCH_SV_CASE(14) EE_BENCH_SV_CASE(15)
        else ++unknown;
        // clang-format on
    }
};

template <>
struct handwritten_sv_chain<32> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (bytes.starts_with(topic_table[0])) deliver<0>(bytes);
        // clang-format off
        EE_BENCH_SV_CASE(1) EE_BENCH_SV_CASE(2) EE_BENCH_SV_CASE(3) EE_BENCH_SV_CASE(4)
        EE_BENCH_SV_CASE(5) EE_BENCH_SV_CASE(6) EE_BENCH_SV_CASE(7) EE_BENCH_SV_CASE(8)
        EE_BENCH_SV_CASE(9) EE_BENCH_SV_CASE(10) EE_BENCH_SV_CASE(11) EE_BENCH_SV_CASE(12)
        EE_BENCH_SV_CASE(13) EE_BENCH_SV_CASE(14) EE_BENCH_SV_CASE(15) EE_BENCH_SV_CASE(16)
        EE_BENCH_SV_CASE(17) EE_BENCH_SV_CASE(18) EE_BENCH_SV_CASE(19) EE_BENCH_SV_CASE(20)
        EE_BENCH_SV_CASE(21) EE_BENCH_SV_CASE(22) EE_BENCH_SV_CASE(23) EE_BENCH_SV_CASE(24)
        EE_BENCH_SV_CASE(25) EE_BENCH_SV_CASE(26) EE_BENCH_SV_CASE(27) EE_BENCH_SV_CASE(28)
        EE_BENCH_SV_CASE(29) EE_BENCH_SV_CASE(30) EE_BENCH_SV_CASE(31)
        else ++unknown;
        // clang-format on
    }
};

template <>
struct handwritten_sv_chain<64> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (bytes.starts_with(topic_table[0])) deliver<0>(bytes);
        // clang-format off
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
        // clang-format on
    }
};

template <>
struct handwritten_sv_chain<256> : handwritten_base {
    void operator()(const zmq::message_t& frame)
    {
        const std::string_view bytes{static_cast<const char*>(frame.data()), frame.size()};
        if (bytes.starts_with(topic_table[0])) deliver<0>(bytes);
        // clang-format off
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
        EE_BENCH_SV_CASE(61) EE_BENCH_SV_CASE(62) EE_BENCH_SV_CASE(63) EE_BENCH_SV_CASE(64)
        EE_BENCH_SV_CASE(65) EE_BENCH_SV_CASE(66) EE_BENCH_SV_CASE(67) EE_BENCH_SV_CASE(68)
        EE_BENCH_SV_CASE(69) EE_BENCH_SV_CASE(70) EE_BENCH_SV_CASE(71) EE_BENCH_SV_CASE(72)
        EE_BENCH_SV_CASE(73) EE_BENCH_SV_CASE(74) EE_BENCH_SV_CASE(75) EE_BENCH_SV_CASE(76)
        EE_BENCH_SV_CASE(77) EE_BENCH_SV_CASE(78) EE_BENCH_SV_CASE(79) EE_BENCH_SV_CASE(80)
        EE_BENCH_SV_CASE(81) EE_BENCH_SV_CASE(82) EE_BENCH_SV_CASE(83) EE_BENCH_SV_CASE(84)
        EE_BENCH_SV_CASE(85) EE_BENCH_SV_CASE(86) EE_BENCH_SV_CASE(87) EE_BENCH_SV_CASE(88)
        EE_BENCH_SV_CASE(89) EE_BENCH_SV_CASE(90) EE_BENCH_SV_CASE(91) EE_BENCH_SV_CASE(92)
        EE_BENCH_SV_CASE(93) EE_BENCH_SV_CASE(94) EE_BENCH_SV_CASE(95) EE_BENCH_SV_CASE(96)
        EE_BENCH_SV_CASE(97) EE_BENCH_SV_CASE(98) EE_BENCH_SV_CASE(99) EE_BENCH_SV_CASE(100)
        EE_BENCH_SV_CASE(101) EE_BENCH_SV_CASE(102) EE_BENCH_SV_CASE(103) EE_BENCH_SV_CASE(104)
        EE_BENCH_SV_CASE(105) EE_BENCH_SV_CASE(106) EE_BENCH_SV_CASE(107) EE_BENCH_SV_CASE(108)
        EE_BENCH_SV_CASE(109) EE_BENCH_SV_CASE(110) EE_BENCH_SV_CASE(111) EE_BENCH_SV_CASE(112)
        EE_BENCH_SV_CASE(113) EE_BENCH_SV_CASE(114) EE_BENCH_SV_CASE(115) EE_BENCH_SV_CASE(116)
        EE_BENCH_SV_CASE(117) EE_BENCH_SV_CASE(118) EE_BENCH_SV_CASE(119) EE_BENCH_SV_CASE(120)
        EE_BENCH_SV_CASE(121) EE_BENCH_SV_CASE(122) EE_BENCH_SV_CASE(123) EE_BENCH_SV_CASE(124)
        EE_BENCH_SV_CASE(125) EE_BENCH_SV_CASE(126) EE_BENCH_SV_CASE(127) EE_BENCH_SV_CASE(128)
        EE_BENCH_SV_CASE(129) EE_BENCH_SV_CASE(130) EE_BENCH_SV_CASE(131) EE_BENCH_SV_CASE(132)
        EE_BENCH_SV_CASE(133) EE_BENCH_SV_CASE(134) EE_BENCH_SV_CASE(135) EE_BENCH_SV_CASE(136)
        EE_BENCH_SV_CASE(137) EE_BENCH_SV_CASE(138) EE_BENCH_SV_CASE(139) EE_BENCH_SV_CASE(140)
        EE_BENCH_SV_CASE(141) EE_BENCH_SV_CASE(142) EE_BENCH_SV_CASE(143) EE_BENCH_SV_CASE(144)
        EE_BENCH_SV_CASE(145) EE_BENCH_SV_CASE(146) EE_BENCH_SV_CASE(147) EE_BENCH_SV_CASE(148)
        EE_BENCH_SV_CASE(149) EE_BENCH_SV_CASE(150) EE_BENCH_SV_CASE(151) EE_BENCH_SV_CASE(152)
        EE_BENCH_SV_CASE(153) EE_BENCH_SV_CASE(154) EE_BENCH_SV_CASE(155) EE_BENCH_SV_CASE(156)
        EE_BENCH_SV_CASE(157) EE_BENCH_SV_CASE(158) EE_BENCH_SV_CASE(159) EE_BENCH_SV_CASE(160)
        EE_BENCH_SV_CASE(161) EE_BENCH_SV_CASE(162) EE_BENCH_SV_CASE(163) EE_BENCH_SV_CASE(164)
        EE_BENCH_SV_CASE(165) EE_BENCH_SV_CASE(166) EE_BENCH_SV_CASE(167) EE_BENCH_SV_CASE(168)
        EE_BENCH_SV_CASE(169) EE_BENCH_SV_CASE(170) EE_BENCH_SV_CASE(171) EE_BENCH_SV_CASE(172)
        EE_BENCH_SV_CASE(173) EE_BENCH_SV_CASE(174) EE_BENCH_SV_CASE(175) EE_BENCH_SV_CASE(176)
        EE_BENCH_SV_CASE(177) EE_BENCH_SV_CASE(178) EE_BENCH_SV_CASE(179) EE_BENCH_SV_CASE(180)
        EE_BENCH_SV_CASE(181) EE_BENCH_SV_CASE(182) EE_BENCH_SV_CASE(183) EE_BENCH_SV_CASE(184)
        EE_BENCH_SV_CASE(185) EE_BENCH_SV_CASE(186) EE_BENCH_SV_CASE(187) EE_BENCH_SV_CASE(188)
        EE_BENCH_SV_CASE(189) EE_BENCH_SV_CASE(190) EE_BENCH_SV_CASE(191) EE_BENCH_SV_CASE(192)
        EE_BENCH_SV_CASE(193) EE_BENCH_SV_CASE(194) EE_BENCH_SV_CASE(195) EE_BENCH_SV_CASE(196)
        EE_BENCH_SV_CASE(197) EE_BENCH_SV_CASE(198) EE_BENCH_SV_CASE(199) EE_BENCH_SV_CASE(200)
        EE_BENCH_SV_CASE(201) EE_BENCH_SV_CASE(202) EE_BENCH_SV_CASE(203) EE_BENCH_SV_CASE(204)
        EE_BENCH_SV_CASE(205) EE_BENCH_SV_CASE(206) EE_BENCH_SV_CASE(207) EE_BENCH_SV_CASE(208)
        EE_BENCH_SV_CASE(209) EE_BENCH_SV_CASE(210) EE_BENCH_SV_CASE(211) EE_BENCH_SV_CASE(212)
        EE_BENCH_SV_CASE(213) EE_BENCH_SV_CASE(214) EE_BENCH_SV_CASE(215) EE_BENCH_SV_CASE(216)
        EE_BENCH_SV_CASE(217) EE_BENCH_SV_CASE(218) EE_BENCH_SV_CASE(219) EE_BENCH_SV_CASE(220)
        EE_BENCH_SV_CASE(221) EE_BENCH_SV_CASE(222) EE_BENCH_SV_CASE(223) EE_BENCH_SV_CASE(224)
        EE_BENCH_SV_CASE(225) EE_BENCH_SV_CASE(226) EE_BENCH_SV_CASE(227) EE_BENCH_SV_CASE(228)
        EE_BENCH_SV_CASE(229) EE_BENCH_SV_CASE(230) EE_BENCH_SV_CASE(231) EE_BENCH_SV_CASE(232)
        EE_BENCH_SV_CASE(233) EE_BENCH_SV_CASE(234) EE_BENCH_SV_CASE(235) EE_BENCH_SV_CASE(236)
        EE_BENCH_SV_CASE(237) EE_BENCH_SV_CASE(238) EE_BENCH_SV_CASE(239) EE_BENCH_SV_CASE(240)
        EE_BENCH_SV_CASE(241) EE_BENCH_SV_CASE(242) EE_BENCH_SV_CASE(243) EE_BENCH_SV_CASE(244)
        EE_BENCH_SV_CASE(245) EE_BENCH_SV_CASE(246) EE_BENCH_SV_CASE(247) EE_BENCH_SV_CASE(248)
        EE_BENCH_SV_CASE(249) EE_BENCH_SV_CASE(250) EE_BENCH_SV_CASE(251) EE_BENCH_SV_CASE(252)
        EE_BENCH_SV_CASE(253) EE_BENCH_SV_CASE(254) EE_BENCH_SV_CASE(255)
        else ++unknown;
        // clang-format on
    }
};

#undef EE_BENCH_CASE
#undef EE_BENCH_SV_CASE

} // namespace bench::dispatch
