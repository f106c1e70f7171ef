"""The seed example's Python plugin, written the way the original engine's
plugins are: with the legacy helper functions of the `events` module.

It reads ten events (the five TypeA messages and the five TypeB counts), says
goodbye with a TypeC event and quits. Run it with pyevents on the path:

    PYTHONPATH=pyevents EVENT_ENGINE_HOST=127.0.0.1 python3 examples/seed_app/pyplugin.py [port]
"""

import logging
import sys
import time

import zmq
from events import get_next_msg, get_plugin_socket, publish_msg, send_quit_command

logging.basicConfig(level=logging.INFO, format="pyplugin: %(message)s")
log = logging.getLogger("pyplugin")

port = int(sys.argv[1]) if len(sys.argv) > 1 else 6000
context = zmq.Context()
socket = get_plugin_socket(context, port)

for number in range(1, 11):
    message = get_next_msg(socket)
    log.info("event %d: %r", number, message)

# Give the engine a moment, as the original plugin does, then say goodbye.
time.sleep(0.3)
reply = publish_msg(socket, "TypeCGoodbye from python".encode())
log.info("published TypeC, engine replied %r", reply)
send_quit_command(socket)
log.info("quit sent; exiting")
