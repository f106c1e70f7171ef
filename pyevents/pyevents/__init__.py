"""Python helpers for writing external event_engine plugins.

Two APIs are provided:

* :class:`PluginClient` -- the recommended, Pythonic client (timeouts that
  keep the connection usable, batch fetch, iteration, typed errors);
* the legacy helpers :func:`get_plugin_socket`, :func:`get_next_msg`,
  :func:`publish_msg` and :func:`send_quit_command`, unchanged from the
  original ``events`` module (also importable as top-level ``events``).

The engine host defaults to ``127.0.0.1`` for :class:`PluginClient` and to
``engine`` for :func:`get_plugin_socket`; the environment variable
``EVENT_ENGINE_HOST`` overrides both defaults.
"""

from __future__ import annotations

from .client import DEFAULT_HOST, PluginClient
from .errors import (
    ClientClosed,
    EngineGone,
    EngineTimeout,
    ProtocolError,
    PublishRejected,
    PyEventsError,
    UnknownTopic,
)
from .events import get_next_msg, get_plugin_socket, publish_msg, send_quit_command
from .topics import Event, Topic, decode, encode_topic, split_event

__version__ = "0.1.0"

__all__ = [
    "PluginClient",
    "DEFAULT_HOST",
    "Event",
    "Topic",
    "decode",
    "encode_topic",
    "split_event",
    "PyEventsError",
    "EngineTimeout",
    "EngineGone",
    "PublishRejected",
    "ProtocolError",
    "UnknownTopic",
    "ClientClosed",
    "get_plugin_socket",
    "get_next_msg",
    "publish_msg",
    "send_quit_command",
]
