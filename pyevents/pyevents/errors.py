"""Exceptions raised by :mod:`pyevents`.

All of them derive from :class:`PyEventsError`, so ``except PyEventsError``
catches every failure reported by this package.  Where a built-in exception
has the same meaning it is a second base class (e.g. :class:`EngineTimeout`
is also a :class:`TimeoutError`).
"""

from __future__ import annotations

__all__ = [
    "PyEventsError",
    "EngineTimeout",
    "EngineGone",
    "PublishRejected",
    "BatchRefused",
    "PublishRefused",
    "PublishNotConfirmed",
    "ProtocolError",
    "UnknownTopic",
    "ClientClosed",
    "SecurityConfigError",
    "HandshakeFailed",
]


class PyEventsError(Exception):
    """Base class of every exception raised by :mod:`pyevents`."""


class EngineTimeout(PyEventsError, TimeoutError):
    """The engine did not answer a request within the client's timeout.

    The client has already reset its connection (closed the socket without
    lingering and reconnected), so it can be used again right away.  A
    request that timed out may still have been acted upon by the engine (a
    publish may have been published).  Events the engine sent in reply to a
    timed-out fetch are not lost with :class:`~pyevents.PluginClient`'s
    default at-least-once fetch: the engine sends them again to the next fetch.
    With ``at_least_once=False`` (or the legacy ``get_next_msg``) they are lost.
    """


class EngineGone(PyEventsError, ConnectionError):
    """The engine closed the connection (it shut down, crashed or restarted).

    Any request in flight is lost (events in flight are sent again by an engine
    that is still running, with the default at-least-once fetch; an engine
    that restarted starts a new numbering and has lost what it had queued).
    The client has reset its connection; the
    next call waits for an engine to accept the connection again (bounded by
    the client's timeout), so a plugin that should outlive an engine restart
    can simply retry, and one that should stop with the engine can exit.
    """


class PublishRejected(PyEventsError):
    """The engine refused to publish an event.

    :attr:`reason` holds the engine's explanation, typically that the event
    does not start with a topic the plugin declared it publishes.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"the engine rejected the event: {reason} "
            "(check that the event starts with a topic this plugin is configured to publish)"
        )
        self.reason = reason


class BatchRefused(PublishRejected):
    """The engine refused some events of a batch (:meth:`PluginClient.publish_many
    <pyevents.PluginClient.publish_many>`, :class:`~pyevents.BufferedPublisher`); it
    published the others.

    :attr:`published` is how many events of the call were published, :attr:`refused`
    lists the others as ``(index, reason)``, the index counting the call's events from 0:
    every event is in one or the other.  :attr:`reason` is the first refusal's reason.
    """

    def __init__(self, published: int, refused: "list[tuple[int, str]]") -> None:
        first = refused[0][1] if refused else "none"
        PyEventsError.__init__(
            self,
            f"the engine refused {len(refused)} of {published + len(refused)} events "
            f"(the first, event {refused[0][0] if refused else '-'}: {first}); it published the others",
        )
        self.reason = first
        self.published = published
        self.refused = refused


class PublishRefused(PublishRejected):
    """The application refused an event sent to its publish port, and said so.

    Raised by :func:`pyevents.tools.publish` (``pyevents pub``): e.g. the
    client's CURVE key is listed in ``security.publishers`` for other events
    only.  :attr:`reason` holds the application's words.
    """

    def __init__(self, reason: str) -> None:
        PyEventsError.__init__(self, f"the application refused the event: {reason}; it was not published "
                                     "(docs/security.md)")
        self.reason = reason


class PublishNotConfirmed(PyEventsError):
    """An event was sent to the publish port but the application did not confirm it in time.

    It may or may not have been published; nothing says which.
    """


class ProtocolError(PyEventsError):
    """The engine answered with something the protocol does not allow here.

    This points to a bug in, or a version mismatch with, the engine (for
    example an engine too old to know a command this client uses).
    """


class UnknownTopic(PyEventsError, ValueError):
    """An event does not start with any of the given topics."""


class ClientClosed(PyEventsError, RuntimeError):
    """The client was used after :meth:`PluginClient.close` or :meth:`PluginClient.quit`."""


class SecurityConfigError(PyEventsError, ValueError):
    """The CURVE keys given to pyevents are missing, unreadable or malformed.

    Raised when a socket would be created, before anything is sent: by
    :class:`~pyevents.PluginClient` when it is constructed and by the legacy
    :func:`~pyevents.get_plugin_socket`.  The message names the environment
    variable (``EVENT_ENGINE_SERVER_KEY`` / ``EVENT_ENGINE_CLIENT_KEY``) or the
    argument (``server_key`` / ``client_key``) and says what is wrong with it.
    :attr:`source` holds that name.
    """

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem} (see docs/security.md, \"Keys\")")
        self.source = source
        self.problem = problem


class HandshakeFailed(PyEventsError, ConnectionError):
    """The connection to the engine was refused during the ZeroMQ handshake.

    The engine and this client disagree about security: the engine refused
    this client's CURVE key, this client has the wrong public key for the
    engine, or only one side uses CURVE.  The message says which and what to
    change.  It is not an :class:`EngineGone` (retrying does not help), so a
    loop over :class:`~pyevents.PluginClient` does not end quietly on it.
    The client has reset its connection.
    """
