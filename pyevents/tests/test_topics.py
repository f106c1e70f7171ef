"""Unit tests of split_event / decode / encode_topic (no engine, no sockets)."""

from __future__ import annotations

import pytest

from pyevents import Event, PyEventsError, UnknownTopic, decode, encode_topic, split_event


def test_split_with_str_topics_returns_the_str_topic() -> None:
    assert split_event(b"TypeAhello", ["TypeA", "TypeB"]) == ("TypeA", b"hello")


def test_split_with_bytes_topics_returns_the_bytes_topic() -> None:
    assert split_event(b"TypeBhello", [b"TypeA", b"TypeB"]) == (b"TypeB", b"hello")


def test_split_accepts_mixed_topics_and_any_iterable() -> None:
    topics = (t for t in ["TypeA", b"TypeB"])
    assert split_event(b"TypeB", topics) == (b"TypeB", b"")


def test_longest_matching_topic_wins_regardless_of_order() -> None:
    assert split_event(b"TypeCbye", ["Type", "TypeC"]) == ("TypeC", b"bye")
    assert split_event(b"TypeCbye", ["TypeC", "Type"]) == ("TypeC", b"bye")
    assert split_event(b"TypeXbye", ["TypeC", "Type"]) == ("Type", b"Xbye")


def test_split_accepts_bytearray_and_memoryview() -> None:
    assert split_event(bytearray(b"TypeA\x00\x01"), ["TypeA"]) == ("TypeA", b"\x00\x01")
    assert split_event(memoryview(b"TypeA!"), ["TypeA"]) == ("TypeA", b"!")
    assert type(split_event(bytearray(b"TypeA!"), ["TypeA"])[1]) is bytes


def test_non_ascii_topics_are_matched_as_utf8() -> None:
    assert split_event("Ereignisä".encode() + b"x", ["Ereignisä"]) == ("Ereignisä", b"x")


def test_unknown_topic() -> None:
    with pytest.raises(UnknownTopic, match="TypeZ"):
        split_event(b"TypeZdata", ["TypeA", "TypeB"])


def test_unknown_topic_is_a_value_error_and_a_pyevents_error() -> None:
    with pytest.raises(ValueError):
        split_event(b"x", ["TypeA"])
    with pytest.raises(PyEventsError):
        split_event(b"x", ["TypeA"])


def test_topic_longer_than_event_does_not_match() -> None:
    with pytest.raises(UnknownTopic):
        split_event(b"Type", ["TypeA"])


@pytest.mark.parametrize("topics", ["TypeA", b"TypeA", bytearray(b"TypeA")])
def test_single_topic_instead_of_iterable_is_rejected(topics: object) -> None:
    with pytest.raises(TypeError, match="iterable"):
        split_event(b"TypeAx", topics)  # type: ignore[arg-type]


def test_empty_topic_list_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one topic"):
        split_event(b"TypeAx", [])


@pytest.mark.parametrize("topic", ["", b""])
def test_empty_topic_is_rejected(topic: object) -> None:
    with pytest.raises(ValueError, match="empty"):
        split_event(b"TypeAx", ["TypeA", topic])  # type: ignore[list-item]


def test_non_str_topic_is_rejected() -> None:
    with pytest.raises(TypeError, match="int"):
        split_event(b"TypeAx", ["TypeA", 5])  # type: ignore[list-item]


@pytest.mark.parametrize("data", ["TypeAx", None, 5])
def test_non_bytes_event_is_rejected(data: object) -> None:
    with pytest.raises(TypeError, match="bytes"):
        split_event(data, ["TypeA"])  # type: ignore[arg-type]


def test_decode_returns_event_namedtuple() -> None:
    event = decode(b"TypeBpayload", ["TypeA", "TypeB"])
    assert isinstance(event, Event)
    assert event.topic == "TypeB"
    assert event.payload == b"payload"
    topic, payload = event
    assert (topic, payload) == ("TypeB", b"payload")


def test_decode_raises_unknown_topic() -> None:
    with pytest.raises(UnknownTopic):
        decode(b"nope", [b"TypeA"])


def test_encode_topic() -> None:
    assert encode_topic("TypeA") == b"TypeA"
    assert encode_topic(b"TypeA") == b"TypeA"
    assert encode_topic(bytearray(b"T")) == b"T"
    with pytest.raises(ValueError):
        encode_topic("")
    with pytest.raises(TypeError):
        encode_topic(1)  # type: ignore[arg-type]
