#pragma once
/// @file
/// What a loop-style plugin's `receive()` returns: the event, or why there is none.
///
///     while (auto event = receive(100ms)) { ... }
///     // here: event.status() says timed_out, finishing or stopping

#include <optional>
#include <string_view>
#include <utility>

namespace event_engine {

/// Why receive() returned, as `receive_result::status()` tells.
enum class receive_status {
    received,  ///< an event is there
    timed_out, ///< the timeout passed first; receive again to keep waiting
    finishing, ///< the plugin called finish(): no more events for it
    stopping,  ///< the application is stopping: return from run()
};

/// The name of @p status, e.g. "timed_out".
constexpr std::string_view to_string(receive_status status) noexcept
{
    switch (status) {
    case receive_status::received: return "received";
    case receive_status::timed_out: return "timed_out";
    case receive_status::finishing: return "finishing";
    case receive_status::stopping: return "stopping";
    }
    return "unknown";
}

/// An optional event that also says why it is empty. It is a `std::optional<Event>`
/// (test it, dereference it, assign to it, keep it as one), plus status().
template <class Event>
class receive_result : public std::optional<Event> {
public:
    using std::optional<Event>::optional;
    using std::optional<Event>::operator=;

    /// No event, for the reason @p why (not received).
    explicit receive_result(receive_status why) noexcept : why_none_{why} {}

    /// received when it holds an event; otherwise why receive() returned without one.
    /// Emptied later (reset(), = std::nullopt), it keeps that reason; made empty
    /// (default-constructed, from std::nullopt), it says stopping.
    [[nodiscard]] receive_status status() const noexcept
    {
        return this->has_value() ? receive_status::received : why_none_;
    }
    /// True when the timeout passed: the only empty result after which receiving again can give an event.
    [[nodiscard]] bool timed_out() const noexcept { return status() == receive_status::timed_out; }

private:
    receive_status why_none_ = receive_status::stopping;
};

} // namespace event_engine
