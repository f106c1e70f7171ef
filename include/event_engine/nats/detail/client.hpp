#pragma once
// Thin C++ over libnats (nats.c 3.4): ownership of its objects, its error texts,
// the bridge's message headers. Included by the back end's *.ipp files and session.hpp only,
// so that in the compiled mode no user file includes <nats/nats.h>.

#include "event_engine/errors.hpp"
#include "event_engine/nats/detail/message.hpp"
#include "event_engine/nats/detail/subjects.hpp"

#include <nats/nats.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace event_engine::nats::detail {

struct message_deleter {
    void operator()(natsMsg* message) const noexcept { natsMsg_Destroy(message); }
};
using message_ptr = std::unique_ptr<natsMsg, message_deleter>;

struct options_deleter {
    void operator()(natsOptions* options) const noexcept { natsOptions_Destroy(options); }
};
using options_ptr = std::unique_ptr<natsOptions, options_deleter>;

// The bridge's headers. Values are text: the topic is hex, so binary topics travel intact.
inline constexpr const char* origin_header = "Event-Engine-Origin"; // the sending instance
inline constexpr const char* run_header = "Event-Engine-Run";       // that instance's run (random per start)
inline constexpr const char* seq_header = "Event-Engine-Seq";       // 1, 2, ... per run, over all its subjects
inline constexpr const char* topic_header = "Event-Engine-Topic";   // the event's topic bytes, lowercase hex
inline constexpr const char* msg_id_header = "Nats-Msg-Id";         // JetStream duplicate suppression
inline constexpr const char* marker_header = "Event-Engine-Marker"; // a sequence marker: "periodic" or "final"
// clang-format off
inline constexpr const char* marker_subject = "_ee.marker";         // after `<prefix>.`: never an event's subject (two tokens)
// clang-format on

/// libnats' text for @p status, with the thread's last error detail when there is one.
inline std::string status_text(natsStatus status)
{
    std::string text = natsStatus_GetText(status);
    natsStatus last = NATS_OK;
    const char* detail = nats_GetLastError(&last);
    // The detail often repeats the text after a source location: add it only when it says more.
    if (detail != nullptr && *detail != '\0' && last == status &&
        std::string_view{detail}.find(text) == std::string_view::npos) {
        text += std::string{" ("} + detail + ")";
    }
    return text;
}

/// What a person should check when connecting failed with @p status: where no server answered,
/// whether one runs there; where one answered and refused, what it refused (TLS or credentials).
/// @p tls: this client asked for TLS; @p client_cert: it offers a certificate; @p credentials: it
/// offers a user/password, token or .creds file.
inline std::string connect_failure_hint(natsStatus status, bool tls, bool client_cert, bool credentials)
{
    switch (status) {
    case NATS_SSL_ERROR:
        return "the TLS handshake failed: the server's certificate must be signed by a CA in bridge_options::ca_file "
               "(or the system's trust store) and name the URL's host";
    case NATS_SECURE_CONNECTION_WANTED:
        return "this bridge requires TLS (bridge_options::tls, ca_file, cert_file or a tls:// URL) but the server does "
               "not offer it: give the server a tls { } block, or use nats:// URLs without TLS options";
    case NATS_SECURE_CONNECTION_REQUIRED: return "the server requires TLS: use tls:// URLs and bridge_options::ca_file";
    case NATS_CONNECTION_AUTH_FAILED:
    case NATS_NOT_PERMITTED:
        return credentials
                   ? "the server refused this bridge's credentials (bridge_options::user/password, token or "
                     "credentials_file)"
                   : "the server requires credentials and this bridge gives none (bridge_options::user/password, "
                     "token or credentials_file)";
    case NATS_PROTOCOL_ERROR:
    case NATS_CONNECTION_CLOSED:
    case NATS_IO_ERROR:
        if (tls) { // a server that verifies client certificates closes the connection after the handshake
            return client_cert
                       ? "the server closed the connection after the TLS handshake: it may have refused this "
                         "bridge's certificate; bridge_options::cert_file must be signed by a CA the server trusts"
                       : "the server closed the connection after the TLS handshake: if it verifies client "
                         "certificates (tls { verify: true }), give bridge_options::cert_file and key_file";
        }
        break;
    case NATS_TIMEOUT: // connected at TCP level, but no NATS greeting (INFO) came
        return "something accepted the TCP connection but did not speak NATS (no INFO from it within "
               "bridge_options::connect_timeout): is this a nats-server's client port, not another service's or its "
               "cluster, leaf node or monitoring port? (or a server too loaded to answer in time)";
    default: break;
    }
    return "is nats-server running there? bridge_options::retry_initial_connect keeps trying instead";
}

/// Why the file at @p path cannot be read, or nullopt if it can (libnats reads a .creds file
/// only when it connects, and then reports a missing one as a connection failure).
inline std::optional<std::string> unreadable(const std::string& path)
{
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) return std::string{std::strerror(errno)};
    std::fclose(file);
    return std::nullopt;
}

inline std::string to_hex(std::string_view bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    text.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        text += digits[byte >> 4];
        text += digits[byte & 0x0f];
    }
    return text;
}

/// The bytes of lowercase or uppercase hex @p text; nullopt if it is not hex.
inline std::optional<std::string> from_hex(std::string_view text)
{
    if (text.size() % 2 != 0) return std::nullopt;
    const auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string bytes;
    bytes.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        const int high = nibble(text[i]);
        const int low = nibble(text[i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        bytes += static_cast<char>((high << 4) | low);
    }
    return bytes;
}

/// A decimal unsigned number, nothing else; nullopt otherwise.
inline std::optional<std::uint64_t> parse_number(std::string_view text)
{
    if (text.empty() || text.size() > 19) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
}

/// The natsMsg that @p message holds (message.hpp keeps it opaque).
inline natsMsg* raw_of(const received_ptr& message) noexcept { return reinterpret_cast<natsMsg*>(message.get()); }

/// @p message's ownership, as message.hpp's opaque handle.
inline received_ptr to_received(message_ptr message) noexcept
{
    return received_ptr{reinterpret_cast<received_message*>(message.release())};
}

/// @p message's ownership, back as a natsMsg.
inline message_ptr from_received(received_ptr message) noexcept
{
    return message_ptr{reinterpret_cast<natsMsg*>(message.release())};
}

/// The value of header @p key of @p message, if present.
inline std::optional<std::string_view> header(natsMsg* message, const char* key)
{
    const char* value = nullptr;
    if (natsMsgHeader_Get(message, key, &value) != NATS_OK || value == nullptr) return std::nullopt;
    return std::string_view{value};
}

/// A new message on @p subject (with @p reply, may be null) carrying a copy of @p payload.
inline message_ptr make_message(const std::string& subject, const char* reply, std::span<const std::byte> payload)
{
    natsMsg* raw = nullptr;
    const natsStatus status = natsMsg_Create(
        &raw, subject.c_str(), reply, reinterpret_cast<const char*>(payload.data()), static_cast<int>(payload.size()));
    if (status != NATS_OK) {
        throw error{"event_engine::nats: cannot create a message on " + subject + ": " + status_text(status)};
    }
    return message_ptr{raw};
}

inline void set_header(natsMsg* message, const char* key, const std::string& value)
{
    const natsStatus status = natsMsgHeader_Set(message, key, value.c_str());
    if (status != NATS_OK) {
        throw error{std::string{"event_engine::nats: cannot set the message header "} + key + ": " +
                    status_text(status)};
    }
}

/// Copies every header of @p from to @p to.
inline void copy_headers(natsMsg* from, natsMsg* to)
{
    const char** keys = nullptr;
    int count = 0;
    if (natsMsgHeader_Keys(from, &keys, &count) != NATS_OK) return;
    for (int i = 0; i < count; ++i) {
        if (const auto value = header(from, keys[i])) set_header(to, keys[i], std::string{*value});
    }
    std::free(static_cast<void*>(keys));
}

} // namespace event_engine::nats::detail
