"""Shared test setup for pyevents.

Makes the source tree importable (``pyevents`` and the top-level ``events``
compat module) and provides the ``fake_engine`` fixture, a protocol-
conformance REP server (NOT the real engine; see protocol_fixture.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest
import zmq

DIST_ROOT = Path(__file__).resolve().parent.parent
if str(DIST_ROOT) not in sys.path:
    sys.path.insert(0, str(DIST_ROOT))

from protocol_fixture import FakeEngine  # noqa: E402  (pytest puts tests/ on sys.path)


@pytest.fixture(autouse=True)
def _no_curve_keys_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset the CURVE key variables: keys in the shell must not turn every test's sockets into CURVE
    sockets (tests that want keys set them)."""
    monkeypatch.delenv("EVENT_ENGINE_SERVER_KEY", raising=False)
    monkeypatch.delenv("EVENT_ENGINE_CLIENT_KEY", raising=False)


@pytest.fixture
def clean_host_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset EVENT_ENGINE_HOST so a value from the shell cannot change defaults under test."""
    monkeypatch.delenv("EVENT_ENGINE_HOST", raising=False)


@pytest.fixture
def fake_engine() -> Iterator[FakeEngine]:
    """A protocol-conformance server (not the engine) on a free local port."""
    engine = FakeEngine()
    try:
        yield engine
    finally:
        engine.stop()
    assert not engine.violations, engine.violations


@pytest.fixture
def context() -> Iterator[zmq.Context]:
    """A ZeroMQ context, destroyed without lingering after the test."""
    ctx = zmq.Context()
    try:
        yield ctx
    finally:
        ctx.destroy(linger=0)
