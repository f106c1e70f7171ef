"""The at-least-once bookkeeping (pyevents.cursor), without sockets or an engine.

The client's tests against the protocol fixture and the engine check the same rules
end to end; these check each rule of the numbering on its own.
"""

from __future__ import annotations

import pytest

from pyevents import protocol
from pyevents.cursor import Cursor, FetchReply, parse_fetch_reply
from pyevents.errors import ProtocolError

EPOCH = "0123456789abcdef"
OTHER_EPOCH = "fedcba9876543210"


def reply(first: int, *events: bytes, epoch: str = EPOCH) -> FetchReply:
    return FetchReply(first, epoch, list(events))


def test_a_new_cursor_has_nothing_and_acknowledges_nothing() -> None:
    cursor = Cursor()
    assert (cursor.epoch, cursor.last_handed, cursor.acked, cursor.duplicates_skipped) == (None, 0, 0, 0)
    assert not cursor.buffer and not cursor.unacknowledged
    assert cursor.ack_number() == 0


def test_events_are_buffered_then_handed_out_in_order() -> None:
    cursor = Cursor()
    assert cursor.received(reply(1, b"a", b"b", b"c"), 0) == ("", 0)
    assert cursor.epoch == EPOCH and cursor.epoch_confirmed
    assert cursor.hand_out(2) == [b"a", b"b"]
    assert cursor.last_handed == 2 and cursor.unacknowledged
    assert cursor.ack_number() == 2
    assert cursor.hand_out(5) == [b"c"]
    assert cursor.last_handed == 3 and not cursor.buffer


def test_the_next_fetch_acknowledges_what_was_handed_out() -> None:
    cursor = Cursor()
    cursor.received(reply(1, b"a", b"b"), 0)
    cursor.hand_out(2)
    sent = cursor.ack_number()
    assert cursor.received(reply(3, b"c"), sent) == (None, 0)
    assert cursor.acked == 2 and not cursor.unacknowledged


def test_events_sent_again_are_skipped_and_counted() -> None:
    cursor = Cursor()
    cursor.received(reply(1, b"a", b"b", b"c"), 0)
    cursor.hand_out(2)
    # The reply to the next fetch was lost: the engine sends 1..4 again, 1 and 2 were handed out.
    cursor.buffer.clear()  # the client only fetches with an empty buffer
    assert cursor.received(reply(1, b"a", b"b", b"c", b"d"), 0) == (None, 2)
    assert cursor.duplicates_skipped == 2
    assert cursor.hand_out(10) == [b"c", b"d"]
    assert cursor.last_handed == 4


def test_a_lost_connection_acknowledges_nothing_until_the_epoch_is_confirmed() -> None:
    cursor = Cursor()
    cursor.received(reply(1, b"a"), 0)
    cursor.hand_out(1)
    cursor.connection_lost()
    assert not cursor.epoch_confirmed and cursor.ack_number() == 0
    assert cursor.note_epoch(EPOCH) is None  # the same run of the application
    assert cursor.ack_number() == 1 and cursor.last_handed == 1


def test_a_new_epoch_starts_the_numbering_over() -> None:
    cursor = Cursor()
    cursor.received(reply(1, b"a", b"b"), 0)
    cursor.hand_out(2)
    cursor.connection_lost()
    previous, duplicates = cursor.received(reply(1, b"x", epoch=OTHER_EPOCH), cursor.ack_number())
    assert (previous, duplicates) == (EPOCH, 0)
    assert cursor.epoch == OTHER_EPOCH and (cursor.last_handed, cursor.acked) == (0, 0)
    assert cursor.hand_out(1) == [b"x"]  # number 1 again: not a duplicate in the new numbering


def test_an_ack_sent_to_a_new_epoch_does_not_count() -> None:
    cursor = Cursor()
    cursor.received(reply(1, b"a"), 0)
    cursor.hand_out(1)
    cursor.received(reply(2, epoch=OTHER_EPOCH), 1)
    assert cursor.acked == 0


def test_acknowledged_only_moves_forward() -> None:
    cursor = Cursor()
    cursor.received(reply(1, b"a", b"b"), 0)
    cursor.hand_out(2)
    cursor.acknowledged(2)
    cursor.acknowledged(1)
    assert cursor.acked == 2 and not cursor.unacknowledged


def test_fetch_size_follows_the_mean_size_of_the_last_reply() -> None:
    cursor = Cursor()
    assert cursor.fetch_size(100, 1000) == 100  # nothing known yet
    cursor.received(reply(1, b"x" * 300, b"y" * 100), 0)
    assert cursor.mean_event_bytes == 200
    assert cursor.fetch_size(100, 1000) == 5
    assert cursor.fetch_size(3, 1000) == 3
    assert cursor.fetch_size(100, 10) == 1  # at least one
    assert cursor.fetch_size(100, None) == 100
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="fetch_bytes must be a positive int or None"):
            cursor.fetch_size(100, bad)  # type: ignore[arg-type]


def test_parse_fetch_reply() -> None:
    request = protocol.fetch(10, 0, 0)
    parsed = parse_fetch_reply(request, [b"event-engine: events 7 0123456789ABCDEF", b"a", b"b"], 10)
    assert parsed == FetchReply(7, EPOCH, [b"a", b"b"])
    assert parse_fetch_reply(request, [b"event-engine: events 1 " + EPOCH.encode()], 10).events == []


@pytest.mark.parametrize("frames, message", [
    ([b"event-engine: error: unknown command"], "refused .*unknown command.*at_least_once=False"),
    ([b"hello"], "instead of 'event-engine: events <first> <epoch>'"),
    ([b"event-engine: events 0 " + EPOCH.encode(), b"a"], "event number 0"),
    ([b"event-engine: events 1 " + EPOCH.encode(), b"a", b"b", b"c"], "with 3 events"),
    ([b"event-engine: events 1 " + EPOCH.encode(), b"a", b""], "empty frame among events"),
])
def test_parse_fetch_reply_refuses_what_is_not_a_fetch_reply(frames: list, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_fetch_reply(protocol.fetch(2, 0, 0), frames, 2)
