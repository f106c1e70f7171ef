#pragma once
/// @file
/// The bytes of a frame being built: a growable buffer that does not zero what it grows
/// (std::vector<std::byte> would memset every new byte of a multi-MiB image) and that can
/// hand its storage to ZeroMQ without a copy. A payload_writer (codec.hpp) appends to one;
/// a codec's own tests make one to encode into.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>

namespace event_engine {

class byte_buffer {
public:
    byte_buffer() = default;

    [[nodiscard]] std::byte* data() noexcept { return data_.get(); }
    [[nodiscard]] const std::byte* data() const noexcept { return data_.get(); }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
    void clear() noexcept { size_ = 0; }

    void reserve(std::size_t wanted)
    {
        if (wanted > capacity_) [[unlikely]]
            grow(wanted);
    }

    std::span<std::byte> extend(std::size_t count)
    {
        reserve(size_ + count);
        std::span<std::byte> fresh{data_.get() + size_, count};
        size_ += count;
        return fresh;
    }

    void append(std::span<const std::byte> bytes)
    {
        if (bytes.empty()) return;
        std::memcpy(extend(bytes.size()).data(), bytes.data(), bytes.size());
    }

    /// Gives up the storage (the caller frees it with delete[]); the buffer is empty after.
    [[nodiscard]] std::byte* release() noexcept
    {
        size_ = 0;
        capacity_ = 0;
        return data_.release();
    }

private:
    // Out of line: every codec's encode appends, and growing is rare.
    [[gnu::noinline]] void grow(std::size_t wanted)
    {
        const std::size_t grown = std::max(wanted, capacity_ + capacity_ / 2);
        auto bigger = std::make_unique_for_overwrite<std::byte[]>(grown);
        if (size_ != 0) std::memcpy(bigger.get(), data_.get(), size_);
        data_ = std::move(bigger);
        capacity_ = grown;
    }

    std::unique_ptr<std::byte[]> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

} // namespace event_engine
