#pragma once
// Turning app_config::bind_address (an IPv4 or IPv6 literal, a host name, or "*")
// into ZeroMQ TCP endpoints, and telling loopback from the rest (docs/security.md:
// binding beyond loopback without keys is refused).

#include "event_engine/errors.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace event_engine::detail {

/// A bind address in the form ZeroMQ wants, and what it is.
struct bind_host {
    std::string host;      // "127.0.0.1", "[::1]", "*"
    bool ipv6 = false;     // the socket needs ZMQ_IPV6
    bool loopback = false; // reachable from this machine only
};

inline bool is_ipv4_loopback(const in_addr& address) noexcept { return (ntohl(address.s_addr) >> 24) == 127; }

/// Resolves @p address: "*" (all interfaces), an IPv4 literal, an IPv6 literal with
/// or without brackets ("::1", "[::1]"), or a host name (resolved once, first
/// address found: "localhost" gives 127.0.0.1 on Debian).
/// A network interface's name ("lo") is passed to ZeroMQ as it is.
/// @throws bind_error if it is none of these.
inline bind_host resolve_bind_host(std::string_view address)
{
    if (address == "*") return {"*", false, false};
    std::string text{address};
    if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    in_addr v4{};
    if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return {text, false, is_ipv4_loopback(v4)};
    in6_addr v6{};
    if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
        return {"[" + text + "]", true, IN6_IS_ADDR_LOOPBACK(&v6) != 0};
    }
    // A network interface's name, as ZeroMQ takes it ("lo", "eth0").
    if (const unsigned index = ::if_nametoindex(text.c_str()); index != 0) return {text, false, text == "lo"};
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(text.c_str(), nullptr, &hints, &found); rc != 0 || found == nullptr) {
        throw bind_error{text, "event_engine: cannot bind to '" + text +
                                   "': it is neither an IP address, \"*\", a network interface, nor a host name "
                                   "this machine can resolve (" +
                                   std::string{::gai_strerror(rc)} + ")"};
    }
    bind_host resolved;
    char buffer[INET6_ADDRSTRLEN] = {};
    if (found->ai_family == AF_INET6) {
        const auto& in6 = reinterpret_cast<const sockaddr_in6*>(found->ai_addr)->sin6_addr;
        ::inet_ntop(AF_INET6, &in6, buffer, sizeof buffer);
        // Appended, not "[" + std::string{...}: g++ 12 at -O2 warns -Wrestrict on that, wrongly
        // (GCC bug 105329), which a user's -Werror build would stop at.
        std::string host{"["};
        host.append(buffer).append("]");
        resolved = {std::move(host), true, IN6_IS_ADDR_LOOPBACK(&in6) != 0};
    } else {
        const auto& in4 = reinterpret_cast<const sockaddr_in*>(found->ai_addr)->sin_addr;
        ::inet_ntop(AF_INET, &in4, buffer, sizeof buffer);
        resolved = {buffer, false, is_ipv4_loopback(in4)};
    }
    ::freeaddrinfo(found);
    return resolved;
}

inline std::string tcp_endpoint(const bind_host& host, std::uint16_t port)
{
    // Port 0 asks ZeroMQ for any free port.
    return "tcp://" + host.host + ":" + (port == 0 ? std::string{"*"} : std::to_string(port));
}

/// The port of a bound TCP endpoint ("tcp://127.0.0.1:5559" gives 5559).
inline std::uint16_t port_of_endpoint(std::string_view endpoint) noexcept
{
    const auto colon = endpoint.rfind(':');
    std::uint16_t port = 0;
    if (colon != std::string_view::npos) {
        std::from_chars(endpoint.data() + colon + 1, endpoint.data() + endpoint.size(), port);
    }
    return port;
}

} // namespace event_engine::detail
