#pragma once
// Rate-limited logging for things peers can repeat at will (refused requests,
// undecodable payloads, refused connections): the first occurrence is logged in
// full, later ones are only counted, and a summary line is logged at most every
// few seconds while they keep coming. The report's counters carry the totals, so
// a flood costs a few lines, not one per event.

#include "event_engine/detail/config.hpp"
#include "event_engine/log.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace event_engine::detail {

class log_throttle {
public:
    using clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds summary_interval{5};

    /// Logs @p line at @p level if this is the first occurrence, or a summary of
    /// the suppressed ones if the interval has passed; otherwise counts it.
    /// @p what names the kind of occurrence in the summary ("requests rejected").
    template <class MakeLine>
    void note(log_level level, std::string_view who, std::string_view what, MakeLine&& make_line)
    {
        ++total_;
        const auto now = clock::now();
        if (total_ == 1) {
            last_summary_ = now;
            if (log_enabled(level)) emit(level, std::forward<MakeLine>(make_line)());
            return;
        }
        ++suppressed_;
        if (now - last_summary_ < summary_interval) return;
        summarize(level, who, what, now);
    }

    /// Logs what is still suppressed (e.g. when the plugin ends).
    void flush(log_level level, std::string_view who, std::string_view what)
    {
        if (suppressed_ > 0) summarize(level, who, what, clock::now());
    }

    [[nodiscard]] std::uint64_t total() const noexcept { return total_; }

private:
    void summarize(log_level level, std::string_view who, std::string_view what, clock::time_point now);

    std::uint64_t total_ = 0;
    std::uint64_t suppressed_ = 0;
    clock::time_point last_summary_{};
};

} // namespace event_engine::detail

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#include "event_engine/detail/endpoints/log_throttle.ipp"
#endif
