"""The command line: ``python3 -m pyevents keygen DIR NAME`` (and the ``pyevents`` script's entry point)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
import zmq
import zmq.auth

from protocol_fixture import FakeEngine
from pyevents import PluginClient, cli

DIST_ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(DIST_ROOT))
    return subprocess.run([sys.executable, "-m", "pyevents", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def printed(output: str) -> Dict[str, str]:
    """The keygen output's ``label: value  (note)`` lines as {label: value}."""
    lines: Dict[str, str] = {}
    for line in output.splitlines():
        label, _, rest = line.partition(":")
        lines[label] = rest.strip().split("  ")[0]
    return lines


def test_keygen_writes_a_certificate_pair(tmp_path: Path) -> None:
    done = run_cli("keygen", "keys", "pyplugin", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = printed(done.stdout)
    public_file, secret_file = tmp_path / "keys" / "pyplugin.key", tmp_path / "keys" / "pyplugin.key_secret"
    assert out["public file"] == os.path.join("keys", "pyplugin.key")
    assert out["secret file"] == os.path.join("keys", "pyplugin.key_secret")
    public, no_secret = zmq.auth.load_certificate(public_file)
    assert no_secret is None
    same_public, secret = zmq.auth.load_certificate(secret_file)
    assert out["public key"] == public.decode() == same_public.decode()
    assert secret is not None and zmq.curve_public(secret) == public
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(public_file.stat().st_mode) & 0o044 == 0o044  # others may read the public key


def test_the_readme_states_the_modes_keygen_writes(tmp_path: Path) -> None:
    """pyevents/README.md gives each file's mode; with the usual umask 022 they are those modes."""
    import re
    text = " ".join((DIST_ROOT / "README.md").read_text().split())
    stated = {name: int(mode, 8) for name, mode in
              re.findall(r"`DIR/NAME\.(key|key_secret)` \([^)]*?mode (0[0-7]{3})", text)}
    assert set(stated) == {"key", "key_secret"}, stated
    old = os.umask(0o022)
    try:
        assert run_cli("keygen", ".", "engine", cwd=tmp_path).returncode == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "engine.key").stat().st_mode) == stated["key"]
    assert stat.S_IMODE((tmp_path / "engine.key_secret").stat().st_mode) == stated["key_secret"]


def test_the_docs_spell_the_interpreter_one_way() -> None:
    """`python3` everywhere; the README says once which interpreter that is (one with pyzmq)."""
    repo = DIST_ROOT.parent
    docs = [repo / "README.md", DIST_ROOT / "README.md", *sorted((repo / "docs").glob("*.md"))]
    for doc in docs:
        text = doc.read_text()
        if doc == repo / "README.md":
            note = text.split("**Which Python.**", 1)
            assert len(note) == 2 and "pyzmq" in note[1].split("\n\n", 1)[0], "the README says which Python"
            text = note[0] + note[1].split("\n\n", 1)[1]
        lines = [n for n, line in enumerate(text.splitlines(), 1) if "/usr/bin/python" in line]
        assert lines == [], f"{doc}: /usr/bin/python3 on lines {lines}: write python3 (README, 'Which Python')"


def test_keygen_creates_missing_directories(tmp_path: Path) -> None:
    done = run_cli("keygen", str(tmp_path / "a" / "b"), "engine", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert zmq.auth.load_certificate(tmp_path / "a" / "b" / "engine.key_secret")[1] is not None


def test_keygen_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    assert run_cli("keygen", ".", "engine", cwd=tmp_path).returncode == 0
    before = (tmp_path / "engine.key_secret").read_bytes()
    done = run_cli("keygen", ".", "engine", cwd=tmp_path)
    assert done.returncode == 1
    assert "already exist" in done.stderr and "--force" in done.stderr
    assert done.stdout == ""
    assert (tmp_path / "engine.key_secret").read_bytes() == before


def test_keygen_refuses_when_only_one_file_exists(tmp_path: Path) -> None:
    (tmp_path / "engine.key").write_text("mine\n")
    done = run_cli("keygen", ".", "engine", cwd=tmp_path)
    assert done.returncode == 1 and "engine.key already exists" in done.stderr
    assert (tmp_path / "engine.key").read_text() == "mine\n"
    assert not (tmp_path / "engine.key_secret").exists()


def test_keygen_force_replaces_keys_and_permissions(tmp_path: Path) -> None:
    assert run_cli("keygen", ".", "engine", cwd=tmp_path).returncode == 0
    old_public, _ = zmq.auth.load_certificate(tmp_path / "engine.key")
    os.chmod(tmp_path / "engine.key_secret", 0o644)
    done = run_cli("keygen", ".", "engine", "--force", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    new_public, _ = zmq.auth.load_certificate(tmp_path / "engine.key")
    assert new_public != old_public
    assert printed(done.stdout)["public key"] == new_public.decode()
    assert stat.S_IMODE((tmp_path / "engine.key_secret").stat().st_mode) == 0o600


@pytest.mark.parametrize("args, message", [
    ([], "required: COMMAND"),
    (["keygen"], "required: DIR, NAME"),
    (["keygen", "keys", "a/b"], "NAME must be a plain file name"),
    (["keygen", "keys", ".."], "NAME must be a plain file name"),
    (["nonsense"], "invalid choice"),
])
def test_usage_errors_exit_with_2(tmp_path: Path, args: List[str], message: str) -> None:
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr and "usage: pyevents" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_directory_is_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = run_cli("keygen", str(blocker / "keys"), "engine", cwd=tmp_path)
    assert done.returncode == 1
    assert "cannot write the key files in" in done.stderr


def test_help_lists_keygen(tmp_path: Path) -> None:
    done = run_cli("--help", cwd=tmp_path)
    assert done.returncode == 0 and "keygen" in done.stdout
    done = run_cli("keygen", "--help", cwd=tmp_path)
    assert done.returncode == 0 and "--force" in done.stdout and "key_secret" in done.stdout


def test_main_is_the_console_script_entry_point(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert 'pyevents = "pyevents.cli:main"' in (DIST_ROOT / "pyproject.toml").read_text()
    assert cli.main(["keygen", str(tmp_path), "x"]) == 0
    assert printed(capsys.readouterr().out)["public key"] == zmq.auth.load_certificate(tmp_path / "x.key")[0].decode()


def test_generated_keys_secure_a_plugin_through_the_environment(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("engine", "pyplugin"):
        assert run_cli("keygen", "keys", name, cwd=tmp_path).returncode == 0
    server_public, server_secret = zmq.auth.load_certificate(tmp_path / "keys" / "engine.key_secret")
    client_public, _ = zmq.auth.load_certificate(tmp_path / "keys" / "pyplugin.key")
    assert server_secret is not None
    engine = FakeEngine(server_keys=(server_public, server_secret), client_keys=[client_public])
    try:
        monkeypatch.setenv("EVENT_ENGINE_SERVER_KEY", str(tmp_path / "keys" / "engine.key"))
        monkeypatch.setenv("EVENT_ENGINE_CLIENT_KEY", str(tmp_path / "keys" / "pyplugin.key_secret"))
        with PluginClient(engine.port, timeout=5) as client:
            assert client.client_public_key == client_public.decode()
            assert client.ping() >= 0
    finally:
        engine.stop()
    assert engine.refused_keys == []
