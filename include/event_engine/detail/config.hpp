#pragma once
// The two ways to build event_engine (docs/design.md, "Separately compiled mode"):
//
// - header-only (the default): the untyped back end's definitions
//   (the `.ipp` files beside their headers) are included by their declaration headers and are
//   `inline`, so every translation unit that calls app::run() compiles them;
// - compiled: with EVENT_ENGINE_SEPARATE_COMPILATION defined (the CMake target
//   event_engine::compiled defines it for its users), the declaration headers stop
//   there and src/event_engine.cpp compiles the definitions once, into the library.
//
// EVENT_ENGINE_DECL marks those definitions: `inline` in the first mode, nothing
// in the second. The typed front (app<E>, plugin<...>, codecs, dispatch) is in
// headers either way.

#if defined(EVENT_ENGINE_SEPARATE_COMPILATION)
#define EVENT_ENGINE_DECL
#else
#define EVENT_ENGINE_DECL inline
#endif
