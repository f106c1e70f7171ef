"""The original event-engine plugin helpers (legacy API).

These four functions keep the names, signatures and behaviour of the
original ``events`` module, so existing plugins keep working::

    import zmq
    from events import get_plugin_socket, get_next_msg, publish_msg, send_quit_command

    context = zmq.Context()
    socket = get_plugin_socket(context, port)
    while True:
        msg_bytes = get_next_msg(socket)
        ...                                   # do something with the message
        publish_msg(socket, some_bytes)
        if some_condition:
            break
    send_quit_command(socket)

Timeouts are the original's: :func:`get_next_msg` sets the socket's
``RCVTIMEO`` to its *timeout* argument (``-1``, wait forever, by default);
:func:`publish_msg` waits for the engine's reply for as long as it takes,
whatever the socket's ``RCVTIMEO`` (its send obeys ``SNDTIMEO``);
:func:`send_quit_command` sends and returns without waiting for the reply.

Differences from the original: progress and problems are reported through
:mod:`logging` (logger ``pyevents.events``) instead of ``print()``; the
default host of :func:`get_plugin_socket` can be overridden with the
environment variable ``EVENT_ENGINE_HOST``; and :func:`get_plugin_socket`
makes a CURVE socket when ``EVENT_ENGINE_SERVER_KEY`` and
``EVENT_ENGINE_CLIENT_KEY`` are set (see :mod:`pyevents.security`), so a
plugin can be secured without changing its code.

:func:`get_next_msg` uses the engine's ``next_msg`` command, which is *at most
once*: an event whose reply is in flight when the plugin dies is lost.  New
code should prefer :class:`pyevents.PluginClient`, which fetches at least once
and never leaves the socket in a broken state after a timeout.
"""

from __future__ import annotations

import logging
from typing import Optional, Union

import zmq

from .protocol import NEXT_MSG, QUIT, REPLY_PUBLISHED, resolve_host
from .security import curve_config

__all__ = ["get_plugin_socket", "get_next_msg", "publish_msg", "send_quit_command"]

logger = logging.getLogger(__name__)

#: Default engine host of the legacy API (the engine's name on the docker network).
LEGACY_DEFAULT_HOST = "engine"


def get_plugin_socket(context: zmq.Context, port: Union[int, str], host: Optional[str] = None) -> zmq.Socket:
    """Create the REQ socket a plugin uses to talk to the engine.

    The socket is connected to ``tcp://{host}:{port}``; *port* is the port
    configured for the plugin in the engine.  If *host* is not given, the
    environment variable ``EVENT_ENGINE_HOST`` is used if set, otherwise
    ``"engine"`` (the engine's name on the docker network).  Setting
    ``EVENT_ENGINE_HOST=127.0.0.1`` lets an unmodified plugin run on the same
    machine as the engine.

    If ``EVENT_ENGINE_SERVER_KEY`` and ``EVENT_ENGINE_CLIENT_KEY`` are set,
    the socket is a CURVE client with those keys (docs/security.md);
    :class:`~pyevents.errors.SecurityConfigError` is raised, before any
    socket is created, if only one is set or a key cannot be loaded.
    """
    host = resolve_host(host, LEGACY_DEFAULT_HOST)
    curve = curve_config()
    plugin_socket = context.socket(zmq.REQ)
    endpoint = f"tcp://{host}:{port}"
    try:
        if curve is not None:
            curve.apply(plugin_socket)
        logger.debug("connecting plugin socket to %s%s", endpoint, " (CURVE)" if curve is not None else "")
        plugin_socket.connect(endpoint)
    except BaseException:
        plugin_socket.close(linger=0)
        raise
    return plugin_socket


def get_next_msg(socket: zmq.Socket, timeout: int = -1) -> bytes:
    """Get the next message for this plugin.

    Blocks until the next message is returned, or until *timeout*
    milliseconds have passed (``-1``, the default, waits forever).  If the
    timeout is reached first, :class:`zmq.error.Again` ("Resource temporarily
    unavailable") is raised.  Note that the REQ socket is then still waiting
    for that reply and cannot send another request: use
    :meth:`pyevents.PluginClient.next_event` for timeouts that keep the
    connection usable.

    The raw bytes (topic followed by payload) are returned; they typically
    need to be converted into the message format of your application.

    Delivery is *at most once*: the engine counts the event as delivered when
    it sends the reply, so if the plugin dies (or gives up after *timeout*)
    with the reply in flight, that event is lost.  :class:`pyevents.PluginClient`
    fetches at least once.
    """
    logger.debug("requesting the next message")
    socket.RCVTIMEO = timeout
    try:
        socket.send(NEXT_MSG)
    except Exception as e:
        logger.error("got exception trying to send next_msg command; details: %s", e)
        raise
    logger.debug("request made; waiting for reply")
    data = socket.recv()
    logger.debug("got reply (%d bytes)", len(data))
    return data


def publish_msg(socket: zmq.Socket, data: bytes) -> Optional[str]:
    """Publish a new message.

    *data* should be raw bytes starting with the event's topic.  Returns the
    reply from the engine (``"event-engine: msg published"`` on success); an
    unexpected reply is logged as a warning.

    As in the original, the send blocks (the socket's ``SNDTIMEO`` applies)
    and the reply is waited for as long as it takes: the socket's ``RCVTIMEO``
    (which :func:`get_next_msg` sets to its *timeout*) does not apply, so a
    slow engine never makes a publish fail.
    """
    try:
        socket.send(data)
    except Exception as e:
        logger.error("got exception trying to publish a new message; details: %s", e)
        raise
    if not socket.poll(None, zmq.POLLIN):  # no timeout: returns once the reply is there
        logger.error("no response from engine when trying to publish a new message")
        return None
    reply = socket.recv_string(zmq.NOBLOCK)
    if REPLY_PUBLISHED.decode() not in reply:
        logger.warning("unexpected response from engine when trying to publish a message; response: %s", reply)
    return reply


def send_quit_command(socket: zmq.Socket) -> None:
    """Tell the engine that this plugin is going to terminate.

    As in the original, this sends ``plugin_command: quit`` and returns: the
    engine's acknowledgement is neither waited for nor read.  The command
    leaves the process when ZeroMQ gets to it, also while the interpreter
    exits; do not close the socket or destroy the context with ``linger=0``
    right after it.
    """
    try:
        socket.send(QUIT)
    except Exception as e:
        logger.error("got exception trying to send quit command; details: %s", e)
        raise
