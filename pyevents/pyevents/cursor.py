"""The at-least-once bookkeeping of a plugin's events, without sockets.

The engine numbers the events it sends a plugin with ``fetch`` (per run of the
application: the *epoch*) and sends every event again until a later request
acknowledges it (docs/protocol.md).  A :class:`Cursor` keeps the client's side
of that: the epoch, the events fetched but not handed out yet, the number of
the last event handed out and of the last one acknowledged, what the next
request may acknowledge, and the duplicates it skipped.  It sends nothing:
:class:`pyevents.PluginClient` sends the requests it builds from it and gives
it the replies, so every rule here is tested without an engine
(tests/test_cursor.py).
"""

from __future__ import annotations

from typing import Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

from . import protocol
from .errors import ProtocolError

__all__ = ["Cursor", "FetchReply", "Payload", "parse_fetch_reply"]

#: What the client hands out: ``bytes``, or with ``copy=False`` a read-only ``memoryview``.
Payload = Union[bytes, memoryview]


class FetchReply(NamedTuple):
    """A ``fetch`` reply, checked: the number of its first event, the epoch, the events."""

    first: int
    epoch: str
    events: List[Payload]


def parse_fetch_reply(request: bytes, reply: Sequence[Payload], max_events: int) -> FetchReply:
    """Check the reply to the ``fetch`` *request* (which asked for at most *max_events*); raise
    :class:`~pyevents.errors.ProtocolError` saying what is wrong with it."""
    reason = protocol.error_reason(reply[0]) if len(reply) == 1 else None
    if reason is not None:
        raise ProtocolError(
            f"the engine refused {request!r}: {reason} (an engine without the at-least-once fetch: "
            "upgrade it, or pass at_least_once=False to PluginClient to use next_msg_wait/next_msgs)"
        )
    header = protocol.parse_events_header(bytes(reply[0]))
    if header is None:
        raise ProtocolError(
            f"the engine answered {request!r} with {reply[0][:60]!r} instead of "
            "'event-engine: events <first> <epoch>'"
        )
    first, epoch = header
    events = list(reply[1:])
    if first < 1:
        raise ProtocolError(f"the engine answered {request!r} with event number {first} (numbers start at 1)")
    if len(events) > max_events:
        raise ProtocolError(f"the engine answered {request!r} with {len(events)} events")
    if not all(events):
        raise ProtocolError(f"the engine answered {request!r} with an empty frame among events")
    return FetchReply(first, epoch, events)


class Pending:
    """The events of the last fetch reply not handed out yet, numbered from ``first``: a list
    and an index into it, so buffering and handing out cost no work per event (a deque of
    (number, event) pairs cost 0.3 µs per 100-byte event, a sixth of the client's time)."""

    __slots__ = ("first", "events", "next")

    def __init__(self) -> None:
        self.first = 1
        self.events: List[Payload] = []
        self.next = 0

    def __len__(self) -> int:
        return len(self.events) - self.next

    def __bool__(self) -> bool:
        return self.next < len(self.events)

    def __iter__(self) -> Iterator[Tuple[int, Payload]]:
        return enumerate(self.events[self.next:], self.first + self.next)

    def clear(self) -> None:
        self.events, self.next = [], 0

    def fill(self, first: int, events: List[Payload]) -> None:
        self.first, self.events, self.next = first, events, 0

    def take(self, count: int) -> Tuple[int, List[Payload]]:
        """Up to *count* events and the number of the last of them."""
        start = self.next
        self.next = min(len(self.events), start + count)
        taken = self.events[start:self.next] if start or self.next < len(self.events) else self.events
        return self.first + self.next - 1, taken


class Cursor:
    """Where a plugin is in the engine's numbering of its events.

    Events count as processed once :meth:`hand_out` returned them; the next request
    acknowledges them (:meth:`ack_number`), but only on a connection known to reach the
    run of the application that numbered them (:attr:`epoch_confirmed`): an
    acknowledgement is a bare number, which a restarted application would apply to its
    own new numbering.
    """

    def __init__(self) -> None:
        #: Events fetched but not handed out yet (iterating gives (number, event)).
        self.buffer = Pending()
        #: The engine's numbering (16 hex digits), or None before the first fetch reply.
        self.epoch: Optional[str] = None
        #: The number of the last event handed out in this epoch (0: none).
        self.last_handed = 0
        #: The highest number the engine confirmed acknowledged in this epoch (0: none).
        self.acked = 0
        #: Whether the current connection is known to reach the run of the application
        #: that numbered our events.
        self.epoch_confirmed = False
        #: Events the engine sent again that had been handed out already (skipped).
        self.duplicates_skipped = 0
        #: Mean size of the events of the last reply that had any (0: none yet).
        self.mean_event_bytes = 0

    @property
    def unacknowledged(self) -> bool:
        """Whether events were handed out that the engine has not confirmed acknowledged."""
        return self.last_handed > self.acked

    def ack_number(self) -> int:
        """What a request sent now may acknowledge: the last event handed out, if the engine is the
        run of the application that numbered it; else 0 (acknowledges nothing)."""
        return self.last_handed if self.epoch_confirmed else 0

    def connection_lost(self) -> None:
        """The connection was dropped or re-made: the next may reach a restarted application."""
        self.epoch_confirmed = False

    def fetch_size(self, max_events: int, fetch_bytes: Optional[int]) -> int:
        """How many events to ask for, at most *max_events*: about *fetch_bytes* (None: no bound)
        divided by the mean size of the last reply's events, at least one."""
        if fetch_bytes is not None and (isinstance(fetch_bytes, bool) or not isinstance(fetch_bytes, int)
                                        or fetch_bytes < 1):
            raise ValueError(f"fetch_bytes must be a positive int or None, got {fetch_bytes!r}")
        if fetch_bytes is not None and self.mean_event_bytes > 0:
            return max(1, min(max_events, fetch_bytes // self.mean_event_bytes))
        return max_events

    def note_epoch(self, epoch: str) -> Optional[str]:
        """Record the epoch a reply on this connection named (the connection is confirmed).

        Returns None if it is the current numbering; else the numbering starts over (nothing
        handed out, nothing acknowledged) and the previous epoch is returned (``""`` if there
        was none).
        """
        self.epoch_confirmed = True
        if self.epoch == epoch:
            return None
        previous = self.epoch or ""
        self.epoch, self.last_handed, self.acked = epoch, 0, 0
        return previous

    def received(self, reply: FetchReply, sent_ack: int) -> Tuple[Optional[str], int]:
        """Take a fetch reply to a request that acknowledged *sent_ack*: buffer its new events
        (after those held, for the reply to a fetch ahead).

        Returns (what :meth:`note_epoch` returned, how many of its events were duplicates).
        """
        held = self.highest_held()
        if self.buffer and reply.epoch != self.epoch:  # a fetch ahead is sent on a confirmed connection only
            raise ProtocolError(f"a fetch ahead was answered by another run of the application (epoch {reply.epoch})")
        previous = self.note_epoch(reply.epoch)
        if previous is None:
            self.acked = max(self.acked, sent_ack)
        if reply.events:
            self.mean_event_bytes = sum(map(len, reply.events)) // len(reply.events)
        # Numbers run on within a reply: the duplicates (handed out, or held from a reply
        # before) are a prefix of it.
        if previous is not None:
            held = 0
        duplicates = min(len(reply.events), max(0, held - reply.first + 1))
        fresh = reply.events[duplicates:] if duplicates else reply.events
        if self.buffer:  # the reply to a fetch ahead: its events follow the ones held
            if fresh and reply.first + duplicates != held + 1:
                raise ProtocolError(f"a fetch ahead was answered with event {reply.first + duplicates}, "
                                    f"not {held + 1}")
            self.buffer.fill(self.buffer.first + self.buffer.next, self.buffer.events[self.buffer.next:] + fresh)
        else:
            self.buffer.fill(reply.first + duplicates, fresh)
        self.duplicates_skipped += duplicates
        return previous, duplicates

    def highest_held(self) -> int:
        """The number of the last event this client has: in the buffer, or handed out."""
        if self.buffer:
            return self.buffer.first + len(self.buffer.events) - 1
        return self.last_handed

    def acknowledged(self, number: int) -> None:
        """The engine confirmed that every event numbered *number* or less is acknowledged."""
        self.acked = max(self.acked, number)

    def hand_out(self, count: int) -> List[Payload]:
        """Take up to *count* events from the buffer (at least one must wait there); from now on
        they count as processed."""
        self.last_handed, taken = self.buffer.take(count)
        return taken
