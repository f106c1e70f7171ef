"""``pyevents pub`` against the REAL engine: it says whether the application took the event.

Needs $EVENT_ENGINE_TEST_APP (see engine_fixture.py); fails without it.  The engine writes
its manifest (``--manifest``), which the tool reads.  The publish port answers a publisher's
confirmation request after the frames before it, and names a frame it refused (docs/protocol.md,
"Confirming a publish"): a key listed for other events only makes ``pub`` exit 1 saying the
event was refused, never ``published``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict

import pytest
import zmq

from engine_fixture import WAIT, PYEVENTS_DIR, start_engine  # noqa: F401  (fixtures are used by name)
from hostile import Keys, field, make_keys
from pyevents import PublishRefused, tools
from pyevents.security import curve_config


def run_pub(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENT_ENGINE_")}
    env["PYTHONPATH"] = str(PYEVENTS_DIR)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run([sys.executable, "-m", "pyevents", "pub", *args], env=env, capture_output=True, text=True,
                          timeout=WAIT * 2)


def wait_manifest(path: Path, engine) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT
    while not path.exists():
        assert engine.alive() and time.monotonic() < deadline, engine.describe()
        time.sleep(0.02)


@pytest.fixture
def keys(tmp_path: Path) -> Dict[str, Keys]:
    return make_keys(tmp_path / "keys", "engine", "typea_publisher", "publisher")


def test_pub_exits_1_and_says_so_when_the_key_may_publish_other_events_only(start_engine, keys, tmp_path) -> None:
    manifest = tmp_path / "app.manifest.json"
    engine = start_engine(external=False, collect=2, manifest=manifest, server_cert=keys["engine"].secret_file,
                          publisher_key=[f"{keys['typea_publisher'].public_file}=TypeA", keys["publisher"].z85])
    wait_manifest(manifest, engine)
    limited = ["--manifest", str(manifest), "--server-key-file", str(keys["engine"].public_file),
               "--client-key-file", str(keys["typea_publisher"].secret_file), "--timeout", str(WAIT)]
    done = run_pub("TypeC", "not yours", *limited)
    assert done.returncode == 1, (done.stdout, done.stderr, engine.describe())
    assert done.stdout == ""
    assert "the application refused the event: its publisher's key is not allowed to publish that event" \
        in done.stderr, done.stderr
    # The event it may publish: confirmed.
    done = run_pub("TypeA", "yours", *limited)
    assert done.returncode == 0, (done.stdout, done.stderr, engine.describe())
    assert done.stdout.startswith('published TypeA "yours" to tcp://')
    # An unrestricted key: the TypeC arrives.
    unrestricted = ["--manifest", str(manifest), "--server-key-file", str(keys["engine"].public_file),
                    "--client-key-file", str(keys["publisher"].secret_file), "--timeout", str(WAIT)]
    done = run_pub("TypeC", "legit", *unrestricted)
    assert done.returncode == 0, (done.stdout, done.stderr, engine.describe())
    # A second one ends the collector, so the application, which then reads no more from the
    # publish port: its confirmation may come or not (docs/protocol.md), so it is not asked for.
    engine.wait_collected(1, "TypeC")
    curve = curve_config(keys["engine"].public_file, keys["publisher"].secret_file)
    with zmq.Context() as context:
        tools.publish(context, f"tcp://127.0.0.1:{engine.publish_port}", b"TypeCend", curve, timeout=WAIT,
                      confirm=False)
    assert engine.finish() == 0, engine.describe()
    assert engine.collected_texts() == ["legit", "end"]
    assert field(engine, engine.run_record(), "tcp_publishes_refused") == 1, engine.describe()


def test_publish_names_a_refused_frame_without_keys_and_confirms_the_others(start_engine) -> None:
    """Without keys the publish port refuses only frames that are no event of the application;
    tools.publish raises PublishRefused for one and returns for an event once confirmed."""
    engine = start_engine(external=False, collect=2)
    endpoint = f"tcp://127.0.0.1:{engine.publish_port}"
    with zmq.Context() as context:
        with pytest.raises(PublishRefused, match="does not start with the topic of an event of the application"):
            tools.publish(context, endpoint, b"NoSuchEvent", None, timeout=WAIT)
        tools.publish(context, endpoint, b"TypeCone", None, timeout=WAIT)
        engine.wait_collected(1, "TypeC")
        tools.publish(context, endpoint, b"TypeCend", None, timeout=WAIT, confirm=False)  # ends the application
    assert engine.finish() == 0, engine.describe()
    assert engine.collected_texts() == ["one", "end"]
    assert field(engine, engine.run_record(), "tcp_publishes_refused") == 1, engine.describe()
