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

#include <atomic>
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

/// An immutable value shared between threads, counted in its own allocation. Not
/// std::shared_ptr: its release reads both of its counts as one 64-bit word, which
/// ThreadSanitizer cannot pair with the 32-bit decrements of other threads (false reports
/// of every shared event), and it carries a weak count nobody here needs.
class shared_value {
public:
    shared_value() noexcept = default;

    /// A new value of type T made from @p args (braces: events are aggregates).
    template <class T, class... Args>
    [[nodiscard]] static shared_value make(Args&&... args)
    {
        return shared_value{new holder<T>{std::forward<Args>(args)...}};
    }

    shared_value(const shared_value& other) noexcept : node_{other.node_}
    {
        if (node_ != nullptr) node_->references.fetch_add(1, std::memory_order_relaxed);
    }
    shared_value(shared_value&& other) noexcept : node_{std::exchange(other.node_, nullptr)} {}
    shared_value& operator=(shared_value other) noexcept
    {
        std::swap(node_, other.node_);
        return *this;
    }
    ~shared_value() { release(node_); }

    explicit operator bool() const noexcept { return node_ != nullptr; }

    /// The value, made by make<T>() for this T.
    template <class T>
    [[nodiscard]] const T& as() const noexcept
    {
        return static_cast<const holder<T>*>(node_)->value;
    }

    /// One more reference, as a pointer for a C callback, which gives it back with release().
    [[nodiscard]] void* retain() const noexcept
    {
        node_->references.fetch_add(1, std::memory_order_relaxed);
        return node_;
    }
    static void release(void* reference) noexcept
    {
        auto* n = static_cast<node*>(reference);
        if (n != nullptr && n->references.fetch_sub(1, std::memory_order_acq_rel) == 1) n->destroy(n);
    }

private:
    struct node {
        std::atomic<std::uint32_t> references{1};
        void (*destroy)(node*) noexcept = nullptr;
    };
    template <class T>
    struct holder final : node {
        template <class... Args>
        explicit holder(Args&&... args) : value{std::forward<Args>(args)...}
        {
            destroy = [](node* n) noexcept { delete static_cast<holder*>(n); };
        }
        T value;
    };

    explicit shared_value(node* n) noexcept : node_{n} {}

    node* node_ = nullptr;
};

/// An encoded event (topic + payload) as one immutable ZeroMQ frame (a shared_value of a
/// zmq::message_t), shared by every receiver outside the process. Only ever read
/// (zmq_msg_copy would write to it).
using shared_frame = shared_value;

/// The frame a shared_frame holds.
[[nodiscard]] inline const zmq::message_t& message_in(const shared_frame& frame) noexcept
{
    return frame.as<zmq::message_t>();
}

/// Events at most this big (and trivially copyable) travel inside the envelope.
inline constexpr std::size_t inline_event_size = 32;

template <class E>
inline constexpr bool stored_inline_v = std::is_trivially_copyable_v<E> && sizeof(E) <= inline_event_size &&
                                        alignof(E) <= alignof(std::uint64_t);

struct envelope {
    enum class kind : std::uint8_t {
        event, // an event of the application's list
        bad,   // an event from outside the process whose payload did not decode (the reason in `object`)
        mark,  // a delivery mark: `index` is the tracker's plugin index, `mark` its number
    };

    kind what = kind::event;
    std::uint16_t local = 0; // the event's position in the receiving plugin's subscriptions (set per subscriber)
    std::uint32_t index = 0; // the event's position in the application's list (mark: the tracker's index)
    std::uint64_t mark = 0;
    alignas(std::uint64_t) std::byte small[inline_event_size]{};
    shared_value object; // a shared event, or (bad) its decode failure as a std::string
    shared_frame frame;

    /// Takes the event in: copied inline when small and trivially copyable, else built once and shared.
    template <class E>
    void hold(E&& event)
    {
        using T = std::remove_cvref_t<E>;
        if constexpr (stored_inline_v<T>) {
            std::memcpy(small, static_cast<const void*>(&event), sizeof(T));
        } else {
            object = shared_value::make<T>(std::forward<E>(event));
        }
    }

    /// The event held (hold<E>() was called for this E).
    template <class E>
    [[nodiscard]] const E& get() const noexcept
    {
        if constexpr (stored_inline_v<E>) {
            return *std::launder(reinterpret_cast<const E*>(small));
        } else {
            return object.template as<E>();
        }
    }

    [[nodiscard]] std::string_view frame_bytes() const noexcept
    {
        return frame ? std::string_view{static_cast<const char*>(message_in(frame).data()), message_in(frame).size()}
                     : std::string_view{};
    }

    /// What it weighs against a byte bound: its frame (external plugins' queues hold frames).
    [[nodiscard]] std::size_t bytes() const noexcept { return frame ? message_in(frame).size() : 0; }

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
    const zmq::message_t& message = message_in(frame);
    if (message.size() <= 4096) return zmq::message_t{message.data(), message.size()};
    void* keep = frame.retain();
#ifdef EVENT_ENGINE_TSAN
    __tsan_release(keep);
#endif
    return zmq::message_t{const_cast<void*>(message.data()), message.size(),
                          [](void*, void* hint) {
#ifdef EVENT_ENGINE_TSAN
                              __tsan_acquire(hint);
#endif
                              shared_value::release(hint);
                          },
                          keep};
}

/// @p message as a shared frame, without copying it.
inline shared_frame share_frame(zmq::message_t&& message)
{
    return shared_value::make<zmq::message_t>(std::move(message));
}

} // namespace event_engine::detail
