#pragma once
// Shared by the fuzz targets: an invariant check that stops the run (libFuzzer then
// writes the input as a crash artifact), and byte buffers whose end is the end of a
// heap allocation, so AddressSanitizer reports a read of even one byte too many.

#include <event_engine/byte_buffer.hpp>
#include <event_engine/codec.hpp>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

#define FUZZ_CHECK(condition)                                                                                          \
    do {                                                                                                               \
        if (!(condition)) ::fuzz_support::fail(#condition, __FILE__, __LINE__);                                        \
    } while (false)

namespace fuzz_support {

[[noreturn]] inline void fail(const char* condition, const char* file, int line)
{
    std::fprintf(stderr, "\n*** fuzz invariant broken at %s:%d: %s\n", file, line, condition);
    std::fflush(stderr);
    std::abort();
}

/// @p size bytes copied to the end of a fresh heap block, @p offset bytes after its
/// start: offset 1, 2, 3, ... gives payloads that are not aligned for any type wider
/// than a byte, and nothing readable follows the last byte.
class exact_copy {
public:
    exact_copy(std::span<const std::byte> bytes, std::size_t offset)
        : block_{new std::byte[offset + bytes.size()]}, view_{block_.get() + offset, bytes.size()}
    {
        if (!bytes.empty()) std::memcpy(block_.get() + offset, bytes.data(), bytes.size());
    }
    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return view_; }
    [[nodiscard]] std::string_view text() const noexcept
    {
        return {reinterpret_cast<const char*>(view_.data()), view_.size()};
    }

private:
    std::unique_ptr<std::byte[]> block_;
    std::span<const std::byte> view_;
};

inline bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) noexcept
{
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

/// Encodes @p event into @p frame after @p topic, as publishing does, checks that the
/// codec wrote @p payload_size bytes behind an untouched topic, and returns them (at
/// whatever alignment the topic leaves). @p frame must outlive the returned span.
template <class E>
std::span<const std::byte> encode_after_topic(const E& event, std::span<const std::byte> topic,
                                              std::size_t payload_size, event_engine::byte_buffer& frame)
{
    frame.append(topic);
    event_engine::payload_writer writer{frame};
    event_engine::codec<E>::encode(event, writer);
    FUZZ_CHECK(writer.size() == payload_size);
    FUZZ_CHECK(frame.size() == topic.size() + payload_size);
    const std::span<const std::byte> written{frame.data(), frame.size()};
    FUZZ_CHECK(same_bytes(written.first(topic.size()), topic));
    return written.subspan(topic.size());
}

} // namespace fuzz_support
