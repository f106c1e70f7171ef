"""Wire-protocol constants shared by the legacy helpers and :class:`PluginClient`.

Every request is one frame sent on a ZeroMQ REQ socket connected to the
engine's REP socket for the plugin's port; every reply arrives on the same
socket:

==========================================  ===================================================
request                                     reply
==========================================  ===================================================
``plugin_command: next_msg``                one frame: the next event (blocks until one exists)
``plugin_command: next_msg_wait <ms>``      one frame: the next event, or an empty frame if
                                            none arrived within ``<ms>`` milliseconds
``plugin_command: next_msgs <max> <ms>``    1..max frames (one event each), or a single empty
                                            frame if none arrived within ``<ms>``
``plugin_command: ping``                    ``event-engine: pong``
``plugin_command: quit``                    ``event-engine: quit acknowledged``
anything else (an event to publish)         ``event-engine: msg published``
==========================================  ===================================================

Any error is answered with one frame starting with ``event-engine: error: ``
followed by a human-readable reason.
"""

from __future__ import annotations

import os
from typing import Optional

__all__ = [
    "COMMAND_PREFIX",
    "NEXT_MSG",
    "QUIT",
    "PING",
    "REPLY_PUBLISHED",
    "REPLY_QUIT_ACK",
    "REPLY_PONG",
    "REPLY_ERROR_PREFIX",
    "MAX_BATCH",
    "HOST_ENV_VAR",
    "next_msg_wait",
    "next_msgs",
    "resolve_host",
]

COMMAND_PREFIX = b"plugin_command:"
NEXT_MSG = b"plugin_command: next_msg"
QUIT = b"plugin_command: quit"
PING = b"plugin_command: ping"

REPLY_PUBLISHED = b"event-engine: msg published"
REPLY_QUIT_ACK = b"event-engine: quit acknowledged"
REPLY_PONG = b"event-engine: pong"
REPLY_ERROR_PREFIX = b"event-engine: error: "

#: Most events one ``next_msgs`` request may ask for (the engine refuses more).
MAX_BATCH = 100_000

#: Environment variable overriding the default engine host (for both APIs).
HOST_ENV_VAR = "EVENT_ENGINE_HOST"


def next_msg_wait(wait_ms: int) -> bytes:
    """Build a ``next_msg_wait`` request waiting at most *wait_ms* milliseconds."""
    return b"plugin_command: next_msg_wait %d" % wait_ms


def next_msgs(max_events: int, wait_ms: int) -> bytes:
    """Build a ``next_msgs`` request for up to *max_events* events, waiting at most *wait_ms* ms."""
    return b"plugin_command: next_msgs %d %d" % (max_events, wait_ms)


def resolve_host(host: Optional[str], default: str) -> str:
    """Return *host* if given, else ``$EVENT_ENGINE_HOST`` if set and non-empty, else *default*."""
    if host is not None:
        return host
    return os.environ.get(HOST_ENV_VAR) or default
