"""Compatibility module: ``from events import ...`` as in the original event-engine.

Existing plugins written against the original helper module keep working
unchanged when this directory is on ``PYTHONPATH``, or when the ``pyevents``
distribution was installed with ``PYEVENTS_INSTALL_EVENTS_MODULE=1`` (without it,
pip installs ``pyevents`` only; README.md, "Legacy API")::

    from events import get_plugin_socket, get_next_msg, publish_msg, send_quit_command

Set ``EVENT_ENGINE_HOST=127.0.0.1`` to run such a plugin on the engine's
machine instead of on the docker network where the engine is called
``engine``; set ``EVENT_ENGINE_SERVER_KEY`` and ``EVENT_ENGINE_CLIENT_KEY`` to
connect to an application that requires CURVE keys (docs/security.md).  New
code should use ``pyevents.PluginClient`` instead (at-least-once delivery).
"""

from pyevents.events import get_next_msg, get_plugin_socket, publish_msg, send_quit_command

__all__ = ["get_plugin_socket", "get_next_msg", "publish_msg", "send_quit_command"]
