# The check that every public header compiles on its own (EVENT_ENGINE_HEADER_CHECK; tests/headers
# for the core, tests/nats for the NATS bridge): one generated translation unit per header,
# containing nothing but `#include <that header>`, built with the project's warnings. A header
# that forgets one of its own #includes then breaks the build.
#
#     event_engine_add_header_check(<target> DIRECTORY <dir> [EXCLUDE <subdir>...] [DEFINITIONS]
#                                   LIBRARIES <lib>...)
#
# defines the OBJECT library <target> of every *.hpp under include/<dir>, in subfolders too but
# not under include/<dir>/<subdir> for each EXCLUDE, and with DEFINITIONS every *.ipp too (the
# definition files beside their headers: on their own only in the separately compiled mode,
# where no header includes them), linked with LIBRARIES and
# event_engine_warnings. The list is globbed with CONFIGURE_DEPENDS, so a header added or moved
# is checked at the next build without re-running cmake by hand; file(CONFIGURE) rewrites a
# generated source only when its content changes, so re-configuring recompiles nothing.
function(event_engine_add_header_check target)
    cmake_parse_arguments(PARSE_ARGV 1 arg "DEFINITIONS" "DIRECTORY" "EXCLUDE;LIBRARIES")
    if(NOT arg_DIRECTORY OR NOT arg_LIBRARIES OR arg_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "event_engine_add_header_check(${target}): needs DIRECTORY and LIBRARIES "
                            "(unparsed: ${arg_UNPARSED_ARGUMENTS})")
    endif()
    set(include_dir ${PROJECT_SOURCE_DIR}/include)
    set(patterns ${include_dir}/${arg_DIRECTORY}/*.hpp)
    if(arg_DEFINITIONS)
        list(APPEND patterns ${include_dir}/${arg_DIRECTORY}/*.ipp)
    endif()
    file(GLOB_RECURSE headers CONFIGURE_DEPENDS RELATIVE ${include_dir} ${patterns})
    foreach(excluded IN LISTS arg_EXCLUDE)
        list(FILTER headers EXCLUDE REGEX "^${arg_DIRECTORY}/${excluded}/")
    endforeach()
    list(SORT headers)
    if(NOT headers)
        message(FATAL_ERROR "event_engine_add_header_check(${target}): no headers under ${include_dir}/${arg_DIRECTORY}")
    endif()

    set(sources "")
    foreach(header IN LISTS headers)
        # event_engine/detail/meta/type_list.hpp -> <target>/event_engine_detail_meta_type_list_hpp.cpp
        string(MAKE_C_IDENTIFIER "${header}" stem)
        set(source ${CMAKE_CURRENT_BINARY_DIR}/${target}/${stem}.cpp)
        file(CONFIGURE OUTPUT ${source} CONTENT "#include <${header}>\n" @ONLY)
        list(APPEND sources ${source})
    endforeach()
    add_library(${target} OBJECT ${sources})
    target_link_libraries(${target} PRIVATE ${arg_LIBRARIES} event_engine_warnings)
endfunction()
