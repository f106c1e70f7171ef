"""Bad requests are answered, not fatal, with the REAL engine (ee_test_engine).

Needs $EVENT_ENGINE_TEST_APP (see engine_fixture.py); fails without it.

Each bad request, in its own test: gets one ``event-engine: error: ...`` frame;
the engine then answers a ping and a publish as usual; nothing of the bad
request is forwarded (the collector, which subscribes to TypeB, TypeC and Bulk,
sees only the good TypeC, and the plugin itself, which subscribes to TypeA,
TypeB and Bulk, gets nothing back); the engine's report counts one rejection.
"""

from __future__ import annotations

from typing import List, Union

import pytest

from engine_fixture import RawClient, start_engine  # noqa: F401  (fixtures are used by name)
from pyevents import protocol

BAD_REQUESTS = {
    "not-utf8": (b"\xff\xfe\xfd\x80 not text at all", "nothing was published"),
    "command-not-utf8": (b"plugin_command: \xff\xfe\xfd", "unknown command"),
    "empty": (b"", "empty message"),
    "unknown-command": (b"plugin_command: frobnicate", "unknown command"),
    "next_msg_wait-abc": (b"plugin_command: next_msg_wait abc", "next_msg_wait"),
    "next_msg_wait-negative": (b"plugin_command: next_msg_wait -5", "next_msg_wait"),
    "next_msg_wait-too-long": (b"plugin_command: next_msg_wait 3600001", "next_msg_wait"),
    "next_msgs-0": (b"plugin_command: next_msgs 0", "next_msgs"),
    "next_msgs-too-many": (b"plugin_command: next_msgs 100001 10", "next_msgs"),
    "next_msgs-abc": (b"plugin_command: next_msgs abc", "next_msgs"),
    "undeclared-topic-TypeB": (b"TypeB42", "TypeA, TypeC, Bulk"),
    "unknown-topic": (b"TypeZhello", "nothing was published"),
    "two-frames": ([b"TypeC", b"two frames"], "one frame per request"),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_a_bad_request_is_answered_with_an_error_and_the_engine_carries_on(start_engine, name: str) -> None:
    request: Union[bytes, List[bytes]]
    request, reason = BAD_REQUESTS[name]
    engine = start_engine(collect=1)
    with RawClient(engine.port) as client:
        reply = client.request(request)
        assert len(reply) == 1, reply
        assert reply[0].startswith(protocol.REPLY_ERROR_PREFIX), reply
        assert reason in reply[0].decode("utf-8", "replace"), reply

        # Still working: a ping, a publish, a fetch.
        assert client.one(protocol.PING) == protocol.REPLY_PONG
        assert client.one(b"TypeCafter") == protocol.REPLY_PUBLISHED
        engine.wait_collected(1, "TypeC")
        # Anything the bad request had forwarded would be queued by now (it went first).
        assert client.request(b"plugin_command: next_msg_wait 0") == [b""]
        client.quit()

    engine.assert_clean_exit()
    assert engine.collected() == [{"type": "TypeC", "text": "after"}]
    report = engine.report()
    assert (report["rejected"], report["published"], report["received"]) == (1, 1, 0), engine.describe()
    assert engine.report("collector")["decode_failures"] == 0
    assert "request rejected" in engine.stderr  # and it is logged


def test_many_bad_requests_in_a_row_are_each_counted(start_engine) -> None:
    engine = start_engine(collect=1)
    with RawClient(engine.port) as client:
        for request, _ in BAD_REQUESTS.values():
            assert client.request(request)[0].startswith(protocol.REPLY_ERROR_PREFIX)
        assert client.one(b"TypeCstill here") == protocol.REPLY_PUBLISHED
        client.quit()
    engine.assert_clean_exit()
    assert engine.collected_texts() == ["still here"]
    assert engine.report()["rejected"] == len(BAD_REQUESTS)
