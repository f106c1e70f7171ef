#pragma once
// The external-plugin command protocol (docs/protocol.md). The first three
// commands and both replies are the original engine's, byte for byte.

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace event_engine::detail::protocol {

inline constexpr std::string_view command_prefix = "plugin_command:";
inline constexpr std::string_view next_msg = "plugin_command: next_msg";
inline constexpr std::string_view quit = "plugin_command: quit";
inline constexpr std::string_view next_msg_wait = "plugin_command: next_msg_wait";
inline constexpr std::string_view next_msgs = "plugin_command: next_msgs";
inline constexpr std::string_view ping = "plugin_command: ping";
inline constexpr std::string_view fetch = "plugin_command: fetch";
inline constexpr std::string_view ack = "plugin_command: ack";
/// The first frame of a batch of events: "<command> <session> <sequence>", the events follow.
inline constexpr std::string_view publish_batch = "plugin_command: publish_batch";
/// Asks for the application's manifest (JSON), on a plugin's port or the introspection port.
inline constexpr std::string_view manifest = "plugin_command: manifest";

inline constexpr std::string_view published_reply = "event-engine: msg published";
inline constexpr std::string_view quit_reply = "event-engine: quit acknowledged";
inline constexpr std::string_view pong_reply = "event-engine: pong";
inline constexpr std::string_view error_prefix = "event-engine: error: ";
inline constexpr std::string_view events_header = "event-engine: events "; // + "<first> <epoch>"
/// After error_prefix, when the application has no manifest writer (event_engine::enable_manifest(app)).
inline constexpr std::string_view manifest_unavailable =
    "this application does not publish a manifest (it does not call event_engine::enable_manifest(app))";
inline constexpr std::string_view acknowledged_reply = "event-engine: acknowledged "; // + "<ack>"
/// The first frame of a batch's reply: + "<sequence> <accepted> <refused>"; then one frame per
/// run of refused events: "<first> <last> <reason>" (indices in the batch, from 0).
inline constexpr std::string_view batch_published_reply = "event-engine: published ";

/// Longest wait a client may ask for in one request.
inline constexpr std::chrono::milliseconds longest_wait{3'600'000};
/// Most events one batch request may ask for, or carry.
inline constexpr std::size_t largest_batch = 100'000;
/// Longest session name of a publish batch.
inline constexpr std::size_t longest_session = 64;

enum class kind {
    next,
    next_wait,
    next_batch,
    fetch,
    ack,
    publish_batch,
    quit,
    ping,
    manifest,
    unknown_command,
    malformed,
    publish
};

struct request {
    kind what = kind::publish;
    std::chrono::milliseconds wait{0}; // next_wait, next_batch, fetch
    std::size_t most = 1;              // next_batch, fetch
    std::uint64_t ack = 0;             // fetch, ack: the last event number the client has processed
                                       // publish_batch: the batch's sequence number
    std::uint64_t have = 0;            // fetch: the last event number the client holds (sent no more)
    std::string_view session;          // publish_batch: the client's session
    std::string_view problem;          // malformed, unknown_command
};

inline request make_request(kind what, std::chrono::milliseconds wait = {}, std::size_t most = 1,
                            std::string_view problem = {}, std::uint64_t ack = 0) noexcept
{
    request made;
    made.what = what;
    made.wait = wait;
    made.most = most;
    made.problem = problem;
    made.ack = ack;
    return made;
}

inline std::string_view trim_trailing_space(std::string_view text) noexcept
{
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

// Reads one decimal number, after at least one space, from the front of @p text:
// digits only (no sign), so "5-0" or "-0" is not a number here.
template <class Number>
std::optional<Number> take_number(std::string_view& text) noexcept
{
    if (text.empty() || text.front() != ' ') return std::nullopt;
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
    Number value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end == text.data()) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    return value;
}

// Reads one word of letters, digits, '-', '_' and '.' (a session name), after at least one
// space, from the front of @p text.
inline std::optional<std::string_view> take_word(std::string_view& text) noexcept
{
    if (text.empty() || text.front() != ' ') return std::nullopt;
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    std::size_t length = 0;
    while (length < text.size() && text[length] != ' ') {
        const char c = text[length];
        const bool allowed = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
                             c == '_' || c == '.';
        if (!allowed) return std::nullopt;
        ++length;
    }
    if (length == 0 || length > longest_session) return std::nullopt;
    const std::string_view word = text.substr(0, length);
    text.remove_prefix(length);
    return word;
}

// True if @p command is @p name alone or followed by a space (its arguments).
inline bool names(std::string_view command, std::string_view name) noexcept
{
    return command.starts_with(name) && (command.size() == name.size() || command[name.size()] == ' ');
}

inline request parse(std::string_view message) noexcept
{
    if (!message.starts_with(command_prefix)) return make_request(kind::publish);
    const std::string_view command = trim_trailing_space(message);
    if (command == next_msg) return make_request(kind::next);
    if (command == quit) return make_request(kind::quit);
    if (command == ping) return make_request(kind::ping);
    if (command == manifest) return make_request(kind::manifest);
    if (names(command, fetch)) {
        std::string_view rest = command.substr(fetch.size());
        const auto most = take_number<std::size_t>(rest);
        const auto ms = take_number<long long>(rest);
        const auto acked = take_number<std::uint64_t>(rest);
        const auto have = rest.empty() ? std::optional<std::uint64_t>{0} : take_number<std::uint64_t>(rest);
        if (!most || *most == 0 || *most > largest_batch || !ms || *ms < 0 || *ms > longest_wait.count() || !acked ||
            !have || !rest.empty()) {
            return make_request(kind::malformed, {}, 0,
                                "fetch takes the most events to return (1 to 100000), a wait in milliseconds (0 to "
                                "3600000), the number of the last event processed (0 if none) and, optionally, of "
                                "the last event the client holds, e.g. 'plugin_command: fetch 100 500 0'");
        }
        auto made = make_request(kind::fetch, std::chrono::milliseconds{*ms}, *most, {}, *acked);
        made.have = *have;
        return made;
    }
    if (names(command, publish_batch)) {
        std::string_view rest = command.substr(publish_batch.size());
        const auto session = take_word(rest);
        const auto sequence = take_number<std::uint64_t>(rest);
        if (!session || !sequence || *sequence == 0 || !rest.empty()) {
            return make_request(kind::malformed, {}, 0,
                                "publish_batch takes a session (1 to 64 letters, digits, '-', '_' or '.') and the "
                                "batch's sequence number (from 1), e.g. 'plugin_command: publish_batch 5f3a 1', "
                                "then the events, one per frame");
        }
        auto made = make_request(kind::publish_batch, {}, 0, {}, *sequence);
        made.session = *session;
        return made;
    }
    if (names(command, ack)) {
        std::string_view rest = command.substr(ack.size());
        const auto acked = take_number<std::uint64_t>(rest);
        if (!acked || !rest.empty()) {
            return make_request(kind::malformed, {}, 0,
                                "ack takes the number of the last event processed, e.g. 'plugin_command: ack 42'");
        }
        return make_request(kind::ack, {}, 1, {}, *acked);
    }
    if (names(command, next_msg_wait)) {
        std::string_view rest = command.substr(next_msg_wait.size());
        const auto ms = take_number<long long>(rest);
        if (!ms || !rest.empty() || *ms < 0 || *ms > longest_wait.count()) {
            return make_request(kind::malformed, {}, 0,
                                "next_msg_wait takes one whole number of milliseconds (0 to 3600000)");
        }
        return make_request(kind::next_wait, std::chrono::milliseconds{*ms});
    }
    if (names(command, next_msgs)) {
        std::string_view rest = command.substr(next_msgs.size());
        const auto most = take_number<std::size_t>(rest);
        const auto ms = rest.empty() ? std::optional<long long>{0} : take_number<long long>(rest);
        if (!most || *most == 0 || *most > largest_batch || !ms || !rest.empty() || *ms < 0 ||
            *ms > longest_wait.count()) {
            return make_request(kind::malformed, {}, 0,
                                "next_msgs takes the most events to return (1 to 100000) and an optional wait in "
                                "milliseconds (0 to 3600000), e.g. 'plugin_command: next_msgs 100 500'");
        }
        return make_request(kind::next_batch, std::chrono::milliseconds{*ms}, *most);
    }
    return make_request(kind::unknown_command, {}, 0,
                        "unknown command; the commands are next_msg, next_msg_wait <ms>, next_msgs <max> [<ms>], "
                        "fetch <max> <ms> <ack>, ack <ack>, publish_batch <session> <sequence>, ping, manifest "
                        "and quit");
}

} // namespace event_engine::detail::protocol
