"""Unit tests of PluginClient argument validation and local state (no server needed).

PluginClient connects lazily, so none of these tests sends anything.
"""

from __future__ import annotations

import math
from typing import Iterator

import pytest
import zmq

from pyevents import ClientClosed, PluginClient, protocol

pytestmark = pytest.mark.usefixtures("clean_host_env")

PORT = 6000


@pytest.fixture
def client() -> Iterator[PluginClient]:
    c = PluginClient(PORT)
    try:
        yield c
    finally:
        c.close()


def test_default_host_is_localhost(client: PluginClient) -> None:
    assert client.endpoint == "tcp://127.0.0.1:6000"


def test_env_overrides_default_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_ENGINE_HOST", "engine.example")
    c = PluginClient(PORT)
    try:
        assert c.endpoint == "tcp://engine.example:6000"
    finally:
        c.close()


def test_explicit_host_beats_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_ENGINE_HOST", "engine.example")
    c = PluginClient(PORT, "10.1.2.3")
    try:
        assert c.endpoint == "tcp://10.1.2.3:6000"
    finally:
        c.close()


def test_empty_env_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_ENGINE_HOST", "")
    c = PluginClient(PORT)
    try:
        assert c.endpoint == "tcp://127.0.0.1:6000"
    finally:
        c.close()


def test_ipv6_host_is_bracketed() -> None:
    c = PluginClient(PORT, "::1")
    try:
        assert c.endpoint == "tcp://[::1]:6000"
    finally:
        c.close()


@pytest.mark.parametrize("port, error", [(0, ValueError), (65536, ValueError), (-1, ValueError),
                                         ("6000", TypeError), (6000.0, TypeError), (True, TypeError),
                                         (None, TypeError)])
def test_invalid_port(port: object, error: type) -> None:
    with pytest.raises(error, match="port"):
        PluginClient(port)  # type: ignore[arg-type]


def test_invalid_host_is_rejected() -> None:
    with pytest.raises(ValueError, match="host"):
        PluginClient(PORT, "")
    with pytest.raises(TypeError, match="host"):
        PluginClient(PORT, 127)  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout, error", [(0, ValueError), (-1, ValueError), (math.nan, ValueError),
                                            ("1", TypeError), (True, TypeError)])
def test_invalid_client_timeout(timeout: object, error: type) -> None:
    with pytest.raises(error, match="timeout"):
        PluginClient(PORT, timeout=timeout)  # type: ignore[arg-type]


def test_timeout_values() -> None:
    for given, expected in [(None, None), (math.inf, None), (2, 2.0), (0.25, 0.25)]:
        c = PluginClient(PORT, timeout=given)
        try:
            assert c.timeout == expected
        finally:
            c.close()


def test_event_names_are_validated() -> None:
    with pytest.raises(TypeError, match="iterable"):
        PluginClient(PORT, event_names="TypeA")
    with pytest.raises(ValueError, match="empty"):
        PluginClient(PORT, event_names=["TypeA", ""])


def test_decode_uses_event_names() -> None:
    c = PluginClient(PORT, event_names=["TypeA", b"TypeB"])
    try:
        assert c.event_names == ("TypeA", b"TypeB")
        assert c.decode(b"TypeBxyz") == (b"TypeB", b"xyz")
    finally:
        c.close()


def test_decode_without_event_names(client: PluginClient) -> None:
    with pytest.raises(ValueError, match="event_names"):
        client.decode(b"TypeA")


def test_context_must_be_a_zmq_context() -> None:
    with pytest.raises(TypeError, match="context"):
        PluginClient(PORT, context=object())  # type: ignore[arg-type]


@pytest.mark.parametrize("max_events, error", [(0, ValueError), (-3, ValueError), (True, TypeError),
                                               (1.5, TypeError), ("2", TypeError)])
def test_next_events_validates_max(client: PluginClient, max_events: object, error: type) -> None:
    with pytest.raises(error, match="max_events"):
        client.next_events(max_events)  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout, error", [(-0.1, ValueError), ("1", TypeError)])
def test_fetch_timeouts_are_validated(client: PluginClient, timeout: object, error: type) -> None:
    with pytest.raises(error, match="timeout"):
        client.next_event(timeout)  # type: ignore[arg-type]
    with pytest.raises(error, match="timeout"):
        client.next_events(1, timeout)  # type: ignore[arg-type]


@pytest.mark.parametrize("data, error", [(b"", ValueError), (b"plugin_command: quit", ValueError),
                                         ("TypeC text", TypeError), (None, TypeError)])
def test_publish_validates_data(client: PluginClient, data: object, error: type) -> None:
    with pytest.raises(error):
        client.publish(data)  # type: ignore[arg-type]


def test_publish_event_validates_arguments(client: PluginClient) -> None:
    with pytest.raises(ValueError, match="empty"):
        client.publish_event("", b"x")
    with pytest.raises(TypeError, match="payload"):
        client.publish_event("TypeC", 42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="plugin_command"):
        client.publish_event("plugin_command: quit", b"")


def test_closed_client_refuses_requests(client: PluginClient) -> None:
    client.close()
    client.close()  # idempotent
    assert client.closed
    for call in (client.ping, client.next_event, lambda: client.next_events(1),
                 lambda: client.publish(b"TypeC"), client.quit):
        with pytest.raises(ClientClosed, match="closed"):
            call()
    with pytest.raises(ClientClosed):
        with client:
            pass
    assert list(client) == []


def test_own_context_is_terminated_but_a_given_one_is_not() -> None:
    own = PluginClient(PORT)
    own.close()
    assert own._context.closed
    context = zmq.Context()
    try:
        shared = PluginClient(PORT, context=context)
        shared.close()
        assert not context.closed
    finally:
        context.term()


def test_request_builders() -> None:
    assert protocol.next_msg_wait(250) == b"plugin_command: next_msg_wait 250"
    assert protocol.next_msgs(10, 0) == b"plugin_command: next_msgs 10 0"


def test_fetch_request_builders_and_parsers() -> None:
    assert protocol.fetch(100, 500, 0) == b"plugin_command: fetch 100 500 0"
    assert protocol.ack(42) == b"plugin_command: ack 42"
    assert protocol.parse_events_header(b"event-engine: events 7 00FF00ff00ff00ff") == (7, "00ff00ff00ff00ff")
    for bad in (b"event-engine: events 7", b"event-engine: events 7 00ff", b"event-engine: events -1 " + b"0" * 16,
                b"event-engine: events 7 " + b"g" * 16, b"event-engine: events 7 " + b"0" * 16 + b" x", b"TypeA"):
        assert protocol.parse_events_header(bad) is None, bad
    assert protocol.parse_acknowledged(b"event-engine: acknowledged 42") == 42
    assert protocol.parse_acknowledged(b"event-engine: acknowledged") is None
    assert protocol.parse_acknowledged(b"event-engine: pong") is None


def test_at_least_once_is_the_default_and_is_validated() -> None:
    c = PluginClient(PORT)
    try:
        assert c.at_least_once is True and c.fetch_batch == 100
    finally:
        c.close()
    with pytest.raises(TypeError, match="at_least_once"):
        PluginClient(PORT, at_least_once=1)  # type: ignore[arg-type]


def test_close_and_quit_validate_their_timeout(client: PluginClient) -> None:
    with pytest.raises(ValueError, match="timeout"):
        client.close(timeout=-1)
    assert not client.closed
    with pytest.raises(TypeError, match="timeout"):
        client.quit(timeout="1")  # type: ignore[arg-type]
