"""Errors surface: no NATS server at start is an error naming every URL, and run() still
returns (the application reports the failed bridge plugin and exits)."""

import re
import socket
import subprocess
import threading

from natsfix import APP, free_port


def test_unreachable_servers_at_start_are_named():
    urls = [f"nats://127.0.0.1:{free_port()}", f"nats://127.0.0.1:{free_port()}"]
    done = subprocess.run([APP, "--role", "a", "--servers", ",".join(urls)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done
    final = [line for line in done.stdout.splitlines() if line.startswith("FINAL ")]
    assert final, done.stdout
    error = final[0]
    # Whichever half of the bridge starts first connects; the other reports its failure.
    assert re.search(r"plugin 'nats\.(out|in)' failed", error), error
    assert "cannot connect to NATS at " + ", ".join(urls) in error, error
    assert "No server available for connection" in error, error
    assert "retry_initial_connect" in error, error


def test_a_jetstream_domain_that_is_not_a_subject_token_is_a_configuration_error():
    url = f"nats://127.0.0.1:{free_port()}"  # never reached: the options are checked first
    done = subprocess.run([APP, "--role", "a", "--servers", url, "--mode", "jetstream", "--instance", "device",
                           "--jetstream-domain", "hub.east"], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done
    final = [line for line in done.stdout.splitlines() if line.startswith("FINAL ")]
    assert final, done.stdout
    error = final[0]
    # Both halves of the bridge check their options as they start, on their own threads:
    # either may be the one the run reports first.
    assert re.search(r"plugin 'nats\.(out|in)' failed", error), error
    assert "jetstream_domain 'hub.east' must be one subject token" in error, error
    assert "cannot connect" not in error, error


def test_jetstream_with_a_client_queue_smaller_than_what_the_server_may_send_is_refused():
    url = f"nats://127.0.0.1:{free_port()}"  # never reached: the options are checked first
    # Role a brings in two events (Pong, Alert): one consumer each, each with up to
    # max_unacknowledged messages out at once, so the client's queue must hold 2 x 1024.
    done = subprocess.run([APP, "--role", "a", "--servers", url, "--mode", "jetstream", "--instance", "device",
                           "--queue-limit", "100"], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done
    final = [line for line in done.stdout.splitlines() if line.startswith("FINAL ")]
    assert final, done.stdout
    error = final[0]
    assert re.search(r"plugin 'nats\.(out|in)' failed", error), error
    assert ("under JetStream queue_limit (100) must be at least max_unacknowledged (1024) times the 2 imported "
            "events (one consumer each) = 2048") in error, error
    assert "cannot connect" not in error, error


def test_a_server_that_accepts_and_never_speaks_nats_is_named_as_such():
    # A TCP server that accepts connections and says nothing (another service, a wrong port).
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    accepted = []

    def accept():
        while True:
            try:
                accepted.append(silent.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    url = f"nats://127.0.0.1:{silent.getsockname()[1]}"
    try:
        done = subprocess.run([APP, "--role", "a", "--servers", url], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)
    finally:
        silent.close()
        for connection in accepted:
            connection.close()
    assert done.returncode == 1, done
    final = [line for line in done.stdout.splitlines() if line.startswith("FINAL ")]
    assert final, done.stdout
    error = final[0]
    assert accepted, "the bridge never connected to the silent server"
    assert f"cannot connect to NATS at {url}: Timeout" in error, error
    assert "accepted the TCP connection but did not speak NATS" in error, error
    assert "is nats-server running there?" not in error, error
