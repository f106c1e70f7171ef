#pragma once
// The definitions of zap_handler (detail/security/zap_handler.hpp): included by that header in the
// header-only mode, compiled once into event_engine::compiled otherwise
// (src/event_engine.cpp; docs/design.md, "Separately compiled mode").

#include "event_engine/detail/security/zap_handler.hpp"

#include "event_engine/detail/endpoints/log_throttle.hpp"
#include "event_engine/detail/endpoints/sockets.hpp"
#include "event_engine/detail/runtime/wake_pipe.hpp"
#include "event_engine/log.hpp"

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace event_engine::detail {

EVENT_ENGINE_DECL zap_handler::zap_handler(zmq::context_t& context, key_table table)
    : table_{std::move(table)}, socket_{context, zmq::socket_type::rep}
{
    socket_.set(zmq::sockopt::linger, 0);
    bind_or_throw(socket_, "inproc://zeromq.zap.01", "engine's ZAP (authentication) handler");
    thread_ = std::thread{[this] {
        set_thread_name("ee-zap");
        serve();
    }};
}

EVENT_ENGINE_DECL zap_handler::~zap_handler()
{
    stop_.signal();
    if (thread_.joinable()) thread_.join();
    for (auto& [domain, throttle] : refusals_) throttle.flush(log_level::warn, "CURVE", refused_what(domain));
}

EVENT_ENGINE_DECL void zap_handler::serve() noexcept
{
    try {
        for (;;) {
            zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, stop_.read_fd(), ZMQ_POLLIN, 0}};
            detail::poll(items, 2, std::chrono::milliseconds{-1});
            if (items[1].revents & ZMQ_POLLIN) return;
            if (items[0].revents & ZMQ_POLLIN) answer_one();
        }
    } catch (const std::exception& failure) {
        // The context is shutting down; nothing more to authenticate.
        detail::log(log_level::debug, "ZAP handler ended: {}", failure.what());
    }
}

EVENT_ENGINE_DECL void zap_handler::answer_one()
{
    std::vector<zmq::message_t> request;
    if (!zmq::recv_multipart(socket_, std::back_inserter(request), zmq::recv_flags::dontwait)) return;
    // [version, request id, domain, address, routing id, mechanism, credentials...];
    // anything else is refused, but still answered (a REP socket must reply).
    const auto part = [&](std::size_t i) {
        return i < request.size() ? std::string{frame_view(request[i])} : std::string{};
    };
    const std::string domain = part(2);
    const std::string address = part(3);
    std::string user;
    bool allowed = false;
    if (request.size() >= 7 && part(5) == "CURVE" && request[6].size() == 32) {
        std::array<char, 41> z85{};
        zmq_z85_encode(z85.data(), request[6].data<std::uint8_t>(), 32);
        if (const auto endpoint = table_.find(domain); endpoint != table_.end()) {
            if (const auto key = endpoint->second.find(z85.data()); key != endpoint->second.end()) {
                allowed = true;
                user = key->second;
                // On the publish port each connection gets a User-Id of its own
                // ("publisher/<i>#<n>"): the proxy counts refusals per connection, and a
                // new connection with the same key may get a closed one's descriptor
                // while that one's last frames are still being read.
                if (domain == "publish") user += "#" + std::to_string(++publish_connections_);
            }
        }
    }
    if (!allowed) {
        ++refused_;
        // The summary names the endpoint: the running totals are per endpoint.
        refusals_[domain].note(log_level::warn, "CURVE", refused_what(domain), [&] {
            return "CURVE: refused a connection from " + address + " to " + describe(domain) +
                   ": its key is not listed for it (docs/security.md)";
        });
    }
    std::vector<zmq::message_t> reply;
    reply.emplace_back(std::string_view{"1.0"});
    if (request.size() > 1) reply.push_back(std::move(request[1]));
    else reply.emplace_back();
    reply.emplace_back(std::string_view{allowed ? "200" : "400"});
    reply.emplace_back(std::string_view{allowed ? "OK" : "key not authorized"});
    reply.emplace_back(user.data(), user.size());
    reply.emplace_back();
    zmq::send_multipart(socket_, reply);
}

EVENT_ENGINE_DECL std::string zap_handler::describe(const std::string& domain)
{
    if (domain.starts_with("plugin/")) return "the port of external plugin '" + domain.substr(7) + "'";
    return "the " + domain + " port";
}

EVENT_ENGINE_DECL std::string zap_handler::refused_what(const std::string& domain)
{
    return "connections to " + describe(domain) + " refused";
}

EVENT_ENGINE_DECL void make_curve_server(zmq::socket_t& socket, const std::string& secret_key_z85,
                                         const std::string& domain)
{
    socket.set(zmq::sockopt::curve_server, 1);
    socket.set(zmq::sockopt::curve_secretkey, secret_key_z85);
    socket.set(zmq::sockopt::zap_domain, domain);
}

} // namespace event_engine::detail
