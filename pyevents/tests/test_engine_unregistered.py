"""Unregistered external processes (the seed README's "first approach"), with the REAL engine.

A process that is not declared to the engine connects a PUB socket to the
engine's publish port and a SUB socket to its subscribe port.  Needs
$EVENT_ENGINE_TEST_APP (see engine_fixture.py); fails without it.
"""

from __future__ import annotations

import time

import zmq

from engine_fixture import WAIT, start_engine  # noqa: F401  (fixtures are used by name)


def test_an_unregistered_process_publishes_to_and_receives_from_internal_plugins(start_engine) -> None:
    # The internal "echo" plugin answers each TypeC with TypeA "echo:<text>" and ends on TypeC "stop".
    engine = start_engine(external=False, echo=True)
    publish_port, subscribe_port = engine.publish_port, engine.subscribe_port
    context = zmq.Context()
    try:
        subscriber = context.socket(zmq.SUB)
        subscriber.setsockopt(zmq.SUBSCRIBE, b"TypeA")
        subscriber.connect(f"tcp://127.0.0.1:{subscribe_port}")
        publisher = context.socket(zmq.PUB)
        publisher.connect(f"tcp://127.0.0.1:{publish_port}")

        # PUB/SUB drop until both links are up and subscribed, so repeat until an answer comes back.
        answer = None
        sent = 0
        deadline = time.monotonic() + WAIT
        while answer is None and time.monotonic() < deadline:
            publisher.send(b"TypeCping-%d" % sent)
            sent += 1
            if subscriber.poll(100):
                answer = subscriber.recv()
        assert answer is not None, f"no echo within {WAIT:g} s\n{engine.describe()}"
        assert answer.startswith(b"TypeAecho:ping-")

        publisher.send(b"TypeCstop")  # both links are up now: this one arrives
        publisher.close(linger=int(WAIT * 1000))
        subscriber.close(linger=0)
    finally:
        context.term()

    assert engine.finish() == 0, engine.describe()
    echoed = [record["text"] for record in engine.records("ECHO")]
    assert echoed[-1] == "stop"
    assert answer.decode()[len("TypeAecho:"):] in echoed  # what came back is what the internal plugin heard
    assert all(text.startswith("ping-") for text in echoed[:-1])
    report = engine.report("echo")
    assert report["outcome"] == "finished"
    assert report["received"] == len(echoed) and report["published"] == len(echoed) - 1
