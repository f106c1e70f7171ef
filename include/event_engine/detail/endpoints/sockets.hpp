#pragma once
// Small ZeroMQ helpers shared by the engine and the plugin runtime.

#include "event_engine/byte_buffer.hpp"
#include "event_engine/detail/wire/control.hpp"
#include "event_engine/errors.hpp"

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <pthread.h>
#include <string>
#include <string_view>
#include <vector>

namespace event_engine::detail {

/// Binds @p socket, turning ZeroMQ's errno into an error that names the endpoint and its role.
inline void bind_or_throw(zmq::socket_t& socket, const std::string& endpoint, std::string_view role)
{
    try {
        socket.bind(endpoint);
    } catch (const zmq::error_t& failure) {
        throw bind_error{endpoint, "event_engine: cannot bind the " + std::string{role} + " to " + endpoint + ": " +
                                       failure.what()};
    }
}

/// zmq::poll, except that a wait interrupted by a signal (EINTR: SIGINT/SIGTERM under
/// stop_on_signals, or any other handled signal) returns 0 with nothing ready instead
/// of throwing. Every caller loops and re-checks its conditions (the stop flag first).
inline int poll(zmq::pollitem_t* items, std::size_t count, std::chrono::milliseconds timeout)
{
    try {
        return zmq::poll(items, count, timeout);
    } catch (const zmq::error_t& failure) {
        if (failure.num() != EINTR) throw;
        for (std::size_t i = 0; i < count; ++i) items[i].revents = 0;
        return 0;
    }
}

inline std::string_view frame_view(const zmq::message_t& frame) noexcept
{
    return {static_cast<const char*>(frame.data()), frame.size()};
}

inline bool is_control_frame(const zmq::message_t& frame) noexcept
{
    return frame_view(frame).starts_with(control_prefix);
}

/// Frames up to this size are copied into ZeroMQ's message; larger ones hand over
/// their buffer, so a multi-MiB image is never copied a second time.
inline constexpr std::size_t copy_threshold = 4096;

inline zmq::message_t take_frame(byte_buffer& buffer)
{
    if (buffer.size() <= copy_threshold) {
        zmq::message_t frame{buffer.data(), buffer.size()};
        buffer.clear();
        return frame;
    }
    const auto size = buffer.size();
    std::byte* storage = buffer.release();
    return zmq::message_t{storage, size, [](void* data, void*) { delete[] static_cast<std::byte*>(data); }, nullptr};
}

/// Watches the connections of @p watched (accepted, disconnected) through @p monitor, a
/// PAIR socket, over @p endpoint (an inproc:// name of its own); @p what names the watched
/// port in the error thrown if libzmq cannot. Called before @p watched binds, so that no
/// connection is missed. No limit on the monitor's queue: libzmq's I/O thread sends
/// monitor events with a blocking send, and a full monitor pipe would stop all of ZeroMQ's
/// I/O; the caller reads it (next_connection_event) in every wait instead.
inline void monitor_connections(zmq::socket_t& watched, zmq::socket_t& monitor, const std::string& endpoint,
                                std::string_view what)
{
    if (zmq_socket_monitor(watched.handle(), endpoint.c_str(), ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0)
        throw error{"event_engine: cannot monitor " + std::string{what} + ": " + zmq_strerror(zmq_errno())};
    monitor.set(zmq::sockopt::linger, 0);
    monitor.set(zmq::sockopt::rcvhwm, 0);
    monitor.connect(endpoint);
}

/// One connection event of a monitor_connections() monitor: the descriptor accepted or
/// disconnected.
struct connection_event {
    bool accepted = false; ///< else disconnected
    int fd = -1;
};

/// The next connection event queued on @p monitor, without waiting; nullopt once none is.
/// (A monitor event is a frame of a 16-bit event id and a 32-bit value, the descriptor,
/// then one of the endpoint; anything else is skipped.)
inline std::optional<connection_event> next_connection_event(zmq::socket_t& monitor)
{
    for (;;) {
        std::vector<zmq::message_t> event;
        if (!zmq::recv_multipart(monitor, std::back_inserter(event), zmq::recv_flags::dontwait)) return std::nullopt;
        if (event.empty() || event[0].size() < sizeof(std::uint16_t) + sizeof(std::uint32_t)) continue;
        std::uint16_t id = 0;
        std::uint32_t value = 0;
        std::memcpy(&id, event[0].data(), sizeof id);
        std::memcpy(&value, event[0].data<char>() + sizeof id, sizeof value);
        if (id != ZMQ_EVENT_ACCEPTED && id != ZMQ_EVENT_DISCONNECTED) continue;
        return connection_event{id == ZMQ_EVENT_ACCEPTED, static_cast<int>(value)};
    }
}

inline void set_thread_name(std::string_view name) noexcept
{
    // Linux limits thread names to 15 characters.
    char shortened[16] = {};
    name.copy(shortened, sizeof shortened - 1);
    ::pthread_setname_np(::pthread_self(), shortened);
}

} // namespace event_engine::detail
