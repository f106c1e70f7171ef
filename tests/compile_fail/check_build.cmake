# Runs one compile-fail (or positive control) case: compiles its source with the
# exact command the build system would use (from the build tree's
# compile_commands.json) and judges the result. Invoked by CTest as
#   cmake -DBUILD_DIR=... -DTARGET=... -DSOURCE=... -DEXPECT=fail|success
#         [-DCOMPILER=...] [-DCOMPILER_ID=GNU|Clang] [-DMAX_LINES=40]
#         -P check_build.cmake
# Running the compiler itself, not `cmake --build`, lets the cases run in parallel (one
# build tool per tree at a time) and spares each the build tool's own checks. A failing
# case is compiled with -fsyntax-only (the errors are the front end's; nothing to
# generate); the positive control is compiled in full.
#
# EXPECT=success: passes iff the build succeeds.
# EXPECT=fail:    passes iff
#   1. the build fails,
#   2. the compiler's output matches every regex given in SOURCE by a line
#        // expect: <regex>                   (every compiler)
#        // expect(<COMPILER_ID>): <regex>   (only that compiler, e.g. expect(Clang))
#      and its first error line (the first line with "error: ") matches every
#        // expect-first-error: <regex>
#        // expect-first-error(<COMPILER_ID>): <regex>
#      so that the message a reader sees first is the rule's sentence, not a
#      consequence of it (CMake regex syntax, no ';'; there must be at least one
#      regex of either kind), and
#   3. the compiler's own diagnostic (build-tool lines and blank lines removed)
#      is at most MAX_LINES lines long.

cmake_minimum_required(VERSION 3.21)

foreach(var BUILD_DIR TARGET SOURCE EXPECT)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "check_build.cmake: -D${var}=... is required")
    endif()
endforeach()
if(NOT DEFINED MAX_LINES)
    set(MAX_LINES 40)
endif()

# The command of SOURCE in compile_commands.json (the compile-fail targets export theirs).
set(commands_file "${BUILD_DIR}/compile_commands.json")
if(NOT EXISTS "${commands_file}")
    message(FATAL_ERROR "check_build.cmake: ${commands_file} is missing; the compile-fail targets set "
                        "EXPORT_COMPILE_COMMANDS (Makefile and Ninja generators only)")
endif()
file(READ "${commands_file}" commands)
string(JSON entries LENGTH "${commands}")
set(build_command "")
if(entries GREATER 0)
    math(EXPR last "${entries} - 1")
    foreach(i RANGE ${last})
        string(JSON file GET "${commands}" ${i} file)
        if(file STREQUAL SOURCE)
            string(JSON directory GET "${commands}" ${i} directory)
            string(JSON command GET "${commands}" ${i} command)
            separate_arguments(build_command UNIX_COMMAND "${command}")
            break()
        endif()
    endforeach()
endif()
if(NOT build_command)
    message(FATAL_ERROR "check_build.cmake: no command for ${SOURCE} in ${commands_file}")
endif()
if(EXPECT STREQUAL "fail")
    list(APPEND build_command -fsyntax-only)
endif()

# LC_ALL=C: untranslated messages and plain ASCII quotes, whatever the caller's locale.
execute_process(
    COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C LANGUAGE= ${build_command}
    WORKING_DIRECTORY "${directory}"
    RESULT_VARIABLE result
    OUTPUT_VARIABLE output
    ERROR_VARIABLE output)

# Colour codes, if a compiler was told to colour anyway, would defeat the regexes.
string(ASCII 27 escape)
string(REGEX REPLACE "${escape}\\[[0-9;]*[mK]" "" output "${output}")

if(EXPECT STREQUAL "success")
    if(NOT result EQUAL 0)
        message("${output}")
        message(FATAL_ERROR "FAIL: ${TARGET} is the positive control and must compile, but its build failed "
                            "(${result}); the compile-fail results mean nothing until it builds.")
    endif()
    message("PASS: ${TARGET} compiled.")
    return()
elseif(NOT EXPECT STREQUAL "fail")
    message(FATAL_ERROR "check_build.cmake: EXPECT must be 'fail' or 'success', not '${EXPECT}'")
endif()

# Keep only the compiler's lines: drop ninja/make progress and status lines and the
# echoed compile command. Lines are walked one by one with string(FIND) because
# diagnostics contain ';' and '[' which CMake lists would mangle.
set(diagnostic "")
set(first_error "")
set(line_count 0)
set(error_count 0)
set(rest "${output}")
while(NOT rest STREQUAL "")
    string(FIND "${rest}" "\n" newline)
    if(newline EQUAL -1)
        set(line "${rest}")
        set(rest "")
    else()
        string(SUBSTRING "${rest}" 0 ${newline} line)
        math(EXPR newline "${newline} + 1")
        string(SUBSTRING "${rest}" ${newline} -1 rest)
    endif()
    string(STRIP "${line}" stripped)
    set(is_command FALSE)
    if(COMPILER)
        string(FIND "${line}" "${COMPILER} " at)
        if(at EQUAL 0)
            set(is_command TRUE)                                # the echoed compile command
        endif()
    endif()
    if(stripped STREQUAL ""
       OR line MATCHES "^\\[[0-9]+/[0-9]+\\] "                 # ninja progress
       OR line MATCHES "^FAILED: "                             # ninja
       OR line MATCHES "^ninja: "                              # ninja status
       OR line MATCHES "^\\[ *[0-9]+%\\] "                     # make progress
       OR line MATCHES "^g?make(\\[[0-9]+\\])?: "              # make status
       OR line MATCHES "^Consolidate compiler generated dependencies"
       OR line MATCHES "^Change Dir: |^Microsoft|^MSBuild"
       OR is_command
       OR (line MATCHES " -o [^ ]" AND line MATCHES " -c [^ ]"))  # a command behind a launcher
        continue()
    endif()
    string(APPEND diagnostic "${line}\n")
    math(EXPR line_count "${line_count} + 1")
    if(line MATCHES "(^|: )(fatal )?error: ")
        math(EXPR error_count "${error_count} + 1")   # reported, not judged
        if(error_count EQUAL 1)
            set(first_error "${line}")
        endif()
    endif()
endwhile()

set(failures "")
if(result EQUAL 0)
    string(APPEND failures "  - the build SUCCEEDED, but this misuse must not compile\n")
endif()

file(STRINGS "${SOURCE}" expectations REGEX "^// expect(-first-error)?(\\([A-Za-z]+\\))?: ")
set(checked 0)
foreach(expectation IN LISTS expectations)
    string(REGEX MATCH "^// expect(-first-error)?(\\(([A-Za-z]+)\\))?: (.*)$" _ "${expectation}")
    set(first_only "${CMAKE_MATCH_1}")
    set(only_for "${CMAKE_MATCH_3}")
    set(regex "${CMAKE_MATCH_4}")
    if(only_for AND NOT COMPILER_ID MATCHES "${only_for}$")   # expect(Clang) also covers AppleClang
        continue()
    endif()
    math(EXPR checked "${checked} + 1")
    if(first_only)
        if(NOT first_error MATCHES "${regex}")
            string(APPEND failures "  - the first error line does not match the expected regex: ${regex}\n"
                                   "    first error line: ${first_error}\n")
        endif()
    elseif(NOT diagnostic MATCHES "${regex}")
        string(APPEND failures "  - the output does not match the expected regex: ${regex}\n")
    endif()
endforeach()
if(checked EQUAL 0)
    string(APPEND failures "  - ${SOURCE} has no '// expect: <regex>' (or expect-first-error) line for this compiler\n")
endif()

if(line_count GREATER MAX_LINES)
    string(APPEND failures "  - the compiler's diagnostic is ${line_count} lines long, more than ${MAX_LINES}\n")
endif()

message("---- compiler diagnostic (${line_count} lines, ${error_count} errors) ----\n${diagnostic}----")
if(NOT failures STREQUAL "")
    if(result EQUAL 0)
        message("---- build output ----\n${output}----")
    endif()
    message(FATAL_ERROR "FAIL: ${TARGET}:\n${failures}")
endif()
message("PASS: ${TARGET} failed to compile as expected; ${checked} regexes matched; ${line_count} diagnostic lines "
        "(limit ${MAX_LINES}), ${error_count} errors.")
