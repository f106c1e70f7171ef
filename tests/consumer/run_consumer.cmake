# Run by the consumer.find_package test:
#   1. cmake --install BUILD_DIR --prefix SCRATCH_DIR/prefix
#   2. configure CONSUMER_SOURCE_DIR in SCRATCH_DIR/build with
#      CMAKE_PREFIX_PATH=SCRATCH_DIR/prefix and the same compiler and generator (and,
#      with CONSUMER_TARGET given, linking that target: event_engine::compiled)
#   3. build it, 4. run it,
#   5. with PYTHON and PYEVENTS_DIR (the installed pyevents, relative to the prefix) given:
#      `python3 -m pyevents --help`, then pyplugin.py, a Python plugin against the
#      consumer, both with only the installed pyevents on the path.
# Every step must succeed.

cmake_minimum_required(VERSION 3.21)

foreach(var BUILD_DIR SCRATCH_DIR CONSUMER_SOURCE_DIR GENERATOR CXX_COMPILER)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
    endif()
endforeach()

set(prefix ${SCRATCH_DIR}/prefix)
set(consumer_build ${SCRATCH_DIR}/build)
# Start clean: a stale install or cache must not hide a broken one.
file(REMOVE_RECURSE ${SCRATCH_DIR})
file(MAKE_DIRECTORY ${SCRATCH_DIR})

function(run_step description)
    # In the scratch directory: `python3 -m` must not find a pyevents in the current directory.
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output
                    WORKING_DIRECTORY ${SCRATCH_DIR} TIMEOUT 600)
    message("---- ${description} ----\n${output}")
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "FAIL: ${description} failed (${result})")
    endif()
endfunction()

set(config_args "")
if(CONFIG)
    set(config_args --config ${CONFIG})
endif()

run_step("install event_engine into ${prefix}"
    ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} ${config_args})

set(dependency_args "")
foreach(dependency cppzmq ZeroMQ fmt)
    if(DEFINED ${dependency}_DIR)
        list(APPEND dependency_args -D${dependency}_DIR=${${dependency}_DIR})
    endif()
endforeach()
set(build_type_args "")
if(CONFIG)
    set(build_type_args -DCMAKE_BUILD_TYPE=${CONFIG})
endif()

set(consumer_target_args "")
if(DEFINED CONSUMER_TARGET)
    list(APPEND consumer_target_args -DEVENT_ENGINE_CONSUMER_TARGET=${CONSUMER_TARGET})
endif()

run_step("configure the consumer"
    ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${consumer_build} -G ${GENERATOR}
        ${consumer_target_args}
        -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
        -DCMAKE_PREFIX_PATH=${prefix}
        -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
        # Only the scratch install may satisfy find_package(event_engine).
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
        ${build_type_args}
        ${dependency_args})

# find_package must have used the scratch install, not another event_engine.
file(STRINGS ${consumer_build}/CMakeCache.txt found_dir REGEX "^event_engine_DIR:")
string(REGEX REPLACE "^event_engine_DIR:[A-Z]+=" "" found_dir "${found_dir}")
file(REAL_PATH "${found_dir}" found_dir)
file(REAL_PATH "${prefix}" real_prefix)
string(FIND "${found_dir}/" "${real_prefix}/" at)
if(NOT at EQUAL 0)
    message(FATAL_ERROR "FAIL: find_package(event_engine) used ${found_dir}, not the scratch install in ${prefix}")
endif()

run_step("build the consumer" ${CMAKE_COMMAND} --build ${consumer_build} ${config_args})

# ... and its headers came from the install, not from the source tree.
if(EVENT_ENGINE_SOURCE_DIR AND EXISTS ${consumer_build}/compile_commands.json)
    file(READ ${consumer_build}/compile_commands.json commands)
    string(FIND "${commands}" "${EVENT_ENGINE_SOURCE_DIR}/include" at)
    if(NOT at EQUAL -1)
        message(FATAL_ERROR "FAIL: the consumer was compiled with ${EVENT_ENGINE_SOURCE_DIR}/include on its include path")
    endif()
endif()

find_program(consumer_exe NAMES consumer PATHS ${consumer_build} ${consumer_build}/${CONFIG} NO_DEFAULT_PATH)
if(NOT consumer_exe)
    message(FATAL_ERROR "FAIL: the consumer executable was not found under ${consumer_build}")
endif()
run_step("run the consumer" ${consumer_exe})

if(DEFINED PYTHON AND DEFINED PYEVENTS_DIR)
    # Only the install is on the path (-s: no user site-packages either); nothing is
    # written into it (no __pycache__).
    set(installed_pyevents ${prefix}/${PYEVENTS_DIR})
    set(python_env ${CMAKE_COMMAND} -E env
        --unset=EVENT_ENGINE_HOST --unset=EVENT_ENGINE_SERVER_KEY --unset=EVENT_ENGINE_CLIENT_KEY
        PYTHONPATH=${installed_pyevents} PYTHONDONTWRITEBYTECODE=1)
    run_step("python3 -m pyevents --help with the installed pyevents"
        ${python_env} ${PYTHON} -s -m pyevents --help)
    run_step("a Python plugin with the installed pyevents, against the consumer"
        ${python_env} ${PYTHON} -s ${CMAKE_CURRENT_LIST_DIR}/pyplugin.py ${consumer_exe} ${installed_pyevents})
    message("PASS: an installed event_engine was found, built against and ran, and so did the installed pyevents.")
else()
    message("PASS: an installed event_engine was found, built against and ran (PYTHON/PYEVENTS_DIR not given: "
            "pyevents not checked).")
endif()
