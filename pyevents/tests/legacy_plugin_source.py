"""The text of a plugin written as the seed README describes it: the original
helper module (`from events import ...`) and nothing else. It reads 10 events,
publishes a TypeC goodbye and quits. Tests run it as a separate process against
the protocol fixture (test_legacy.py) and the real engine (test_engine_legacy.py),
substituting only the port so that they can use a free one."""

import textwrap

LEGACY_PLUGIN = textwrap.dedent('''\
    import time
    import zmq
    from events import get_plugin_socket, get_next_msg, publish_msg, send_quit_command

    context = zmq.Context()
    PYPLUGIN_TCP_PORT = 6000
    socket = get_plugin_socket(context, PYPLUGIN_TCP_PORT)

    done = False
    total_messages = 1
    while not done:
        msg_bytes = get_next_msg(socket)
        print(f"just got message {total_messages}; contents: {msg_bytes}")
        total_messages += 1
        if total_messages == 11:
            done = True

    time.sleep(0.3)
    message = "TypeCGoodbye from python"
    publish_msg(socket, message.encode())

    send_quit_command(socket)
    print("quit command sent; exiting.")
''')
