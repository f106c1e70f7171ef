"""The engine's log level from EVENT_ENGINE_LOG, in a real engine process."""

from __future__ import annotations

import os
import subprocess

from engine_fixture import engine_app_path


def run_engine(log_value: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, EVENT_ENGINE_LOG=log_value)
    # No external plugin, one event emitted: the engine runs and ends by itself.
    return subprocess.run([engine_app_path(), "--no-external", "--emit-a", "1"], env=env, capture_output=True,
                          text=True, timeout=60)


def test_a_value_that_is_not_a_level_is_reported_once_and_warn_is_used() -> None:
    done = run_engine("bogus")
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "EVENT_ENGINE_LOG=bogus" in line]
    assert warnings == [
        "event_engine [warn] EVENT_ENGINE_LOG=bogus is not a log level (trace, debug, info, warn, error, off); "
        "using warn"
    ]
    assert "[info]" not in done.stderr  # warn, not a more talkative level


def test_info_shows_the_bound_endpoints_and_trace_every_event() -> None:
    info = run_engine("info")
    assert info.returncode == 0, info.stderr
    assert "engine listening: publish port tcp://127.0.0.1:" in info.stderr
    assert "publishes TypeA" not in info.stderr
    trace = run_engine("trace")
    assert trace.returncode == 0, trace.stderr
    assert "plugin 'emitter' publishes TypeA" in trace.stderr
