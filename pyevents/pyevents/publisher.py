"""A buffered publisher: many events per request, flushed by count, bytes or time.

Example::

    with PluginClient(6000, contract=contract) as client, client.publisher(max_events=500) as out:
        for image in client.events():
            out.publish_typed(Score(image=image.id, score=score(image)))
    # leaving the block publishes what is still buffered

A :class:`BufferedPublisher` collects events and publishes them with
:meth:`PluginClient.publish_many <pyevents.PluginClient.publish_many>`, one
``publish_batch`` request per batch (docs/protocol.md).  It has no thread of its
own: a buffer is published

* when it holds *max_events* events or *max_bytes* bytes,
* when an event is added and the oldest buffered one is *max_delay* seconds old,
* before its client waits for events (:meth:`~pyevents.PluginClient.next_event`,
  :meth:`~pyevents.PluginClient.next_events`, iteration, ``events()``), so a plugin that
  answers what it receives never leaves its answers waiting for the next input,
* on :meth:`flush`, :meth:`close`, at the end of a ``with`` block, and when its client
  quits or closes.

Buffered bytes are not copied: do not change a ``bytearray`` or array after handing it
to :meth:`publish` until it has been flushed.
"""

from __future__ import annotations

import logging
import math
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, List, Optional, Type, Union

from .contract import MISSING, require_contract
from .errors import BatchRefused, ClientClosed, EngineGone, PyEventsError
from .protocol import BytesLike, checked_event
from .topics import Topic, encode_topic

if TYPE_CHECKING:
    from .client import PluginClient

__all__ = ["BufferedPublisher"]

logger = logging.getLogger(__name__)


class BufferedPublisher:
    """Publishes events for a :class:`~pyevents.PluginClient` in batches; made by
    :meth:`PluginClient.publisher <pyevents.PluginClient.publisher>`.

    :param max_events: publish once this many events are buffered (1 to 100,000).
    :param max_bytes: publish once the buffered events hold this many bytes.
    :param max_delay: publish when an event is added and the oldest buffered one is this
        many seconds old (0: every event is published at once, in a batch of one).
    """

    def __init__(self, client: "PluginClient", *, max_events: int = 1000, max_bytes: int = 8 << 20,
                 max_delay: float = 0.05) -> None:
        if isinstance(max_events, bool) or not isinstance(max_events, int) or not 1 <= max_events <= 100_000:
            raise ValueError(f"max_events must be an int from 1 to 100000, got {max_events!r}")
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise ValueError(f"max_bytes must be a positive int, got {max_bytes!r}")
        if isinstance(max_delay, bool) or not isinstance(max_delay, (int, float)) or not math.isfinite(max_delay) \
                or max_delay < 0:
            raise ValueError(f"max_delay must be a finite number of seconds >= 0, got {max_delay!r}")
        self._client = client
        self._max_events = max_events
        self._max_bytes = max_bytes
        self._max_delay = float(max_delay)
        self._buffer: List[BytesLike] = []
        self._bytes = 0
        self._oldest = 0.0
        self._closed = False
        # What a flush before its client waited for events raised: raised by the next call here.
        self._deferred: Optional[BaseException] = None
        self._told_gone = False
        #: Events this publisher has had published so far.
        self.published = 0
        client._publishers.append(self)

    @property
    def pending(self) -> int:
        """Events buffered and not yet published."""
        return len(self._buffer)

    def publish(self, data: BytesLike) -> None:
        """Buffer the raw event *data* (topic followed by payload); publish the buffer if it
        is full or old enough.  Raises what :meth:`flush` raises when it publishes (the event
        is buffered then: do not publish it again), and first what a flush before the client
        waited for events raised."""
        self._ensure_open()
        self._raise_deferred()
        frame = checked_event(data)
        if not self._buffer:
            self._oldest = time.monotonic()
        self._buffer.append(frame)
        self._bytes += memoryview(frame).nbytes
        if (len(self._buffer) >= self._max_events or self._bytes >= self._max_bytes
                or time.monotonic() - self._oldest >= self._max_delay):
            self.flush()

    def publish_event(self, name_or_topic: Topic, payload: Union[BytesLike, str] = b"") -> None:
        """Buffer an event made of a topic (an event name) and a payload (``str``: UTF-8)."""
        if isinstance(payload, str):
            body: BytesLike = payload.encode("utf-8")
        elif isinstance(payload, (bytes, bytearray, memoryview)):
            body = payload
        else:
            raise TypeError(f"payload must be bytes or str, not {type(payload).__name__}")
        self.publish(encode_topic(name_or_topic) + bytes(body))

    def publish_typed(self, event: Any, value: Any = MISSING, /, **fields: Any) -> None:
        """Buffer a typed event, as :meth:`PluginClient.publish_typed
        <pyevents.PluginClient.publish_typed>` takes it."""
        self.publish(require_contract(self._client.contract, "publish_typed()").encode(event, value, **fields))

    def flush(self) -> int:
        """Publish every buffered event now; return how many were published.

        Raises :class:`~pyevents.errors.BatchRefused` if the engine refused some (their
        indices count from the oldest buffered event; the buffer is empty afterwards).  If
        the connection fails (what :meth:`PluginClient.publish_many
        <pyevents.PluginClient.publish_many>` raises), the events the engine did not confirm
        stay buffered and a later flush sends them again, the unanswered batch under its old
        number: the engine publishes it once (while it remembers it, docs/protocol.md).
        Raises first what a flush before the client waited for events raised.
        """
        self._raise_deferred()
        return self._flush_within(self._client.timeout, self._client._publish_retries())

    def _flush_within(self, reply_timeout: Optional[float], retries: int = 0) -> int:
        """flush() with a reply timeout and retries of its own (quit and close give theirs)."""
        if not self._buffer:
            return 0
        if self._client._engine_gone() and not self._told_gone:
            # Its last request found the application gone: a new request would wait for it to
            # come back (forever, without a timeout), e.g. in the close at the end of a loop
            # that ended because the application did.
            gone = EngineGone(f"the engine at {self._client.endpoint} closed the connection; {len(self._buffer)} "
                              "buffered events were not published (flush again to wait for it to come back)")
            setattr(gone, "published", 0)
            self._told_gone = True  # said once: the next flush waits for the application
            raise gone
        frames = self._buffer
        try:
            published = self._client._publish_frames(frames, reply_timeout, retries)
        except BatchRefused as e:
            self._clear()
            self.published += e.published
            raise
        except Exception as e:
            handled = getattr(e, "handled", 0)  # the engine answered for the first ones; keep the rest
            self._buffer = frames[handled:]
            self._bytes = sum(memoryview(frame).nbytes for frame in self._buffer)
            self.published += getattr(e, "published", 0)
            raise
        self._clear()
        self.published += published
        self._told_gone = False
        return published

    def _flush_before_wait(self) -> None:
        """The flush before the client waits for events: what goes wrong is raised by this
        publisher's next call, not by the client's fetch; only ``EngineGone`` goes on."""
        if not self._buffer or self._deferred is not None:
            return
        try:
            self.flush()
        except EngineGone:
            raise
        except (BatchRefused, PyEventsError) as e:
            self._deferred = e

    def _raise_deferred(self) -> None:
        if self._deferred is not None:
            deferred, self._deferred = self._deferred, None
            raise deferred

    def close(self) -> None:
        """Flush, then stop: later :meth:`publish` calls raise
        :class:`~pyevents.errors.ClientClosed`.  Calling it again does nothing."""
        if self._closed:
            return
        try:
            if not self._client.closed:
                self.flush()
            elif self._buffer:
                logger.warning("closing a publisher whose client is closed: %d buffered events were not published",
                               len(self._buffer))
        finally:
            self._closed = True
            if self in self._client._publishers:
                self._client._publishers.remove(self)

    def __enter__(self) -> "BufferedPublisher":
        self._ensure_open()
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        if exc is None:
            self.close()
            return
        try:  # the block failed: publish what it buffered, without hiding its exception
            self.close()
        except Exception:
            logger.exception("could not publish the buffered events")

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._buffer)} pending"
        return f"<BufferedPublisher {state}, {self.published} published>"

    def _clear(self) -> None:
        self._buffer = []
        self._bytes = 0

    def _ensure_open(self) -> None:
        if self._closed:
            raise ClientClosed("this publisher is closed; make a new one with client.publisher()")
