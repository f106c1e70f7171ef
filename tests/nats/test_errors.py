"""Errors surface: no NATS server at start is an error naming every URL, and run() still
returns (the application reports the failed bridge plugin and exits)."""

import re
import subprocess

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
