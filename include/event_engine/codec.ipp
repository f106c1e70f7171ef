#pragma once
// The definitions of codec.hpp's untyped helpers: included by that header in the
// header-only mode, compiled once into event_engine::compiled otherwise
// (src/event_engine.cpp; docs/design.md, "Separately compiled mode").

#include "event_engine/codec.hpp"

#include "event_engine/errors.hpp"

#include <cstddef>
#include <string>

namespace event_engine::detail {

[[noreturn, gnu::cold, gnu::noinline]] EVENT_ENGINE_DECL void throw_payload_size_mismatch(std::size_t expected,
                                                                                          std::size_t got)
{
    throw decode_error{"trivial_codec expected " + std::to_string(expected) + " payload bytes, got " +
                       std::to_string(got)};
}

} // namespace event_engine::detail
