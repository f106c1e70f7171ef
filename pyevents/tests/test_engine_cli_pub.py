"""``pyevents pub`` against the REAL engine: it says whether the application took the event.

Needs $EVENT_ENGINE_TEST_APP (see engine_fixture.py); fails without it.  The engine writes
its manifest (``--manifest``), which the tool reads.  The publish port answers a publisher's
confirmation request after the frames before it, with how many of that connection's frames it
refused and why (docs/protocol.md, "Confirming a publish"): a key listed for other events only
makes ``pub`` exit 1 saying the event was refused, never ``published``.  Every publisher gets
every answer: they name nobody; hostile publishers (floods, one that never reads) do not stop it.
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


CONFIRM, CONFIRMED = b"\xffevent_engine/confirm/", b"\xffevent_engine/confirmed/"


def xpub_publisher(context: zmq.Context, endpoint: str, curve=None) -> zmq.Socket:  # type: ignore[no-untyped-def]
    """An XPUB publisher connected to the publish port, once the engine has subscribed to it."""
    sock = context.socket(zmq.XPUB)
    sock.linger = 0
    if curve is not None:
        curve.apply(sock)
    sock.connect(endpoint)
    assert sock.poll(WAIT * 1000), "the engine did not subscribe to the publisher"
    assert sock.recv()[:1] == b"\x01"
    return sock


def until_own_answer(sock: zmq.Socket, token: bytes) -> "tuple[bytes, list[bytes]]":
    """(this publisher's answer, every message it read up to it)."""
    seen = []
    while True:
        assert sock.poll(WAIT * 1000), ("no answer to confirm/" + token.decode(), seen)
        message = sock.recv()
        seen.append(message)
        if message.startswith(CONFIRMED + token + b"/"):
            return message, seen


def test_a_confirmation_tells_no_other_publisher_who_was_refused_or_what_it_sent(start_engine, keys) -> None:
    """Every publisher receives every confirmation notice (an XSUB sends upstream to all), so
    a notice names only the asker's random token, its own refusal count and first reason:
    never a publisher's key, nor anything of a refused frame (docs/protocol.md)."""
    engine = start_engine(external=False, collect=1, server_cert=keys["engine"].secret_file,
                          publisher_key=[f"{keys['typea_publisher'].public_file}=TypeA", keys["publisher"].z85])
    endpoint = f"tcp://127.0.0.1:{engine.publish_port}"
    private = b"private words " + os.urandom(8).hex().encode()
    with zmq.Context() as context:
        bystander = xpub_publisher(context, endpoint,
                                   curve_config(keys["engine"].public_file, keys["publisher"].secret_file))
        limited = xpub_publisher(context, endpoint,
                                 curve_config(keys["engine"].public_file, keys["typea_publisher"].secret_file))
        limited.send(b"TypeC" + private)  # refused: this key may publish TypeA only
        limited.send(b"TypeC" + private + b" again")
        limited.send(CONFIRM + b"limited-token")
        answer, _ = until_own_answer(limited, b"limited-token")
        assert answer == CONFIRMED + b"limited-token/2/its publisher's key is not allowed to publish that event"
        limited.send(CONFIRM + b"limited-again")  # counted afresh after each confirm
        assert until_own_answer(limited, b"limited-again")[0] == CONFIRMED + b"limited-again/0/"
        bystander.send(CONFIRM + b"bystander-token")
        answer, seen = until_own_answer(bystander, b"bystander-token")
        assert answer == CONFIRMED + b"bystander-token/0/"  # the other's refusals are not its own
        # It did receive the limited publisher's notices (before its own): they name neither.
        assert seen[:2] == [CONFIRMED + b"limited-token/2/its publisher's key is not allowed to publish that event",
                            CONFIRMED + b"limited-again/0/"], seen
        for message in seen:
            assert message.startswith(CONFIRMED), message
            assert keys["typea_publisher"].public not in message and b"private" not in message, message
        bystander.send(b"TypeCend")  # ends the collector
        engine.wait_collected(1, "TypeC")
        for sock in (bystander, limited):
            sock.close()
    assert engine.finish() == 0, engine.describe()
    assert engine.collected_texts() == ["end"]
    assert field(engine, engine.run_record(), "tcp_publishes_refused") == 2, engine.describe()


def test_confirm_floods_and_a_publisher_that_never_reads_leave_pub_its_answer(start_engine, tmp_path) -> None:
    """Hostile publishers: one sends 20,000 confirms and never reads its notices, another
    sends confirms as fast as it can while honest `pyevents pub`s run. The engine's upstream
    sends never wait for a publisher (a full queue misses the notice), so each pub gets its
    answer (exit 0, published) or exits 1 saying it was not confirmed, and the engine goes on
    forwarding: a last event is collected and the run ends cleanly."""
    import threading
    manifest = tmp_path / "app.manifest.json"
    engine = start_engine(external=False, collect=1, manifest=manifest)
    wait_manifest(manifest, engine)
    endpoint = f"tcp://127.0.0.1:{engine.publish_port}"
    stop, flooded = threading.Event(), [0]
    with zmq.Context() as context:
        deaf = xpub_publisher(context, endpoint)
        for i in range(20_000):
            deaf.send(CONFIRM + b"deaf-%d" % i)  # an XPUB's send drops at its high-water mark: never blocks
        flooder = xpub_publisher(context, endpoint)

        def flood() -> None:
            while not stop.is_set():
                flooder.send(CONFIRM + b"flood-%d" % flooded[0])
                flooded[0] += 1

        thread = threading.Thread(target=flood)
        thread.start()
        try:
            outcomes = []
            for i in range(3):
                done = run_pub("TypeA", f"honest {i}", "--manifest", str(manifest), "--timeout", str(WAIT))
                outcomes.append(done.returncode)
                if done.returncode == 0:
                    assert done.stdout.startswith(f'published TypeA "honest {i}" to tcp://'), done
                else:
                    assert done.returncode == 1 and "did not confirm it" in done.stderr, (done, engine.describe())
            assert engine.alive(), engine.describe()
        finally:
            stop.set()
            thread.join()
        assert flooded[0] > 0
        print(f"pub exit statuses under the flood: {outcomes}; flood confirms sent: {flooded[0]}")
        # Still forwarding: the event that ends the collector arrives.
        tools.publish(context, endpoint, b"TypeCend", None, timeout=WAIT, confirm=False)
        engine.wait_collected(1, "TypeC")
        for sock in (deaf, flooder):
            sock.close()
    assert engine.finish() == 0, engine.describe()
    assert engine.collected_texts() == ["end"]
    assert field(engine, engine.run_record(), "tcp_publishes_refused") == 0, engine.describe()  # confirms are not


def test_pub_against_an_application_that_does_not_confirm_exits_1_saying_so(start_engine, tmp_path) -> None:
    """A manifest without endpoints.publish.confirms (an engine before confirmations): pub sends
    the event without asking, and exits 1 saying that whether it was published is not known."""
    import json
    manifest = tmp_path / "app.manifest.json"
    engine = start_engine(external=False, collect=1, manifest=manifest)
    wait_manifest(manifest, engine)
    older = json.loads(manifest.read_text())
    del older["endpoints"]["publish"]["confirms"]
    older_file = tmp_path / "older.manifest.json"
    older_file.write_text(json.dumps(older))
    done = run_pub("TypeC", "sent blind", "--manifest", str(older_file), "--timeout", str(WAIT))
    assert done.returncode == 1 and done.stdout == "", (done, engine.describe())
    assert "cannot confirm a publish" in done.stderr and "whether it was published is not known" in done.stderr, done
    engine.wait_collected(1, "TypeC")  # it was sent all the same
    assert engine.finish() == 0, engine.describe()
    assert engine.collected_texts() == ["sent blind"]


def test_a_closed_connections_refusals_are_not_told_to_the_next_one(start_engine, keys) -> None:
    """Refusals count per connection: a publisher refused something that leaves without asking
    takes its count with it; the next connection with the same key (which may get the same
    descriptor on the engine's side) is answered 0 for its own admitted event."""
    engine = start_engine(external=False, collect=1, server_cert=keys["engine"].secret_file,
                          publisher_key=[f"{keys['typea_publisher'].public_file}=TypeA", keys["publisher"].z85])
    endpoint = f"tcp://127.0.0.1:{engine.publish_port}"
    curve = curve_config(keys["engine"].public_file, keys["typea_publisher"].secret_file)
    with zmq.Context() as context:
        for round_ in range(5):
            leaving = xpub_publisher(context, endpoint, curve)
            leaving.send(b"TypeCnot yours")
            engine.wait_for(lambda: engine.stderr.count("publish port: refused a frame") >= 1 or round_ > 0,
                            "the first refusal logged")
            leaving.close()
            staying = xpub_publisher(context, endpoint, curve)
            staying.send(b"TypeAyours")
            token = b"staying-%d" % round_
            staying.send(CONFIRM + token)
            answer, _ = until_own_answer(staying, token)
            # The leaving connection's refusal may not be read yet when this one asks (the
            # engine reads connections in turn), but it is never this connection's.
            assert answer == CONFIRMED + token + b"/0/", answer
            staying.close()
        closer = xpub_publisher(context, endpoint,
                                curve_config(keys["engine"].public_file, keys["publisher"].secret_file))
        closer.send(b"TypeCend")
        engine.wait_collected(1, "TypeC")
        closer.close()
    assert engine.finish() == 0, engine.describe()
    assert field(engine, engine.run_record(), "tcp_publishes_refused") == 5, engine.describe()
