# The optional NATS bridge (include/event_engine/nats/, docs/nats.md): the INTERFACE target
# event_engine::nats, its tests, example and benchmark, and its own installed package
# (find_package(event_engine_nats)). Included by the top-level CMakeLists.txt when
# EVENT_ENGINE_NATS is ON; does nothing but say so where libnats is not installed
# (Debian: apt-get install libnats-dev nats-server). The core target never needs it.

# libnats (nats.c), through pkg-config (libnats.pc), else the plain library and header.
# (Debian 12's cnats CMake package names a static library it does not install, so
# find_package(cnats) fails there; cmake/event_engine_nats_libnats.cmake is the same search
# the installed package config runs.)
include(${CMAKE_CURRENT_LIST_DIR}/event_engine_nats_libnats.cmake)
event_engine_find_libnats(event_engine_nats_library)
if(NOT event_engine_nats_library)
    message(STATUS "event_engine: libnats not found, so the NATS bridge (event_engine::nats), its tests and "
                   "example are not built (Debian: apt-get install libnats-dev nats-server)")
    return()
endif()
message(STATUS "event_engine: NATS bridge event_engine::nats with ${event_engine_nats_library}")

add_library(event_engine_nats INTERFACE)
add_library(event_engine::nats ALIAS event_engine_nats)
set_target_properties(event_engine_nats PROPERTIES EXPORT_NAME nats)
target_link_libraries(event_engine_nats INTERFACE event_engine::event_engine $<BUILD_INTERFACE:${event_engine_nats_library}>)

# The bridge in the separately compiled mode (docs/nats.md, "Separately compiled mode"): its
# untyped back end (include/event_engine/nats/detail/*.ipp) compiled once into a small static
# library, on top of event_engine::compiled. Its interface defines
# EVENT_ENGINE_NATS_SEPARATE_COMPILATION, so its users' files declare that back end and do not
# include <nats/nats.h>; libnats is linked, not included.
if(TARGET event_engine_compiled)
    add_library(event_engine_nats_compiled STATIC ${PROJECT_SOURCE_DIR}/src/event_engine_nats.cpp)
    add_library(event_engine::nats_compiled ALIAS event_engine_nats_compiled)
    set_target_properties(event_engine_nats_compiled PROPERTIES EXPORT_NAME nats_compiled
                          OUTPUT_NAME event_engine_nats POSITION_INDEPENDENT_CODE ON)
    target_compile_definitions(event_engine_nats_compiled PUBLIC EVENT_ENGINE_NATS_SEPARATE_COMPILATION)
    target_link_libraries(event_engine_nats_compiled PUBLIC event_engine_nats event_engine_compiled
                          PRIVATE $<BUILD_INTERFACE:event_engine_warnings>)
    if(NOT EVENT_ENGINE_INSTALL)
        set_target_properties(event_engine_nats_compiled PROPERTIES EXCLUDE_FROM_ALL ON)
    endif()
endif()

find_program(EVENT_ENGINE_NATS_SERVER nats-server)
if(EVENT_ENGINE_BUILD_TESTS)
    add_subdirectory(${PROJECT_SOURCE_DIR}/tests/nats ${PROJECT_BINARY_DIR}/tests/nats)
    if(EXISTS ${PROJECT_SOURCE_DIR}/tests/soak/CMakeLists.txt) # the soak runner's application (scripts/soak.sh)
        add_subdirectory(${PROJECT_SOURCE_DIR}/tests/soak ${PROJECT_BINARY_DIR}/tests/soak)
    endif()
endif()
if(EVENT_ENGINE_BUILD_EXAMPLES AND EXISTS ${PROJECT_SOURCE_DIR}/examples/nats/CMakeLists.txt)
    add_subdirectory(${PROJECT_SOURCE_DIR}/examples/nats ${PROJECT_BINARY_DIR}/examples/nats)
endif()
if(EVENT_ENGINE_BUILD_BENCHMARKS AND EXISTS ${PROJECT_SOURCE_DIR}/benchmarks/nats/CMakeLists.txt)
    add_subdirectory(${PROJECT_SOURCE_DIR}/benchmarks/nats ${PROJECT_BINARY_DIR}/benchmarks/nats)
endif()

# Its own package beside event_engine's: find_package(event_engine_nats) finds event_engine
# and libnats again (the same search as above) and defines event_engine::nats.
if(EVENT_ENGINE_INSTALL)
    set(EVENT_ENGINE_NATS_CMAKE_DIR ${CMAKE_INSTALL_DATADIR}/cmake/event_engine_nats)
    install(TARGETS event_engine_nats EXPORT event_engine_natsTargets)
    if(TARGET event_engine_nats_compiled)
        install(TARGETS event_engine_nats_compiled EXPORT event_engine_natsTargets)
    endif()
    install(EXPORT event_engine_natsTargets NAMESPACE event_engine:: DESTINATION ${EVENT_ENGINE_NATS_CMAKE_DIR})
    configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/event_engine_natsConfig.cmake.in
        ${PROJECT_BINARY_DIR}/event_engine_natsConfig.cmake INSTALL_DESTINATION ${EVENT_ENGINE_NATS_CMAKE_DIR})
    # Architecture-independent only when it is headers alone (no compiled library installed).
    if(TARGET event_engine_nats_compiled)
        set(event_engine_nats_arch_independent "")
    else()
        set(event_engine_nats_arch_independent ARCH_INDEPENDENT)
    endif()
    write_basic_package_version_file(${PROJECT_BINARY_DIR}/event_engine_natsConfigVersion.cmake
        COMPATIBILITY SameMinorVersion ${event_engine_nats_arch_independent})
    install(FILES ${PROJECT_BINARY_DIR}/event_engine_natsConfig.cmake
                  ${PROJECT_BINARY_DIR}/event_engine_natsConfigVersion.cmake
                  ${CMAKE_CURRENT_LIST_DIR}/event_engine_nats_libnats.cmake
            DESTINATION ${EVENT_ENGINE_NATS_CMAKE_DIR})
endif()
