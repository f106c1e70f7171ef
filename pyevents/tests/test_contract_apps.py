"""Typed Python plugins against REAL running applications (the pipeline and seed examples):
the plugin of docs/python.md decodes the C++ plugins' reflective events field for field,
PluginClient yields typed events and publishes them, and the manifest is fetched from the
introspection endpoint and a plugin port, with CURVE keys too.

Like test_cli_tools.py, these need ``$EVENT_ENGINE_PIPELINE_APP`` and ``$EVENT_ENGINE_SEED_APP``
(``ctest -R pyevents.tools`` sets them) and are skipped, saying so, without them.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from pyevents import Contract, HandshakeFailed, PluginClient, UntypedEvent, fetch_manifest
from pyevents.errors import EngineTimeout
from test_cli_tools import REPO, WAIT, free_port, keys, reading, start_app, tool_env  # noqa: F401 (fixtures)

ANALYST = REPO / "examples" / "pipeline" / "analyst.py"


def run_plugin(script, *args, env=None, timeout=WAIT):
    try:
        return subprocess.run([sys.executable, str(script), *map(str, args)], env=env or tool_env(),
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"the plugin did not exit within {timeout:g} s\n{e.stdout}\n{e.stderr}", pytrace=False)


def test_the_plugin_of_the_docs_decodes_cpp_events_field_for_field(start_app):
    """analyst.py, whose code docs/python.md shows (test_contract.py checks that), against 24 readings."""
    app = start_app("EVENT_ENGINE_PIPELINE_APP", "--readings", "24", "--analyst-port", "0")
    done = run_plugin(ANALYST, app.plugin_port("analyst"), 24)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert ("analyst: first reading: Reading(sensor=1, sequence=1, location=Location(site='south', floor=0), "
            "samples=[Sample(quantity=0, value=25.5), Sample(quantity=1, value=41.0)], note=None, "
            "firmware=[1, 4, 1])") in lines
    assert "analyst: 24 readings, 12 summaries, 6 alerts; every summary and alert as recomputed: True" in lines
    assert app.finish() == 0, app.describe()
    output = app.output().splitlines()
    assert "Sensors: Report readings=24 summaries=12 alerts=6 sites=north,roof,south summaries_match=true" in output
    assert "  analyst: finished; received 42, published 1" in output


PLUGIN = '''
import sys
from pyevents import Contract, PluginClient
from pyevents.layout import to_plain

introspection, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
contract = Contract.load(f"tcp://127.0.0.1:{introspection}", timeout=10)
with PluginClient(port, timeout=10, contract=contract) as client:
    Reading = contract.type("Reading")
    seen = []
    for event in client.events(timeout=20):
        if isinstance(event, Reading):
            seen.append(event)
            print("READING", contract.name_of(event), to_plain(event), flush=True)
        if len(seen) == count:
            break
    client.publish_typed("Report", readings=len(seen), sites=["from", "python"], summaries_match=True)
'''


def test_plugin_client_yields_dataclasses_and_publishes_them(start_app, tmp_path):
    app = start_app("EVENT_ENGINE_PIPELINE_APP", "--readings", "6", "--analyst-port", "0")
    script = tmp_path / "plugin.py"
    script.write_text(PLUGIN)
    done = run_plugin(script, app.port("introspection"), app.plugin_port("analyst"), 6)
    assert done.returncode == 0, done.stderr
    got = [line for line in done.stdout.splitlines() if line.startswith("READING ")]
    assert got == [f"READING Reading {reading(sequence)}" for sequence in range(1, 7)]
    assert app.finish() == 0, app.describe()
    assert ("Sensors: Report readings=6 summaries=0 alerts=0 sites=from,python summaries_match=true"
            in app.output().splitlines())


def test_a_text_and_custom_codec_application_gives_untyped_events(start_app):
    """The seed example (text and custom codecs), its plugin's events through the contract."""
    app = start_app("EVENT_ENGINE_SEED_APP", "--pyplugin-port", "0")
    with PluginClient(app.plugin_port("pyplugin"), timeout=10) as client:
        contract = client.load_contract()
        assert contract.manifest == app.manifest
        events = []
        for event in client.events(timeout=20):
            events.append(event)
            if len(events) == 10:
                break
        client.publish_typed("TypeC", "Goodbye from a typed plugin")
    note = contract.event("TypeB").note
    assert sorted(events, key=lambda e: (e.name, e.value)) == (
        [UntypedEvent("TypeA", f"This is message {i}", "text") for i in range(5)]
        + [UntypedEvent("TypeB", b"17", "custom", note)] * 5)
    assert app.finish() == 0, app.describe()
    assert 'MsgProducer: got TypeC "Goodbye from a typed plugin"' in app.output()


def test_fetch_manifest_from_the_introspection_endpoint_and_a_plugin_port(start_app):
    app = start_app("EVENT_ENGINE_PIPELINE_APP", "--readings", "0", "--interval-ms", "50", "--analyst-port", "0")
    assert fetch_manifest(f"tcp://127.0.0.1:{app.port('introspection')}") == app.manifest
    assert fetch_manifest(str(app.plugin_port("analyst"))) == app.manifest
    assert Contract.load(f"tcp://127.0.0.1:{app.port('introspection')}").names == [
        "Reading", "Summary", "Alert", "Report"]
    with pytest.raises(EngineTimeout, match="no connection to the application's endpoint at tcp://127.0.0.1:"):
        fetch_manifest(str(free_port()), timeout=0.5)


def test_curve_the_typed_plugin_and_the_manifest_with_keys(start_app, keys):
    app = start_app("EVENT_ENGINE_PIPELINE_APP", "--readings", "12", "--analyst-port", "0", "--keys", str(keys))
    introspection = f"tcp://127.0.0.1:{app.port('introspection')}"
    server = keys / "pipeline.key"
    # Any key the application lists reads the manifest there.
    for client in ("tools", "analyst"):
        assert fetch_manifest(introspection, server_key=server, client_key=keys / f"{client}.key_secret") == app.manifest
    with pytest.raises(HandshakeFailed, match="refused this client's key .* must list it"):
        fetch_manifest(introspection, server_key=server, client_key=keys / "stranger.key_secret", timeout=10)
    with pytest.raises(HandshakeFailed, match="requires CURVE keys"):
        fetch_manifest(introspection, timeout=10)
    # The plugin of the docs, secured by the two variables only.
    done = run_plugin(ANALYST, app.plugin_port("analyst"), 12, env=tool_env(
        EVENT_ENGINE_SERVER_KEY=str(server), EVENT_ENGINE_CLIENT_KEY=str(keys / "analyst.key_secret")))
    assert done.returncode == 0, done.stderr
    assert "analyst: 12 readings, 6 summaries, 4 alerts; every summary and alert as recomputed: True" in \
        done.stderr.splitlines()
    assert app.finish() == 0, app.describe()
