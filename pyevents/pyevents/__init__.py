"""Python helpers for writing external event_engine plugins.

Two APIs are provided:

* :class:`PluginClient` -- the recommended, Pythonic client (at-least-once
  fetch, timeouts that keep the connection usable, batches, iteration, typed
  errors);
* :class:`Contract` -- the application's events, typed, from its manifest
  (docs/python.md): topics by event name, reflective events decoded to and
  encoded from dataclasses; ``PluginClient(contract=...)`` yields them;
* the legacy helpers :func:`get_plugin_socket`, :func:`get_next_msg`,
  :func:`publish_msg` and :func:`send_quit_command`, unchanged from the
  original ``events`` module (also importable as top-level ``events`` with
  the distribution's directory on the path, or when installed with
  ``PYEVENTS_INSTALL_EVENTS_MODULE=1``).

The engine host defaults to ``127.0.0.1`` for :class:`PluginClient` and to
``engine`` for :func:`get_plugin_socket`; the environment variable
``EVENT_ENGINE_HOST`` overrides both defaults.

Both APIs speak CURVE when ``EVENT_ENGINE_SERVER_KEY`` (the application's
public key) and ``EVENT_ENGINE_CLIENT_KEY`` (this plugin's secret key) are set;
see :mod:`pyevents.security`.  ``python3 -m pyevents keygen DIR NAME`` writes
a key pair; ``list``, ``echo``, ``hz``, ``graph`` and ``pub`` look at a running
application (:mod:`pyevents.cli`).
"""

from __future__ import annotations

from .client import DEFAULT_HOST, PluginClient
from .publisher import BufferedPublisher
from .contract import Contract, ContractError, Decoded, EventType, UntypedEvent, fetch_manifest
from .errors import (
    BatchRefused,
    ClientClosed,
    EngineGone,
    EngineTimeout,
    HandshakeFailed,
    ProtocolError,
    PublishNotConfirmed,
    PublishRefused,
    PublishRejected,
    PyEventsError,
    SecurityConfigError,
    UnknownTopic,
)
from .events import get_next_msg, get_plugin_socket, publish_msg, send_quit_command
from .topics import Event, Topic, decode, encode_topic, split_event

#: The package's version: the only place it is written (pyproject.toml reads it from here).
__version__ = "0.1.0"

__all__ = [
    "PluginClient",
    "BufferedPublisher",
    "DEFAULT_HOST",
    "Contract",
    "ContractError",
    "Decoded",
    "EventType",
    "UntypedEvent",
    "fetch_manifest",
    "Event",
    "Topic",
    "decode",
    "encode_topic",
    "split_event",
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
    "get_plugin_socket",
    "get_next_msg",
    "publish_msg",
    "send_quit_command",
]
