#pragma once
// Small ZeroMQ helpers shared by the engine and the plugin runtime.

#include "event_engine/detail/wire/byte_buffer.hpp"
#include "event_engine/detail/wire/control.hpp"
#include "event_engine/errors.hpp"

#include <zmq.hpp>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <pthread.h>
#include <string>
#include <string_view>

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

inline void set_thread_name(std::string_view name) noexcept
{
    // Linux limits thread names to 15 characters.
    char shortened[16] = {};
    name.copy(shortened, sizeof shortened - 1);
    ::pthread_setname_np(::pthread_self(), shortened);
}

} // namespace event_engine::detail
