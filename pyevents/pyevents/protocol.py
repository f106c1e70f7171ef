"""Wire-protocol constants shared by the legacy helpers and :class:`PluginClient`.

Every request is one frame sent on a ZeroMQ REQ socket connected to the
engine's REP socket for the plugin's port; every reply arrives on the same
socket:

===========================================  ==================================================
request                                      reply
===========================================  ==================================================
``plugin_command: next_msg``                 one frame: the next event (blocks until one exists)
``plugin_command: next_msg_wait <ms>``       one frame: the next event, or an empty frame if
                                             none arrived within ``<ms>`` milliseconds
``plugin_command: next_msgs <max> <ms>``     1..max frames (one event each), or a single empty
                                             frame if none arrived within ``<ms>``
``plugin_command: fetch <max> <ms> <ack>``   at-least-once fetch: ``event-engine: events <first>
                                             <epoch>`` then 0..max events, numbered ``<first>``,
                                             ``<first>+1``, ...; first forgets (acknowledges)
                                             every event numbered ``<ack>`` or less
``plugin_command: ack <ack>``                ``event-engine: acknowledged <ack>``
``plugin_command: publish_batch <s> <n>``    several frames: this command, then 1..100000
followed by the events, one per frame        events; reply ``event-engine: published <n>
                                             <accepted> <refused>``, then one frame
                                             ``<first> <last> <reason>`` per run of refused
                                             events; a batch sent again (same session *s*,
                                             same number *n*) gets the same reply and is not
                                             published again
``plugin_command: ping``                     ``event-engine: pong``
``plugin_command: quit``                     ``event-engine: quit acknowledged``
anything else (an event to publish)          ``event-engine: msg published``
===========================================  ==================================================

``next_msg``, ``next_msg_wait`` and ``next_msgs`` are *at most once*: an event
whose reply never reaches the client is lost.  ``fetch`` is *at least once*:
the engine numbers the events it sends (per run of the application; the
``<epoch>``, 16 hex digits, names the run) and sends every unacknowledged
event again, with its number, until a later ``fetch`` or ``ack`` carries a
number at or above it.  A client detects the duplicates by their numbers.

Any error is answered with one frame starting with ``event-engine: error: ``
followed by a human-readable reason.
"""

from __future__ import annotations

import os
import re
from typing import Any, List, Optional, Tuple, Union

__all__ = [
    "COMMAND_PREFIX",
    "NEXT_MSG",
    "QUIT",
    "PING",
    "MANIFEST",
    "REPLY_PUBLISHED",
    "REPLY_QUIT_ACK",
    "REPLY_PONG",
    "REPLY_ERROR_PREFIX",
    "REPLY_EVENTS_PREFIX",
    "REPLY_ACKNOWLEDGED_PREFIX",
    "REPLY_BATCH_PREFIX",
    "REASON_NOT_ONE_FRAME",
    "REASON_UNKNOWN_COMMAND",
    "REASON_STOPPING",
    "REASON_NOT_SENT_STOPPING",
    "REASON_STALE_BATCH",
    "REASON_BATCH_TOO_LARGE",
    "MAX_BATCH",
    "MAX_WAIT_MS",
    "HOST_ENV_VAR",
    "next_msg_wait",
    "next_msgs",
    "fetch",
    "ack",
    "publish_batch",
    "parse_events_header",
    "parse_batch_reply",
    "parse_acknowledged",
    "resolve_host",
    "error_reason",
    "checked_event",
    "BytesLike",
]

COMMAND_PREFIX = b"plugin_command:"
NEXT_MSG = b"plugin_command: next_msg"
QUIT = b"plugin_command: quit"
PING = b"plugin_command: ping"
#: Asks for the application's manifest (on a plugin port or the introspection endpoint).
MANIFEST = b"plugin_command: manifest"

REPLY_PUBLISHED = b"event-engine: msg published"
REPLY_QUIT_ACK = b"event-engine: quit acknowledged"
REPLY_PONG = b"event-engine: pong"
REPLY_ERROR_PREFIX = b"event-engine: error: "
#: First frame of a ``fetch`` reply: ``event-engine: events <first> <epoch>``.
REPLY_EVENTS_PREFIX = b"event-engine: events "
#: Reply to ``ack <n>``: ``event-engine: acknowledged <n>``.
REPLY_ACKNOWLEDGED_PREFIX = b"event-engine: acknowledged "
#: First frame of a ``publish_batch`` reply: ``event-engine: published <sequence> <accepted> <refused>``.
REPLY_BATCH_PREFIX = b"event-engine: published "

# How the reasons of some error replies start (after ``event-engine: error: ``); the client
# tells an engine without ``publish_batch`` (it answers a batch with one of the first two)
# and a stopping application by them.
#: An engine that takes one frame per request only (no ``publish_batch``).
REASON_NOT_ONE_FRAME = "send one frame per request"
#: An engine that does not know the command.
REASON_UNKNOWN_COMMAND = "unknown command"
#: The application is stopping: it refuses the events of a batch with this reason.
REASON_STOPPING = "the application is stopping"
#: The reason :meth:`pyevents.PluginClient.publish_many` gives the events it did not send
#: once the application is stopping.
REASON_NOT_SENT_STOPPING = "not sent: " + REASON_STOPPING
#: A publish batch numbered below its session's last (another client, or a stranger, used the
#: session): the client starts a new session.
REASON_STALE_BATCH = "comes after batch"
#: A publish batch whose events hold more bytes than the application's max_message_size.
REASON_BATCH_TOO_LARGE = "more than the application's max_message_size"

#: Most events one ``next_msgs`` or ``fetch`` request may ask for (the engine refuses more).
MAX_BATCH = 100_000

#: Longest wait, in milliseconds, one request may ask the engine for (the engine refuses more).
MAX_WAIT_MS = 3_600_000

#: Environment variable overriding the default engine host (for both APIs).
HOST_ENV_VAR = "EVENT_ENGINE_HOST"


def next_msg_wait(wait_ms: int) -> bytes:
    """Build a ``next_msg_wait`` request waiting at most *wait_ms* milliseconds."""
    return b"plugin_command: next_msg_wait %d" % wait_ms


def next_msgs(max_events: int, wait_ms: int) -> bytes:
    """Build a ``next_msgs`` request for up to *max_events* events, waiting at most *wait_ms* ms."""
    return b"plugin_command: next_msgs %d %d" % (max_events, wait_ms)


def fetch(max_events: int, wait_ms: int, ack_number: int, have: int = 0) -> bytes:
    """Build a ``fetch`` request: up to *max_events* events, waiting at most *wait_ms* ms for
    the first, after acknowledging every event numbered *ack_number* or less (0: none); with
    *have*, the client holds the events up to that number already (a fetch ahead): the engine
    does not send them again."""
    if have:
        return b"plugin_command: fetch %d %d %d %d" % (max_events, wait_ms, ack_number, have)
    return b"plugin_command: fetch %d %d %d" % (max_events, wait_ms, ack_number)


def ack(ack_number: int) -> bytes:
    """Build an ``ack`` request acknowledging every event numbered *ack_number* or less."""
    return b"plugin_command: ack %d" % ack_number


def publish_batch(session: str, sequence: int) -> bytes:
    """Build the first frame of a ``publish_batch`` request (the events follow, one per frame).

    *session* names the client (1 to 64 letters, digits, ``-``, ``_``, ``.``); *sequence*
    numbers its batches from 1, growing: a batch sent again with the same pair is answered
    as the first time and not published twice."""
    return b"plugin_command: publish_batch %s %d" % (session.encode("ascii"), sequence)


_EVENTS_HEADER = re.compile(rb"event-engine: events (\d{1,20}) ([0-9A-Fa-f]{16})\Z")
_ACKNOWLEDGED = re.compile(rb"event-engine: acknowledged (\d{1,20})\Z")


def parse_events_header(frame: bytes) -> Optional[Tuple[int, str]]:
    """Parse the first frame of a ``fetch`` reply into ``(first, epoch)``.

    *first* is the number of the reply's first event (or, with no event, of
    the next one); *epoch* is the 16 hex digits naming the numbering, in lower
    case.  Returns ``None`` if *frame* is not such a header.
    """
    match = _EVENTS_HEADER.match(frame)
    if match is None:
        return None
    return int(match.group(1)), match.group(2).decode("ascii").lower()


def parse_acknowledged(frame: bytes) -> Optional[int]:
    """The number in an ``event-engine: acknowledged <n>`` reply, or ``None`` for any other frame."""
    match = _ACKNOWLEDGED.match(frame)
    return None if match is None else int(match.group(1))


_BATCH_HEADER = re.compile(rb"event-engine: published (\d{1,20}) (\d{1,20}) (\d{1,20})\Z")
_REFUSED_RUN = re.compile(rb"(\d{1,20}) (\d{1,20}) (.*)\Z", re.DOTALL)


def parse_batch_reply(frames: List[bytes]) -> Optional[Tuple[int, int, List[Tuple[int, int, str]]]]:
    """Parse a ``publish_batch`` reply into ``(sequence, accepted, runs)``.

    *runs* lists the refused events as ``(first, last, reason)``, indices in the batch from 0,
    inclusive.  Returns ``None`` if the frames are not such a reply (an error reply, say), or
    if the runs do not add up to the refused count the first frame gives.
    """
    if not frames:
        return None
    match = _BATCH_HEADER.match(bytes(frames[0]))
    if match is None:
        return None
    sequence, accepted, refused = (int(group) for group in match.groups())
    runs: List[Tuple[int, int, str]] = []
    for frame in frames[1:]:
        run = _REFUSED_RUN.match(bytes(frame))
        if run is None:
            return None
        first, last = int(run.group(1)), int(run.group(2))
        if last < first:
            return None
        runs.append((first, last, run.group(3).decode("utf-8", "replace")))
    if sum(last - first + 1 for first, last, _ in runs) != refused:
        return None
    return sequence, accepted, runs


#: What a frame may be: ``bytes``, ``bytearray`` or a ``memoryview``.
BytesLike = Union[bytes, bytearray, memoryview]


def error_reason(frame: BytesLike) -> Optional[str]:
    """The reason of an ``event-engine: error: ...`` reply, or None for any other reply."""
    if frame[:len(REPLY_ERROR_PREFIX)] == REPLY_ERROR_PREFIX:
        return bytes(frame[len(REPLY_ERROR_PREFIX):]).decode("utf-8", "replace")
    return None


def checked_event(data: Any) -> BytesLike:
    """*data* if it can be published as an event: bytes-like, not empty, not a command
    (a non-contiguous view is copied to contiguous bytes)."""
    if type(data) is bytes and data and not data.startswith(COMMAND_PREFIX):
        return data  # the common case (e.g. Contract.encode's frames), checked without views
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"an event must be bytes, not {type(data).__name__}")
    view = memoryview(data)
    if view.nbytes == 0:
        raise ValueError("cannot publish an empty event")
    if not view.c_contiguous:  # a socket takes contiguous bytes only
        data = view = memoryview(view.tobytes())
    if view.cast("B")[: len(COMMAND_PREFIX)] == COMMAND_PREFIX:
        raise ValueError(f"an event must not start with {COMMAND_PREFIX!r} (reserved for commands)")
    return data


def resolve_host(host: Optional[str], default: str) -> str:
    """Return *host* if given, else ``$EVENT_ENGINE_HOST`` if set and non-empty, else *default*."""
    if host is not None:
        return host
    return os.environ.get(HOST_ENV_VAR) or default
