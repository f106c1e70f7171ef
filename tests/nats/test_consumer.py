"""The installed package (docs/nats.md, "Installing"): the project installed into a scratch
prefix, a stand-alone project (tests/consumer/nats_project) configured with
find_package(event_engine_nats CONFIG REQUIRED), linked to event_engine::nats (then to
event_engine::nats_compiled, the separately compiled mode, where it is built), built, and run
against a nats-server this test starts: its two applications exchange events through it.
The steps are tests/consumer/run_consumer.cmake's, with the arguments CMake wrote for this
build ($EE_NATS_CONSUMER_ARGS, one per line)."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from natsfix import NatsServer

COUNT = 50  # tests/consumer/nats_project/main.cpp


def cache_value(cache: Path, name: str) -> str:
    match = re.search(rf"^{name}:[A-Z]+=(.*)$", cache.read_text(), re.MULTILINE)
    assert match, f"{name} not in {cache}"
    return match.group(1)


def test_an_installed_event_engine_nats_is_found_built_against_and_exchanges_events(tmp_path):
    run_consumer(tmp_path, None)


@pytest.mark.skipif(os.environ.get("EE_NATS_CONSUMER_COMPILED") != "1",
                    reason="event_engine::nats_compiled is not built (EVENT_ENGINE_COMPILED_LIBRARY=OFF)")
def test_the_installed_separately_compiled_bridge_is_found_built_against_and_exchanges_events(tmp_path):
    # The consumer links event_engine::nats_compiled; its main.cpp fails to compile if
    # event_engine/nats/bridge.hpp includes <nats/nats.h> there.
    run_consumer(tmp_path, "event_engine::nats_compiled")


def run_consumer(tmp_path, target):
    command = Path(os.environ["EE_NATS_CONSUMER_ARGS"]).read_text().splitlines()
    if target is not None:
        command.insert(command.index("-P"), f"-DCONSUMER_TARGET={target}")
    scratch = Path(next(arg.split("=", 1)[1] for arg in command if arg.startswith("-DSCRATCH_DIR=")))
    server = NatsServer(tmp_path, monitor=True).start()
    try:
        done = subprocess.run(command, env=dict(os.environ, EE_CONSUMER_NATS_URL=server.url),
                              capture_output=True, text=True, timeout=900)
        output = done.stdout + done.stderr
        assert done.returncode == 0, output[-6000:]
        closed = server.monitoring("connz?state=closed")["connections"]
    finally:
        server.stop()

    assert (f"consumer (NATS at {server.url}): device sent {COUNT} Readings, central brought in {COUNT} and sent "
            f"{COUNT} Setpoints, device brought in {COUNT}, {COUNT}/{COUNT} answered -> OK") in output, output[-4000:]
    # The package came from the scratch install, not from this build tree or the system.
    found = Path(cache_value(scratch / "build" / "CMakeCache.txt", "event_engine_nats_DIR")).resolve()
    assert found.is_relative_to((scratch / "prefix").resolve()), found
    if target is not None:
        assert f"linking {target}" in output, output[-4000:]
    # Both bridges were clients of this server, and the events went through it: each sent its
    # COUNT events and its final sequence marker (marker_interval 0: no periodic one).
    by_name = {c.get("name"): c for c in closed}
    assert {"device", "central"} <= by_name.keys(), closed
    assert by_name["device"]["in_msgs"] == COUNT + 1 and by_name["central"]["in_msgs"] == COUNT + 1, closed
