"""Splitting raw events into topic and payload.

On the wire an event is its topic's bytes immediately followed by its payload
bytes; there is no separator.  To split it you need to know which topics to
expect (usually the event names your plugin subscribes to).
"""

from __future__ import annotations

from typing import Iterable, List, NamedTuple, Tuple, Union

from .errors import UnknownTopic

__all__ = ["Topic", "Event", "encode_topic", "split_event", "decode"]

#: A topic, given either as text (encoded as UTF-8 on the wire) or as raw bytes.
Topic = Union[str, bytes]

_BytesLike = Union[bytes, bytearray, memoryview]


class Event(NamedTuple):
    """An event split into its topic and its payload.

    ``topic`` is the matching topic exactly as it was passed in (``str`` or
    ``bytes``); ``payload`` is everything after it: ``bytes``, or for an event
    given as a :class:`memoryview` (``PluginClient(copy=False)``) a memoryview
    of the same memory, without a copy.
    """

    topic: Topic
    payload: Union[bytes, memoryview]


def encode_topic(topic: Topic) -> bytes:
    """Return the wire form of *topic*: UTF-8 for ``str``, unchanged for bytes.

    Raises :class:`TypeError` for other types and :class:`ValueError` for an
    empty topic (an empty topic would match every event).
    """
    if isinstance(topic, str):
        raw = topic.encode("utf-8")
    elif isinstance(topic, (bytes, bytearray, memoryview)):
        raw = bytes(topic)
    else:
        raise TypeError(f"a topic must be str or bytes, not {type(topic).__name__}")
    if not raw:
        raise ValueError("a topic must not be empty")
    return raw


def _prepare_topics(topics: Iterable[Topic]) -> List[Tuple[bytes, Topic]]:
    if isinstance(topics, (str, bytes, bytearray, memoryview)):
        raise TypeError(
            "topics must be an iterable of topic names such as ['TypeA', 'TypeB'], "
            "not a single str or bytes"
        )
    prepared = [(encode_topic(topic), topic) for topic in topics]
    if not prepared:
        raise ValueError("at least one topic is needed to split an event")
    # Longest first: with topics "Type" and "TypeC", b"TypeC..." is a TypeC event.
    prepared.sort(key=lambda item: len(item[0]), reverse=True)
    return prepared


def split_event(data: _BytesLike, topics: Iterable[Topic]) -> Tuple[Topic, Union[bytes, memoryview]]:
    """Split the raw event *data* into ``(topic, payload)``.

    *topics* is an iterable of candidate topics (``str`` or ``bytes``).  When
    several match (one is a prefix of another) the longest wins.  The returned
    topic is the matching element of *topics* itself, so it has the type you
    passed in.  The payload is ``bytes``; of a (contiguous) :class:`memoryview`,
    it is a memoryview slice of the same memory (no copy).

    Raises :class:`~pyevents.errors.UnknownTopic` if *data* starts with none
    of the topics, :class:`TypeError`/:class:`ValueError` for invalid arguments.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"an event must be bytes, not {type(data).__name__}")
    prepared = _prepare_topics(topics)
    if isinstance(data, memoryview) and data.c_contiguous:
        view = data.cast("B") if data.format != "B" or data.ndim != 1 else data
        for prefix, topic in prepared:
            if view[:len(prefix)] == prefix:
                return topic, view[len(prefix):]
        data = view[:41]  # enough for the error message
    raw = bytes(data)
    for prefix, topic in prepared:
        if raw.startswith(prefix):
            return topic, raw[len(prefix):]
    shown = ", ".join(repr(topic) for _, topic in prepared)
    raise UnknownTopic(
        f"event {raw[:40]!r}{'...' if len(raw) > 40 else ''} starts with none of the topics "
        f"{shown}; pass every topic this plugin subscribes to"
    )


def decode(data: _BytesLike, topics: Iterable[Topic]) -> Event:
    """Like :func:`split_event`, but return an :class:`Event` named tuple."""
    return Event(*split_event(data, topics))
