#pragma once
// The two ways to build the NATS bridge, as for the core (event_engine/detail/config.hpp;
// docs/nats.md, "Separately compiled mode"):
//
// - header-only (the default): the bridge's untyped back end (the *.ipp files beside their
//   headers in this folder) is included by those headers and is `inline`, so a translation
//   unit that includes event_engine/nats/bridge.hpp compiles it, and includes <nats/nats.h>;
// - compiled: with EVENT_ENGINE_NATS_SEPARATE_COMPILATION defined (the CMake target
//   event_engine::nats_compiled defines it, with EVENT_ENGINE_SEPARATE_COMPILATION, for its
//   users), the headers a user's file includes declare that back end and stop there, and
//   src/event_engine_nats.cpp compiles it once, into the library: no user file includes
//   <nats/nats.h>.
//
// EVENT_ENGINE_NATS_DECL marks those definitions: `inline` in the first mode, nothing in the
// second. The typed front (bridge<subscribes<...>, publishes<...>>) is in headers either way.

#if defined(EVENT_ENGINE_NATS_SEPARATE_COMPILATION)
#define EVENT_ENGINE_NATS_DECL
#else
#define EVENT_ENGINE_NATS_DECL inline
#endif
