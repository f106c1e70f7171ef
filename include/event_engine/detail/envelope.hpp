#pragma once
// What moves between plugins inside the process: an event as a typed object, never as
// bytes unless something outside the process needs bytes (docs/design.md, "In-process
// delivery"). One envelope per subscriber, all sharing the one immutable event:
//   - a small trivially copyable event (a few scalars) is copied into the envelope, which
//     costs less than sharing it;
//   - any other event is built once (moved in when published as an rvalue) and shared,
//     immutable, by every subscriber: a 1 MiB image is never copied;
//   - the frame (topic + encoded payload) is there only when a subscriber outside the
//     process (an external plugin, a TCP subscriber) needs bytes, encoded once by the
//     publisher, or when the event came from outside (its frame as it arrived).
// Delivery marks (delivery_marks.hpp) travel in the same queues, in order with the events.

#include "event_engine/event.hpp"

#include <zmq.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace event_engine::detail {

/// An encoded event (topic + payload) as one immutable ZeroMQ frame, shared by every
/// subscriber outside the process. Only ever read (zmq_msg_copy would write to it).
using shared_frame = std::shared_ptr<const zmq::message_t>;

/// Events at most this big (and trivially copyable) travel inside the envelope.
inline constexpr std::size_t inline_event_size = 32;

template <class E>
inline constexpr bool stored_inline_v =
    std::is_trivially_copyable_v<E> && sizeof(E) <= inline_event_size && alignof(E) <= alignof(std::uint64_t);

struct envelope {
    enum class kind : std::uint8_t {
        event, // an event of the application's list
        bad,   // an event from outside the process whose payload did not decode (the reason in `object`)
        mark,  // a delivery mark: `index` is the tracker's plugin index, `mark` its number
    };

    kind what = kind::event;
    std::uint16_t local = 0;  // the event's position in the receiving plugin's subscriptions (set per subscriber)
    std::uint32_t index = 0;  // the event's position in the application's list (mark: the tracker's index)
    std::uint64_t mark = 0;
    alignas(std::uint64_t) std::byte small[inline_event_size]{};
    std::shared_ptr<const void> object; // a shared event, or (bad) its decode failure as a std::string
    shared_frame frame;

    /// Takes the event in: copied inline when small and trivially copyable, else built once and shared.
    template <class E>
    void hold(E&& event)
    {
        using T = std::remove_cvref_t<E>;
        if constexpr (stored_inline_v<T>) {
            std::memcpy(small, static_cast<const void*>(&event), sizeof(T));
        } else {
            object = std::make_shared<const T>(std::forward<E>(event));
        }
    }

    /// The event held (hold<E>() was called for this E).
    template <class E>
    [[nodiscard]] const E& get() const noexcept
    {
        if constexpr (stored_inline_v<E>) {
            return *std::launder(reinterpret_cast<const E*>(small));
        } else {
            return *static_cast<const E*>(object.get());
        }
    }

    [[nodiscard]] std::string_view frame_bytes() const noexcept
    {
        return frame ? std::string_view{static_cast<const char*>(frame->data()), frame->size()} : std::string_view{};
    }

    /// What it weighs against a byte bound: its frame (external plugins' queues hold frames).
    [[nodiscard]] std::size_t bytes() const noexcept { return frame ? frame->size() : 0; }

    [[nodiscard]] bool is_event() const noexcept { return what != kind::mark; }
};

// ThreadSanitizer does not see libzmq's queues: it is told that what a message's free
// function releases (on libzmq's I/O thread) was handed over by the thread that made it.
#if defined(__SANITIZE_THREAD__)
#define EVENT_ENGINE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EVENT_ENGINE_TSAN 1
#endif
#endif
#ifdef EVENT_ENGINE_TSAN
extern "C" void __tsan_acquire(void* address);
extern "C" void __tsan_release(void* address);
#endif

/// A ZeroMQ message of @p frame for a socket: a small one copied, a large one pointing
/// into the shared frame (which it keeps alive), so an image is never copied.
inline zmq::message_t message_of(const shared_frame& frame)
{
    if (frame->size() <= 4096) return zmq::message_t{frame->data(), frame->size()};
    auto* keep = new shared_frame{frame};
#ifdef EVENT_ENGINE_TSAN
    __tsan_release(keep);
#endif
    return zmq::message_t{const_cast<void*>(frame->data()), frame->size(),
                          [](void*, void* hint) {
#ifdef EVENT_ENGINE_TSAN
                              __tsan_acquire(hint);
#endif
                              delete static_cast<shared_frame*>(hint);
                          },
                          keep};
}

/// @p message as a shared frame, without copying it.
inline shared_frame share_frame(zmq::message_t&& message)
{
    return std::make_shared<const zmq::message_t>(std::move(message));
}

} // namespace event_engine::detail
