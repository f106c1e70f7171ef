# event_engine_find_libnats(<out-var>): finds libnats (nats.c) through pkg-config
# (libnats.pc), else find_library/find_path, and sets <out-var> to an imported target
# that links it (event_engine_libnats), or leaves it empty. Used by cmake/nats.cmake and
# by the installed event_engine_natsConfig.cmake, so a consumer finds what the build found.
function(event_engine_find_libnats out)
    if(NOT TARGET event_engine_libnats)
        find_package(PkgConfig QUIET)
        set(libraries "")
        set(includes "")
        if(PkgConfig_FOUND)
            pkg_check_modules(EVENT_ENGINE_PC_LIBNATS QUIET libnats)
        endif()
        if(EVENT_ENGINE_PC_LIBNATS_FOUND)
            find_library(EVENT_ENGINE_LIBNATS_LIBRARY NAMES nats HINTS ${EVENT_ENGINE_PC_LIBNATS_LIBRARY_DIRS})
            find_path(EVENT_ENGINE_LIBNATS_INCLUDE_DIR nats/nats.h HINTS ${EVENT_ENGINE_PC_LIBNATS_INCLUDE_DIRS}/..
                      ${EVENT_ENGINE_PC_LIBNATS_INCLUDE_DIRS})
        else()
            find_library(EVENT_ENGINE_LIBNATS_LIBRARY NAMES nats)
            find_path(EVENT_ENGINE_LIBNATS_INCLUDE_DIR nats/nats.h)
        endif()
        if(NOT EVENT_ENGINE_LIBNATS_LIBRARY OR NOT EVENT_ENGINE_LIBNATS_INCLUDE_DIR)
            set(${out} "" PARENT_SCOPE)
            return()
        endif()
        add_library(event_engine_libnats INTERFACE IMPORTED GLOBAL)
        set_target_properties(event_engine_libnats PROPERTIES
            INTERFACE_LINK_LIBRARIES "${EVENT_ENGINE_LIBNATS_LIBRARY}"
            INTERFACE_INCLUDE_DIRECTORIES "${EVENT_ENGINE_LIBNATS_INCLUDE_DIR}")
    endif()
    set(${out} event_engine_libnats PARENT_SCOPE)
endfunction()
