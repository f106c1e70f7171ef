"""The one thing pyproject.toml cannot say: install the top-level ``events`` compatibility
module (events.py, for plugins written against the original engine's helper module) only
when asked, with ``PYEVENTS_INSTALL_EVENTS_MODULE=1`` in the environment of the install
(README.md, "Legacy API").  Everything else is in pyproject.toml."""

import os
from pathlib import Path

from setuptools import setup

INSTALL_EVENTS_MODULE = os.environ.get("PYEVENTS_INSTALL_EVENTS_MODULE", "") not in ("", "0")

if not INSTALL_EVENTS_MODULE:
    # setuptools builds in build/lib and never removes a module from there: a wheel built
    # after one with the module would still carry it.
    (Path(__file__).resolve().parent / "build" / "lib" / "events.py").unlink(missing_ok=True)

setup(py_modules=["events"] if INSTALL_EVENTS_MODULE else [])
