"""The command-line tools (``python3 -m pyevents list|echo|hz|graph|pub``) against REAL running
applications: the seed example (text and custom codecs, its legacy Python plugin) and the
pipeline example (reflective struct events), with and without CURVE.

The applications' paths come from ``$EVENT_ENGINE_SEED_APP`` and ``$EVENT_ENGINE_PIPELINE_APP``
(the ctest test ``pyevents.tools`` sets both). Without them these tests are skipped, saying
so: the ``pyevents.test_cli_tools`` ctest test (one per file of this directory) does not build
the examples. Every wait
is bounded; no test asserts a time.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from pyevents import graph
from pyevents.security import write_certificates

TESTS = Path(__file__).resolve().parent
PYEVENTS = TESTS.parent
REPO = PYEVENTS.parent
WAIT = 30.0


def app_path(variable: str) -> str:
    path = os.environ.get(variable)
    if not path:
        pytest.skip(f"${variable} is not set: run `ctest -R pyevents.tools` (it builds and names the examples), or "
                    f"set it to the built example, e.g. build/examples/{'seed_app' if 'SEED' in variable else 'pipeline_app'}")
    if not os.access(path, os.X_OK):
        pytest.fail(f"${variable}={path!r} is not an executable file", pytrace=False)
    return path


def tool_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENT_ENGINE_")}
    env["PYTHONPATH"] = str(PYEVENTS)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


class App:
    """A running example application (ports 0), its manifest file, its output in files."""

    def __init__(self, binary: str, tmp_path: Path, *args: str, name: str = "app") -> None:
        self.manifest_path = tmp_path / f"{name}.manifest.json"
        self.out = tmp_path / f"{name}.out"
        self.args = [binary, "--publish-port", "0", "--subscribe-port", "0", "--manifest", str(self.manifest_path),
                     "--introspection-port", "0", *args]
        with open(self.out, "wb") as out:
            self.process = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + WAIT
        while not self.manifest_path.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the application wrote no manifest\n{self.describe()}", pytrace=False)
            time.sleep(0.02)
        self.manifest = json.loads(self.manifest_path.read_text())

    def port(self, which: str) -> int:
        return self.manifest["endpoints"][which]["port"]

    def plugin_port(self, name: str) -> int:
        return next(p["port"] for p in self.manifest["plugins"] if p["name"] == name)

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def describe(self) -> str:
        return f"application: {' '.join(self.args)}\nexit status: {self.process.poll()}\n{self.output()}"

    def finish(self) -> int:
        try:
            return self.process.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.stop()
            pytest.fail(f"the application did not exit\n{self.describe()}", pytrace=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def start_app(tmp_path):
    apps: List[App] = []

    def start(variable: str, *args: str, name: str = "app") -> App:
        app = App(app_path(variable), tmp_path, *args, name=name)
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.stop()


def pyevents_cmd(*args: str) -> List[str]:
    return [sys.executable, "-m", "pyevents", *args]


def run_tool(*args: str, env: Optional[Dict[str, str]] = None, timeout: float = WAIT) -> subprocess.CompletedProcess:
    """Run one tool to its end; bounded."""
    try:
        return subprocess.run(pyevents_cmd(*args), env=env or tool_env(), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"pyevents {' '.join(args)} did not end within {timeout:g} s\n{e.stdout}\n{e.stderr}",
                    pytrace=False)


class Background:
    """A tool running in the background (echo, hz): its stdout and stderr lines, read on threads."""

    def __init__(self, *args: str, env: Optional[Dict[str, str]] = None) -> None:
        self.args = args
        self.process = subprocess.Popen(pyevents_cmd(*args), env=env or tool_env(), stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.stdout: List[str] = []
        self.stderr: List[str] = []
        self.changed = threading.Condition()
        self.readers = [threading.Thread(target=self._read, args=(stream, lines), daemon=True)
                        for stream, lines in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr))]
        for reader in self.readers:
            reader.start()

    def _read(self, stream, lines: List[str]) -> None:
        for line in stream:
            with self.changed:
                lines.append(line.rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def wait_stderr(self, start: str) -> None:
        """Wait (bounded) for a stderr line starting with *start*, e.g. the 'subscribed to' line."""
        deadline = time.monotonic() + WAIT
        with self.changed:
            while not any(line.startswith(start) for line in self.stderr):
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not any(r.is_alive() for r in self.readers)):
                    self.kill()
                    pytest.fail(f"no {start!r} from pyevents {' '.join(self.args)}\nstdout: {self.stdout}\n"
                                f"stderr: {self.stderr}", pytrace=False)
                self.changed.wait(min(left, 0.5))

    def finish(self) -> int:
        try:
            status = self.process.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"pyevents {' '.join(self.args)} did not end\nstdout: {self.stdout}\nstderr: {self.stderr}",
                        pytrace=False)
        for reader in self.readers:
            reader.join(WAIT)
        return status

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


# --------------------------------------------------------------- the seed example

SEED_LIST = """\
events (3):
  TypeA  text                topic "TypeA"  MsgProducer -> Counter, pyplugin
  TypeB  custom (raw bytes)  topic "TypeB"  Counter -> MsgProducer, pyplugin
  TypeC  text                topic "TypeC"  pyplugin -> MsgProducer
plugins (3):
  MsgProducer  internal; subscribes TypeB, TypeC; publishes TypeA
  Counter      internal; subscribes TypeA; publishes TypeB
  pyplugin     external, port {pyplugin}; subscribes TypeA, TypeB; publishes TypeC
endpoints:
  publish:       tcp://127.0.0.1:{publish}
  subscribe:     tcp://127.0.0.1:{subscribe}
  introspection: tcp://127.0.0.1:{introspection}
  CURVE:         not required
"""


def test_seed_list_from_the_file_the_introspection_endpoint_and_a_plugin_port(start_app):
    app = start_app("EVENT_ENGINE_SEED_APP", "--pyplugin-port", "0")
    expected = SEED_LIST.format(pyplugin=app.plugin_port("pyplugin"), publish=app.port("publish"),
                                subscribe=app.port("subscribe"), introspection=app.port("introspection"))
    for source in (["--manifest", str(app.manifest_path)],
                   ["--introspection", str(app.port("introspection"))],
                   ["--introspection", f"127.0.0.1:{app.port('introspection')}"],
                   ["--plugin-port", str(app.plugin_port("pyplugin"))]):
        done = run_tool("list", *source)
        assert (done.returncode, done.stdout, done.stderr) == (0, expected, ""), source
    done = run_tool("list", "--json", "--introspection", str(app.port("introspection")))
    assert json.loads(done.stdout) == app.manifest


def test_seed_graph_printed_and_written(start_app, tmp_path):
    app = start_app("EVENT_ENGINE_SEED_APP", "--pyplugin-port", "0")
    done = run_tool("graph", "--introspection", str(app.port("introspection")))
    assert (done.returncode, done.stdout) == (0, graph.to_mermaid(app.manifest))
    out = tmp_path / "seed.dot"
    done = run_tool("graph", "--format", "dot", "-o", str(out), "--manifest", str(app.manifest_path))
    assert done.returncode == 0 and done.stdout == ""
    assert out.read_text() == graph.to_dot(app.manifest)
    assert f"wrote the dot graph to {out}" in done.stderr


def test_seed_echo_hz_and_pub_with_the_legacy_plugin(start_app, tmp_path):
    """echo and hz see the TypeC that pub publishes and the one the unchanged legacy plugin
    publishes; MsgProducer takes pub's TypeC as its goodbye; the application ends normally."""
    app = start_app("EVENT_ENGINE_SEED_APP", "--pyplugin-port", "0")
    source = ["--introspection", str(app.port("introspection"))]
    echo = Background("echo", "TypeC", "--count", "2", *source)
    echo_json = Background("echo", "--json", "--count", "2", *source)  # every event: only TypeCs pass now
    hz = Background("hz", "TypeC", "TypeA", "--count", "2", *source)
    for tool in (echo, echo_json, hz):
        tool.wait_stderr("pyevents ")
    done = run_tool("pub", "TypeC", "hello from pub", *source)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f'published TypeC "hello from pub" to tcp://127.0.0.1:{app.port("publish")}\n'
    plugin = subprocess.run([sys.executable, str(REPO / "examples" / "seed_app" / "pyplugin.py"),
                             str(app.plugin_port("pyplugin"))], env=tool_env(EVENT_ENGINE_HOST="127.0.0.1"),
                            capture_output=True, text=True, timeout=WAIT)
    assert plugin.returncode == 0, plugin.stderr
    for tool in (echo, echo_json, hz):
        assert tool.finish() == 0, tool.stderr
    assert echo.stdout == ['TypeC "hello from pub"', 'TypeC "Goodbye from python"']
    assert echo.stderr == [f"pyevents echo: subscribed to TypeC at tcp://127.0.0.1:{app.port('subscribe')}"]
    assert [json.loads(line) for line in echo_json.stdout] == [
        {"event": "TypeC", "size": 19, "value": "hello from pub"},
        {"event": "TypeC", "size": 24, "value": "Goodbye from python"}]
    final = hz.stdout[-2:]
    assert final[0].startswith("TypeC: 2 events in ") and final[0].endswith("22 B mean, 19..24 B")
    assert final[1].startswith("TypeA: 0 events in ") and final[1].endswith(", -")
    assert app.finish() == 0, app.describe()
    assert 'MsgProducer: got TypeC "hello from pub"' in app.output()


def test_seed_pub_takes_a_custom_codec_payload_as_text_or_hex(start_app):
    app = start_app("EVENT_ENGINE_SEED_APP", "--pyplugin-port", "0")
    source = ["--manifest", str(app.manifest_path)]
    echo = Background("echo", "TypeB", "--count", "2", *source)
    echo.wait_stderr("pyevents echo: subscribed")
    assert echo.stderr[0].startswith("pyevents echo: TypeB: a codec of the application's own")
    assert run_tool("pub", "TypeB", "17", *source).returncode == 0
    assert run_tool("pub", "TypeB", "--hex", "3432", *source).returncode == 0
    assert echo.finish() == 0
    assert echo.stdout == ["TypeB 3137 (2 bytes, custom codec)", "TypeB 3432 (2 bytes, custom codec)"]


def test_usage_and_errors_are_clear_and_bounded(start_app, tmp_path):
    app = start_app("EVENT_ENGINE_SEED_APP", "--pyplugin-port", "0")
    done = run_tool("list")
    assert done.returncode == 2 and "say where the manifest is: --manifest FILE" in done.stderr
    done = run_tool("echo", "Nope", "--manifest", str(app.manifest_path))
    assert done.returncode == 1
    assert done.stderr == "pyevents echo: error: the application has no event named 'Nope'; its events: TypeA, TypeB, TypeC\n"
    done = run_tool("list", "--manifest", str(tmp_path / "missing.json"))
    assert done.returncode == 1 and "cannot read the manifest" in done.stderr
    # Nobody listens there: the tool gives up after its timeout and says what it waited for.
    with_nobody = run_tool("list", "--introspection", str(free_port()), "--timeout", "0.5")
    assert with_nobody.returncode == 1
    assert "no connection to the application's endpoint at tcp://127.0.0.1:" in with_nobody.stderr
    done = run_tool("echo", "TypeA", "--count", "0", "--manifest", str(app.manifest_path))
    assert done.returncode == 2 and "--count must be at least 1" in done.stderr


def free_port() -> int:
    """A port nothing listens on (racy only in that someone could take it meanwhile: then the
    test sees another answer, not a hang)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------- the pipeline example

SITES = ["north", "south", "roof"]


def reading(sequence: int) -> dict:
    """examples/pipeline/events.hpp's make_reading(), member by member."""
    sensor = sequence % 3
    samples = [{"quantity": 0, "value": 18.5 + (sequence * 7) % 16}]
    if sensor != 2:
        samples.append({"quantity": 1, "value": 40.0 + sequence % 5})
    return {"sensor": sensor, "sequence": sequence, "location": {"site": SITES[sensor], "floor": sensor - 1},
            "samples": samples, "note": "calibrated" if sequence % 4 == 0 else None, "firmware": [1, 4, sensor]}


def test_pipeline_list_shows_the_layouts(start_app):
    app = start_app("EVENT_ENGINE_PIPELINE_APP", "--readings", "0", "--interval-ms", "20", "--analyst-port", "0")
    done = run_tool("list", "--introspection", str(app.port("introspection")))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:8] == [
        "events (4):",
        '  Reading  reflective  topic "Reading"  Sensors -> Aggregator, analyst',
        "             sensor: u32",
        "             sequence: u64",
        "             location: Location{site: string, floor: i16}",
        "             samples: [Sample{quantity: Quantity(u8), value: f64}]",
        "             note: string?",
        "             firmware: u8[3]",
    ]
    assert f"  analyst     external, port {app.plugin_port('analyst')}; subscribes Reading, Summary, Alert; " \
           "publishes Report" in lines


def test_pipeline_echo_decodes_the_cpp_readings_field_for_field(start_app):
    app = start_app("EVENT_ENGINE_PIPELINE_APP", "--readings", "0", "--interval-ms", "5", "--analyst-port", "0")
    done = run_tool("echo", "Reading", "--json", "--count", "5", "--manifest", str(app.manifest_path))
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == 5
    for record in records:
        assert record["event"] == "Reading"
        assert record["value"] == reading(record["value"]["sequence"])
    sequences = [r["value"]["sequence"] for r in records]
    assert sequences == list(range(sequences[0], sequences[0] + 5))  # in order, none missing
    text = run_tool("echo", "Reading", "--count", "1", "--manifest", str(app.manifest_path))
    name, _, value = text.stdout.strip().partition(" ")
    assert name == "Reading" and json.loads(value) == reading(json.loads(value)["sequence"])


def test_pipeline_hz_counts_and_sizes_exactly(start_app):
    app = start_app("EVENT_ENGINE_PIPELINE_APP", "--readings", "0", "--interval-ms", "2", "--analyst-port", "0")
    done = run_tool("hz", "Reading", "--count", "40", "--interval", "0.2", "--manifest", str(app.manifest_path))
    assert done.returncode == 0, done.stderr
    final = done.stdout.splitlines()[-1]
    assert final.startswith("Reading: 40 events in "), done.stdout
    assert final.endswith(" B mean, 46..70 B"), final  # the smallest and largest Readings (events.hpp)
    interval_lines = done.stdout.splitlines()[:-1]
    assert all(line.startswith("Reading: ") and "/s over " in line for line in interval_lines)


def test_pipeline_hz_updates_in_place_on_a_terminal(start_app):
    app = start_app("EVENT_ENGINE_PIPELINE_APP", "--readings", "0", "--interval-ms", "2", "--analyst-port", "0")
    leader, follower = pty.openpty()
    process = subprocess.Popen(pyevents_cmd("hz", "--count", "60", "--interval", "0.05", "--manifest",
                                            str(app.manifest_path)),
                               env=tool_env(), stdout=follower, stderr=subprocess.DEVNULL)
    os.close(follower)
    output = b""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the tool closed the terminal: it ended
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    os.close(leader)
    process.kill() if process.poll() is None else None
    assert process.wait(10) == 0, output
    text = output.decode()
    assert "\x1b[2K" in text and "event" in text and "rate" in text
    assert "\x1b[5F" in text  # the table (a heading and four events) redrawn over itself
    assert "Reading: " in text.splitlines()[-4]


def wait_output(app: App, line: str) -> None:
    deadline = time.monotonic() + WAIT
    while line not in app.output().splitlines():
        if time.monotonic() > deadline or app.process.poll() is not None:
            pytest.fail(f"no line {line!r} from the application\n{app.describe()}", pytrace=False)
        time.sleep(0.02)


def test_pipeline_pub_builds_reflective_events_that_cpp_decodes(start_app):
    """pub builds a Reading and Reports from member assignments or JSON; echo decodes them back,
    and the C++ plugin Sensors takes the first Report (it waits for one) and prints its fields."""
    app = start_app("EVENT_ENGINE_PIPELINE_APP", "--readings", "1", "--analyst-port", "0")
    wait_output(app, "Sensors: published 1 readings")  # its only Reading has passed; it waits for a Report
    source = ["--manifest", str(app.manifest_path)]
    echo = Background("echo", "Reading", "Report", "--json", "--count", "3", *source)
    echo.wait_stderr("pyevents echo: subscribed")
    commands = [
        ["Reading", "sensor=7", "sequence=123456789", "location.site=lab", "location.floor=-3",
         'samples=[{"quantity": 2, "value": 1013.25}]', "note=hello", "firmware=[9, 9, 9]"],
        ["Report", "readings=3", 'sites=["north", "roof"]', "summaries_match=true"],
        ["Report", "--json", '{"alerts": 2, "sites": []}'],
    ]
    for command in commands:
        done = run_tool("pub", *command, *source)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"published {command[0]} {{") and done.stdout.endswith(
            f"to tcp://127.0.0.1:{app.port('publish')}\n")
    assert echo.finish() == 0
    assert sorted(echo.stdout) == sorted(json.dumps(record) for record in [
        {"event": "Reading", "size": 54, "value": {
            "sensor": 7, "sequence": 123456789, "location": {"site": "lab", "floor": -3},
            "samples": [{"quantity": 2, "value": 1013.25}], "note": "hello", "firmware": [9, 9, 9]}},
        {"event": "Report", "size": 40, "value": {"readings": 3, "summaries": 0, "alerts": 0,
                                                  "sites": ["north", "roof"], "summaries_match": True}},
        {"event": "Report", "size": 23, "value": {"readings": 0, "summaries": 0, "alerts": 2, "sites": [],
                                                  "summaries_match": False}}])
    wait_output(app, "Sensors: Report readings=3 summaries=0 alerts=0 sites=north,roof summaries_match=true")


def test_pipeline_echo_json_is_strict_for_non_finite_floats(start_app):
    """A Reading whose samples are NaN, Infinity and -Infinity (pub takes them as JSON tokens or
    as the strings echo writes): echo --json writes them as "NaN", "Infinity", "-Infinity", so a
    strict parser reads every line (docs/python.md)."""
    app = start_app("EVENT_ENGINE_PIPELINE_APP", "--readings", "1", "--analyst-port", "0")
    wait_output(app, "Sensors: published 1 readings")  # its only Reading has passed: the next are pub's
    source = ["--manifest", str(app.manifest_path)]
    echo = Background("echo", "Reading", "--json", "--count", "2", *source)
    echo.wait_stderr("pyevents echo: subscribed")
    for samples in ('[{"quantity": 0, "value": NaN}, {"quantity": 1, "value": -Infinity}]',
                    '[{"quantity": 2, "value": "Infinity"}]'):
        done = run_tool("pub", "Reading", "sensor=9", f"samples={samples}", *source)
        assert done.returncode == 0, done.stderr

    def refuse(token):
        raise ValueError(f"not strict JSON: {token}")

    assert echo.finish() == 0
    values = [json.loads(line, parse_constant=refuse)["value"]["samples"] for line in echo.stdout]
    assert sorted(values, key=len) == [[{"quantity": 2, "value": "Infinity"}],
                                       [{"quantity": 0, "value": "NaN"}, {"quantity": 1, "value": "-Infinity"}]]


def test_pipeline_pub_parses_values_per_the_layout(start_app):
    app = start_app("EVENT_ENGINE_PIPELINE_APP", "--readings", "0", "--interval-ms", "20", "--analyst-port", "0")
    source = ["--manifest", str(app.manifest_path)]
    done = run_tool("pub", "Reading", "sensor=-1", *source)
    assert done.returncode == 1 and "Reading.sensor: -1 does not fit u32" in done.stderr
    done = run_tool("pub", "Reading", "location.street=x", *source)
    assert done.returncode == 2 and "Reading.location.street: no such member (members: site, floor)" in done.stderr
    done = run_tool("pub", "Reading", "sensor=one", *source)
    assert done.returncode == 2 and "Reading.sensor: 'one' is not a u32" in done.stderr
    done = run_tool("pub", "Reading", "samples=[", *source)
    assert done.returncode == 2 and "is given as JSON" in done.stderr
    done = run_tool("pub", "Report", "sites", *source)
    assert done.returncode == 2 and "'sites' is not member=value" in done.stderr


# ----------------------------------------------------------------------- CURVE

@pytest.fixture
def keys(tmp_path):
    directory = tmp_path / "keys"
    for name in ("pipeline", "analyst", "tools", "stranger"):
        write_certificates(directory, name)
    return directory


def test_curve_tools_with_keys_and_a_refused_client(start_app, keys):
    app = start_app("EVENT_ENGINE_PIPELINE_APP", "--readings", "0", "--interval-ms", "10", "--analyst-port", "0",
                    "--keys", str(keys))
    assert app.manifest["curve"]["required"] is True
    introspection = ["--introspection", str(app.port("introspection"))]
    tools = tool_env(EVENT_ENGINE_SERVER_KEY=str(keys / "pipeline.key"),
                     EVENT_ENGINE_CLIENT_KEY=str(keys / "tools.key_secret"))
    done = run_tool("list", *introspection, env=tools)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"  CURVE:         required, server key {app.manifest['curve']['server_public_key']}"
    done = run_tool("echo", "Reading", "--json", "--count", "3", *introspection, env=tools)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["value"] == reading(json.loads(line)["value"]["sequence"])
            for line in done.stdout.splitlines()] == [True] * 3
    # Flags instead of the variables; the server key from the manifest file.
    flags = ["--client-key", str(keys / "tools.key_secret"), "--manifest", str(app.manifest_path)]
    done = run_tool("pub", "Report", "readings=1", *flags)
    assert done.returncode == 0, done.stderr
    done = run_tool("hz", "Summary", "--count", "2", *flags)
    assert done.returncode == 0 and done.stdout.splitlines()[-1].startswith("Summary: 2 events in ")

    # A key the application does not list: refused at the handshake, said so, never a hang.
    stranger = tool_env(EVENT_ENGINE_SERVER_KEY=str(keys / "pipeline.key"),
                        EVENT_ENGINE_CLIENT_KEY=str(keys / "stranger.key_secret"))
    for command in (["list", *introspection], ["echo", "Reading", "--count", "1", "--manifest", str(app.manifest_path)],
                    ["pub", "Report", "--manifest", str(app.manifest_path)]):
        done = run_tool(*command, env=stranger)
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        assert "refused this client's key" in done.stderr and "must list it" in done.stderr, done.stderr
    # No keys at all: the manifest file says CURVE is required; the endpoint refuses the handshake.
    done = run_tool("echo", "Reading", "--manifest", str(app.manifest_path))
    assert done.returncode == 1 and "the application requires CURVE keys (its manifest says so)" in done.stderr
    done = run_tool("list", *introspection)
    assert done.returncode == 1 and "requires CURVE keys" in done.stderr


def test_echo_and_hz_end_when_the_application_does(start_app):
    app = start_app("EVENT_ENGINE_PIPELINE_APP", "--readings", "0", "--interval-ms", "20", "--analyst-port", "0")
    source = ["--manifest", str(app.manifest_path)]
    echo = Background("echo", "Report", *source)             # nobody publishes a Report here
    counted = Background("hz", "Report", "--count", "1", *source)
    for tool in (echo, counted):
        tool.wait_stderr("pyevents ")
    app.stop()
    assert echo.finish() == 0 and echo.stdout == []
    assert echo.stderr[-1] == "pyevents echo: the application closed the connection after 0 event(s)"
    assert counted.finish() == 1  # fewer events than --count asked for
    assert counted.stdout[-1].startswith("Report: 0 events in ")
