"""CURVE keys from the environment (or arguments) for both APIs (docs/security.md).

The handshake tests run against the protocol-conformance fixture (NOT the
real engine) made a CURVE server that accepts only listed client keys.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator, NamedTuple, Tuple

import pytest
import zmq
import zmq.auth

from legacy_plugin_source import LEGACY_PLUGIN
from protocol_fixture import FakeEngine
from pyevents import (
    EngineGone,
    HandshakeFailed,
    PluginClient,
    PyEventsError,
    SecurityConfigError,
    protocol,
    security,
)
from pyevents import events as legacy

DIST_ROOT = Path(__file__).resolve().parent.parent
SERVER_VAR, CLIENT_VAR = "EVENT_ENGINE_SERVER_KEY", "EVENT_ENGINE_CLIENT_KEY"


class KeyFiles(NamedTuple):
    server_public_file: str
    server_secret_file: str
    client_public_file: str
    client_secret_file: str
    server_public: bytes
    server_secret: bytes
    client_public: bytes
    client_secret: bytes


@pytest.fixture
def keys(tmp_path: Path) -> KeyFiles:
    server_public_file, server_secret_file = zmq.auth.create_certificates(str(tmp_path), "engine")
    client_public_file, client_secret_file = zmq.auth.create_certificates(str(tmp_path), "pyplugin")
    server_public, server_secret = zmq.auth.load_certificate(server_secret_file)
    client_public, client_secret = zmq.auth.load_certificate(client_secret_file)
    assert server_secret is not None and client_secret is not None
    return KeyFiles(server_public_file, server_secret_file, client_public_file, client_secret_file,
                    server_public, server_secret, client_public, client_secret)


@pytest.fixture
def secure_engine(keys: KeyFiles) -> Iterator[FakeEngine]:
    """The fixture as a CURVE server accepting only the plugin's key."""
    engine = FakeEngine(server_keys=(keys.server_public, keys.server_secret), client_keys=[keys.client_public])
    try:
        yield engine
    finally:
        engine.stop()
    assert not engine.violations, engine.violations


@pytest.fixture
def key_env(keys: KeyFiles, monkeypatch: pytest.MonkeyPatch) -> KeyFiles:
    monkeypatch.setenv(SERVER_VAR, keys.server_public_file)
    monkeypatch.setenv(CLIENT_VAR, keys.client_secret_file)
    return keys


# ------------------------------------------------------------- key parsing

def test_is_z85_key() -> None:
    public, secret = zmq.curve_keypair()
    assert security.is_z85_key(public) and security.is_z85_key(secret.decode())
    assert not security.is_z85_key(public[:39])
    assert not security.is_z85_key(public + b"0")
    assert not security.is_z85_key(b" " + public[1:])  # space is not a Z85 character
    assert not security.is_z85_key("~" * 40)
    assert not security.is_z85_key("é" * 40)
    assert not security.is_z85_key("#" * 40)  # "#####" encodes 85**5 - 1 > 2**32 - 1: libzmq refuses it
    assert security.is_z85_key("%nSc0" * 8)  # 2**32 - 1, the largest group


def test_neither_variable_means_plain_sockets(context: zmq.Context) -> None:
    assert security.curve_config() is None
    assert legacy.get_plugin_socket(context, 6000, "127.0.0.1").mechanism == zmq.NULL
    client = PluginClient(6000)
    try:
        assert not client.secure and client.client_public_key is None
    finally:
        client.close()


def test_key_files(key_env: KeyFiles) -> None:
    config = security.curve_config()
    assert config == security.CurveConfig(key_env.server_public, key_env.client_public, key_env.client_secret)


def _bare_pair() -> Tuple[bytes, bytes]:
    """A key pair whose texts cannot be paths (no '/', no leading '.', no .key ending):
    such a key may be given without the z85: prefix."""
    while True:
        public, secret = zmq.curve_keypair()
        if not any(security._could_be_path(key.decode())[0] for key in (public, secret)):
            return public, secret


def test_key_text(keys: KeyFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SERVER_VAR, f"z85:{keys.server_public.decode()}")
    monkeypatch.setenv(CLIENT_VAR, f"z85:{keys.client_secret.decode()}\n")  # e.g. from $(cat file)
    config = security.curve_config()
    assert config is not None
    assert config.server_public_key == keys.server_public
    assert config.client_public_key == keys.client_public  # derived from the secret key
    assert config.client_secret_key == keys.client_secret
    # Without the prefix, a key that cannot be a path is the key.
    public, secret = _bare_pair()
    monkeypatch.setenv(SERVER_VAR, public.decode())
    monkeypatch.setenv(CLIENT_VAR, secret.decode() + "\n")
    assert security.curve_config() == security.CurveConfig(public, zmq.curve_public(secret), secret)
    # Bytes are key material (as zmq.curve_keypair gives it), '/' or not.
    while b"/" not in keys.server_public + keys.client_secret:
        keys = keys._replace(server_public=zmq.curve_keypair()[0])
    assert security.curve_config(keys.server_public, keys.client_secret) == security.CurveConfig(
        keys.server_public, zmq.curve_public(keys.client_secret), keys.client_secret)


def test_the_secret_key_is_not_in_the_repr(key_env: KeyFiles) -> None:
    config = security.curve_config()
    assert key_env.client_secret.decode() not in repr(config)
    assert key_env.client_public.decode() in repr(config)


def test_a_server_secret_file_works_with_a_warning(keys: KeyFiles, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="pyevents.security"):
        assert security.load_public_key(keys.server_secret_file) == keys.server_public
    assert "SECRET key" in caplog.text and "NAME.key" in caplog.text


@pytest.mark.parametrize("only", [SERVER_VAR, CLIENT_VAR])
def test_only_one_variable_is_an_error_naming_the_other(key_env: KeyFiles, monkeypatch: pytest.MonkeyPatch,
                                                         context: zmq.Context, only: str) -> None:
    missing = CLIENT_VAR if only == SERVER_VAR else SERVER_VAR
    monkeypatch.delenv(missing)
    for attempt in (security.curve_config, lambda: legacy.get_plugin_socket(context, 6000),
                    lambda: PluginClient(6000)):
        with pytest.raises(SecurityConfigError, match=f"^{missing}: not set, but {only} is") as info:
            attempt()
        assert isinstance(info.value, ValueError) and isinstance(info.value, PyEventsError)
        assert info.value.source == missing
        assert "unset" in str(info.value)


def _garbage_file(tmp_path: Path) -> str:
    path = tmp_path / "garbage.key"
    path.write_text("not a certificate\n")
    return str(path)


def _bad_key_file(tmp_path: Path) -> str:
    path = tmp_path / "bad.key"
    path.write_text('curve\n    public-key = "too short"\n')
    return str(path)


def _mismatched_pair(tmp_path: Path) -> str:
    public, _ = zmq.curve_keypair()
    _, secret = zmq.curve_keypair()
    path = tmp_path / "odd.key_secret"
    path.write_text(f'curve\n    public-key = "{public.decode()}"\n    secret-key = "{secret.decode()}"\n')
    return str(path)


@pytest.mark.parametrize("variable, make_value, message", [
    (SERVER_VAR, lambda tmp, k: "", "set but empty"),
    (CLIENT_VAR, lambda tmp, k: "", "set but empty"),
    (SERVER_VAR, lambda tmp, k: str(tmp / "nowhere.key"), "neither a 40-character Z85 key nor an existing file"),
    (CLIENT_VAR, lambda tmp, k: str(tmp / "nowhere.key_secret"), "nor an existing file"),
    (SERVER_VAR, lambda tmp, k: "~" * 40, "40 characters long but not valid Z85"),
    (CLIENT_VAR, lambda tmp, k: k.client_secret.decode()[:39], "neither a 40-character Z85 key"),
    (SERVER_VAR, lambda tmp, k: str(tmp), "is a directory"),
    (SERVER_VAR, lambda tmp, k: _garbage_file(tmp), "holds no public key"),
    (SERVER_VAR, lambda tmp, k: _bad_key_file(tmp), "holds no valid public key"),
    (CLIENT_VAR, lambda tmp, k: k.client_public_file, "holds only a public key"),
    (CLIENT_VAR, lambda tmp, k: _mismatched_pair(tmp), "not a pair"),
])
def test_bad_values_are_errors_naming_the_variable(key_env: KeyFiles, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch, variable: str,
                                                   make_value, message: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(variable, make_value(tmp_path, key_env))
    with pytest.raises(SecurityConfigError, match=message) as info:
        security.curve_config()
    assert str(info.value).startswith(f"{variable}: ")
    with pytest.raises(SecurityConfigError, match=message):
        PluginClient(6000)


def test_a_mistyped_secret_key_is_not_shown(key_env: KeyFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    almost = key_env.client_secret.decode()[:-1] + "~"
    monkeypatch.setenv(CLIENT_VAR, almost)
    with pytest.raises(SecurityConfigError) as info:
        security.curve_config()
    assert almost[:20] not in str(info.value)
    assert "not shown" in str(info.value)


def test_arguments_override_the_environment(keys: KeyFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SERVER_VAR, "/nowhere/engine.key")
    monkeypatch.setenv(CLIENT_VAR, "/nowhere/pyplugin.key_secret")
    config = security.curve_config(Path(keys.server_public_file), keys.client_secret)
    assert config == security.CurveConfig(keys.server_public, keys.client_public, keys.client_secret)


def test_an_argument_pairs_with_the_other_variable(keys: KeyFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLIENT_VAR, keys.client_secret_file)
    config = security.curve_config(server_key=f"z85:{keys.server_public.decode()}")
    assert config is not None and config.client_public_key == keys.client_public
    monkeypatch.delenv(CLIENT_VAR)
    with pytest.raises(SecurityConfigError, match=f"{CLIENT_VAR}: not set, but server_key argument is"):
        security.curve_config(server_key=f"z85:{keys.server_public.decode()}")
    with pytest.raises(SecurityConfigError, match="client_key argument: must be a str, bytes or path"):
        security.curve_config(server_key=keys.server_public, client_key=42)  # type: ignore[arg-type]


# ----------------------------------------------------------- legacy helpers

def test_legacy_socket_speaks_curve_with_the_variables(key_env: KeyFiles, secure_engine: FakeEngine,
                                                       context: zmq.Context) -> None:
    sock = legacy.get_plugin_socket(context, secure_engine.port, "127.0.0.1")
    assert sock.mechanism == zmq.CURVE
    secure_engine.push(b"TypeAsecret")
    sock.RCVTIMEO = 5000
    assert legacy.get_next_msg(sock, timeout=5000) == b"TypeAsecret"
    assert legacy.publish_msg(sock, b"TypeCsealed") == "event-engine: msg published"
    assert secure_engine.published == [b"TypeCsealed"]


def test_legacy_socket_without_the_variables_is_refused(secure_engine: FakeEngine, context: zmq.Context) -> None:
    sock = legacy.get_plugin_socket(context, secure_engine.port, "127.0.0.1")
    sock.setsockopt(zmq.LINGER, 0)
    # A refused handshake that fails before the request is queued leaves the REQ socket
    # without a peer (libzmq stops reconnecting after a protocol error), and the legacy
    # helper's send blocks: without a send timeout the test would hang instead of failing
    # or passing.  Either way the refusal shows as zmq.Again.
    sock.setsockopt(zmq.SNDTIMEO, 500)
    with pytest.raises(zmq.error.Again):
        legacy.get_next_msg(sock, timeout=500)
    assert secure_engine.requests == []


def test_unmodified_legacy_plugin_is_secured_by_the_environment(key_env: KeyFiles, secure_engine: FakeEngine,
                                                                tmp_path: Path) -> None:
    script = tmp_path / "plugin.py"
    script.write_text(LEGACY_PLUGIN.replace("PYPLUGIN_TCP_PORT = 6000", f"PYPLUGIN_TCP_PORT = {secure_engine.port}"))
    secure_engine.push(*[b"TypeB%d" % i for i in range(10)])
    env = dict(os.environ, PYTHONPATH=str(DIST_ROOT), EVENT_ENGINE_HOST="127.0.0.1")
    done = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert secure_engine.requests == [protocol.NEXT_MSG] * 10 + [b"TypeCGoodbye from python", protocol.QUIT]
    assert secure_engine.refused_keys == []


# ------------------------------------------------------------- PluginClient

def test_plugin_client_speaks_curve_with_the_variables(key_env: KeyFiles, secure_engine: FakeEngine) -> None:
    secure_engine.push(b"TypeAone")
    with PluginClient(secure_engine.port, timeout=5) as client:
        assert client.secure
        assert client.client_public_key == key_env.client_public.decode()
        assert client.ping() >= 0
        assert client.next_event(3) == b"TypeAone"
        client.publish(b"TypeCback")
    assert secure_engine.published == [b"TypeCback"]
    assert secure_engine.requests[-1] == protocol.QUIT


def test_plugin_client_reconnects_with_curve(key_env: KeyFiles, secure_engine: FakeEngine) -> None:
    with PluginClient(secure_engine.port, timeout=5) as client:
        assert client.ping() >= 0
        secure_engine.drop_connection()
        for _ in range(5):  # the first request after the drop may report it
            try:
                client.ping()
                break
            except EngineGone:
                pass
        secure_engine.push(b"TypeAafter")
        assert client.next_event(3) == b"TypeAafter"
    assert secure_engine.refused_keys == []


def test_plugin_client_keyword_arguments(keys: KeyFiles, secure_engine: FakeEngine) -> None:
    with PluginClient(secure_engine.port, timeout=5, server_key=Path(keys.server_public_file),
                      client_key=keys.client_secret) as client:
        assert client.ping() >= 0


def test_plugin_client_keyword_argument_without_its_partner(keys: KeyFiles) -> None:
    with pytest.raises(SecurityConfigError, match=f"{CLIENT_VAR}: not set, but server_key argument is"):
        PluginClient(6000, server_key=keys.server_public)


def test_a_refused_client_key_raises_handshake_failed(keys: KeyFiles, secure_engine: FakeEngine) -> None:
    stranger_public, stranger_secret = zmq.curve_keypair()
    client = PluginClient(secure_engine.port, timeout=5, server_key=keys.server_public, client_key=stranger_secret)
    try:
        with pytest.raises(HandshakeFailed, match="refused this plugin's key") as info:
            client.ping()
        assert not isinstance(info.value, EngineGone)  # a loop over the client must not end quietly
        assert stranger_public.decode() in str(info.value) and CLIENT_VAR in str(info.value)
        with pytest.raises(HandshakeFailed):
            client.next_event(1)  # stays an error on retry
    finally:
        client.close()
    assert stranger_public in secure_engine.refused_keys
    assert secure_engine.requests == []


def test_a_wrong_server_key_raises_handshake_failed(keys: KeyFiles, secure_engine: FakeEngine) -> None:
    other_public, _ = zmq.curve_keypair()
    client = PluginClient(secure_engine.port, timeout=5, server_key=other_public, client_key=keys.client_secret)
    try:
        with pytest.raises(HandshakeFailed, match=f"{SERVER_VAR}.*PUBLIC key"):
            client.ping()
    finally:
        client.close()
    assert secure_engine.requests == []


def test_a_plain_client_of_a_curve_engine_is_told_to_set_keys(secure_engine: FakeEngine) -> None:
    client = PluginClient(secure_engine.port, timeout=5)
    try:
        with pytest.raises(HandshakeFailed, match=f"requires CURVE keys: set {SERVER_VAR}"):  # may say "probably"
            client.ping()
    finally:
        client.close()


def test_a_curve_client_of_a_plain_engine_is_told_so(key_env: KeyFiles, fake_engine: FakeEngine) -> None:
    client = PluginClient(fake_engine.port, timeout=5)
    try:
        # Which of the two the client sees depends on a race in the handshake.
        with pytest.raises(HandshakeFailed, match="does not use CURVE|uses keys at all"):
            client.ping()
    finally:
        client.close()


def test_iteration_does_not_end_quietly_on_a_refused_key(secure_engine: FakeEngine) -> None:
    client = PluginClient(secure_engine.port, timeout=5)
    try:
        with pytest.raises(HandshakeFailed):
            list(client)
    finally:
        client.close()


# ------------------------------------------- a key is text or a file, never a guess

@pytest.fixture
def z85_paths() -> Iterator[Tuple[str, str, bytes, bytes, bytes]]:
    """Certificate files whose paths are 40 characters, all of them Z85 ('/', '.', '-',
    letters and digits are): (public file, secret file, server public, client public, client secret)."""
    directory = Path(tempfile.mkdtemp(prefix="eek", dir="/tmp"))  # its own, unpredictable name
    while "_" in directory.name:  # tempfile's names may have "_", which is not Z85
        retry = Path(tempfile.mkdtemp(prefix="eek", dir="/tmp"))
        directory.rmdir()
        directory = retry
    server_name = "s" * (40 - len(f"{directory}/.key"))
    try:
        _, server_file, _ = security.write_certificates(directory, server_name)
        client_public, _, written = security.write_certificates(directory, "client")
        client_file = directory / ("c" * (40 - len(f"{directory}/.sec")) + ".sec")  # "_" is not Z85
        written.rename(client_file)
        public_file = str(directory / f"{server_name}.key")
        server_public, _ = zmq.auth.load_certificate(public_file)
        _, client_secret = zmq.auth.load_certificate(str(client_file))
        assert client_secret is not None
        yield public_file, str(client_file), server_public, client_public.encode(), client_secret
    finally:
        shutil.rmtree(directory)


def test_a_40_character_z85_path_is_never_taken_as_the_key(z85_paths, monkeypatch: pytest.MonkeyPatch) -> None:
    public_file, secret_file, server_public, client_public, client_secret = z85_paths
    assert len(public_file) == len(secret_file) == 40
    assert security.is_z85_key(public_file) and security.is_z85_key(secret_file)
    # Without a prefix it could be either: refused, naming both ways.
    for variable, value in ((SERVER_VAR, public_file), (CLIENT_VAR, secret_file)):
        monkeypatch.setenv(SERVER_VAR, f"file:{public_file}")
        monkeypatch.setenv(CLIENT_VAR, f"file:{secret_file}")
        monkeypatch.setenv(variable, value)
        with pytest.raises(SecurityConfigError) as info:
            security.curve_config()
        assert info.value.source == variable
        assert "could be a certificate file's path too (it looks like one)" in str(info.value)
        assert "file:PATH" in str(info.value) and "z85:KEY" in str(info.value)
        if variable == CLIENT_VAR:  # it could be a secret key: never shown
            assert value not in str(info.value) and "40 characters, not shown" in str(info.value)
    # Said which: the file's keys.
    monkeypatch.setenv(SERVER_VAR, f"file:{public_file}")
    monkeypatch.setenv(CLIENT_VAR, f"file:{secret_file}")
    assert security.curve_config() == security.CurveConfig(server_public, client_public, client_secret)
    monkeypatch.delenv(SERVER_VAR)
    monkeypatch.delenv(CLIENT_VAR)
    assert security.curve_config(Path(public_file), Path(secret_file)) == security.CurveConfig(
        server_public, client_public, client_secret)
    assert security.load_public_key(f"z85:{server_public.decode()}") == server_public
    with pytest.raises(SecurityConfigError, match="z85: must be followed by a key's 40 Z85 characters"):
        security.load_public_key("z85:" + public_file[:-1])


def test_key_options_of_the_cli_say_text_or_file(z85_paths) -> None:
    """--server-key is the key's text, --server-key-file a file; the older --server-key FILE
    still works with a warning, and a 40-character Z85 path given to --server-key is refused."""
    from pyevents import cli
    public_file, secret_file, server_public, client_public, client_secret = z85_paths

    def keys(*argv: str) -> Tuple[object, object]:
        args = cli.parse_arguments(["list", *argv])
        return cli._keys(args)

    server, client = keys("--server-key-file", public_file, "--client-key-file", secret_file)
    assert security.curve_config(server, client) == security.CurveConfig(server_public, client_public, client_secret)
    server, client = keys("--server-key", f"z85:{server_public.decode()}", "--client-key",
                          f"z85:{client_secret.decode()}")
    assert security.curve_config(server, client) == security.CurveConfig(server_public, client_public, client_secret)
    bare_public, bare_secret = _bare_pair()
    server, client = keys("--server-key", bare_public.decode(), "--client-key", bare_secret.decode())
    assert security.curve_config(server, client) == security.CurveConfig(bare_public, zmq.curve_public(bare_secret),
                                                                         bare_secret)
    for option, value in (("--server-key", public_file), ("--client-key", secret_file)):
        with pytest.raises(SecurityConfigError) as info:
            keys(option, value)
        assert f"{option}-file PATH" in str(info.value) and f"{option} z85:KEY" in str(info.value)
        assert (value not in str(info.value)) == (option == "--client-key")  # a secret is never shown
    with pytest.raises(SystemExit):  # both at once: a usage error
        keys("--server-key", server_public.decode(), "--server-key-file", public_file)
    with pytest.raises(SecurityConfigError, match="--client-key: the value .* not shown.*--client-key-file"):
        keys("--client-key", "nothing-here")


# A 40-character Z85 value that could be a path is refused even when no such file exists
# (missing, mistyped, not mounted): the path must never silently become the key.
MISSING_PATHS = [
    "/home/ann/keys/abcdefghijklmn/engine.key",  # '/' and .key
    "keys/abcdefghijklmnopqrstuvwxyz012345678",  # '/' only
    "./abcdefghijklmnopqrstuvwxyz0123456789AB",  # a leading '.'
    "abcdefghijklmnopqrstuvwxyz0123456789.key",  # .key
]


@pytest.mark.parametrize("path", MISSING_PATHS)
def test_a_missing_40_character_path_is_not_taken_as_the_key(path: str, keys: KeyFiles,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(path) == 40 and security.is_z85_key(path) and not os.path.exists(path)
    with pytest.raises(SecurityConfigError, match="could be a certificate file's path too") as info:
        security.curve_config(path, keys.client_secret_file)
    assert info.value.source == "server_key argument" and "file:PATH" in str(info.value)
    monkeypatch.setenv(SERVER_VAR, path)
    monkeypatch.setenv(CLIENT_VAR, keys.client_secret_file)
    with pytest.raises(SecurityConfigError, match=f"^{SERVER_VAR}: .*z85:KEY"):
        security.curve_config()
    monkeypatch.setenv(SERVER_VAR, f"z85:{path}")  # said: the text is the key
    assert security.curve_config().server_public_key == path.encode()  # type: ignore[union-attr]
    from pyevents import cli
    args = cli.parse_arguments(["list", "--server-key", path])
    with pytest.raises(SecurityConfigError, match="--server-key-file PATH.*--server-key z85:KEY"):
        cli._keys(args)


def test_the_paths_above_are_40_z85_characters() -> None:
    assert all(len(path) == 40 and security.is_z85_key(path) for path in MISSING_PATHS), MISSING_PATHS


def test_a_name_that_cannot_be_checked_could_be_a_file(tmp_path: Path, keys: KeyFiles,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A symbolic link to itself: os.stat fails (ELOOP) and os.path.exists says False."""
    name = "abcdefghijklmnopqrstuvwxyz0123456789ABCD"
    assert security.is_z85_key(name)
    (tmp_path / name).symlink_to(name)
    monkeypatch.chdir(tmp_path)
    assert not os.path.exists(name)
    with pytest.raises(SecurityConfigError, match="existence cannot be checked"):
        security.load_public_key(name)


def test_a_secret_key_refused_as_ambiguous_is_not_shown(keys: KeyFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = b""
    while b"/" not in secret:
        _, secret = zmq.curve_keypair()
    text = secret.decode()
    from pyevents import cli
    attempts = [lambda: security.load_secret_key(text),
                lambda: security.curve_config(keys.server_public_file, text),
                lambda: cli._keys(cli.parse_arguments(["list", "--client-key", text]))]
    for attempt in attempts:
        with pytest.raises(SecurityConfigError) as info:
            attempt()
        assert text not in str(info.value) and "40 characters, not shown" in str(info.value)
    monkeypatch.setenv(SERVER_VAR, keys.server_public_file)
    monkeypatch.setenv(CLIENT_VAR, text)
    with pytest.raises(SecurityConfigError) as info:
        security.curve_config()
    assert text not in str(info.value)
    assert security.load_secret_key(f"z85:{text}") == (zmq.curve_public(secret), secret)


def test_a_key_that_begins_with_a_dash_is_read_as_the_key() -> None:
    """Z85 has '-' in its alphabet: `--client-key -A1s...` is the key, not an unknown option."""
    from pyevents import cli
    while True:
        public, secret = zmq.curve_keypair()
        if secret.startswith(b"-") and public.startswith(b"-") and b"/" not in secret + public:
            break
    args = cli.parse_arguments(["list", "--server-key", public.decode(), "--client-key", secret.decode()])
    assert (args.server_key, args.client_key) == (public.decode(), secret.decode())
    server, client = cli._keys(args)
    assert security.curve_config(server, client) == security.CurveConfig(public, zmq.curve_public(secret), secret)
    with pytest.raises(SystemExit):  # anything else that begins with '-' is still an option
        cli.parse_arguments(["list", "--client-key", "--timeout", "3"])


def test_the_docs_example_paths_are_40_z85_characters() -> None:
    """docs/security.md and this module's docstring show a path that is 40 Z85 characters."""
    import re
    texts = [(DIST_ROOT.parent / "docs" / "security.md").read_text(), security._as_text.__doc__ or ""]
    examples = [path for text in texts for path in re.findall(r"``?(/home/ann/[^`]+)``?", text)]
    assert len(examples) >= 2, examples
    for path in examples:
        assert len(path) == 40 and security.is_z85_key(path), path


def test_the_cli_steers_the_secret_key_off_the_command_line() -> None:
    """A command line is visible to every local user (ps): --client-key's help says so and
    names the two ways that are not."""
    from pyevents import cli
    parser = cli.build_parser()
    help_text = " ".join(parser._subparsers._group_actions[0].choices["list"].format_help().split())  # type: ignore[union-attr]
    assert "(ps): prefer --client-key-file or $EVENT_ENGINE_CLIENT_KEY" in help_text, help_text


def test_the_cli_takes_the_manifests_server_key_as_a_key_whatever_its_characters(keys: KeyFiles,
                                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The server key a manifest gives is Z85 text: one with '/' (a third of keys) is not a path."""
    from pyevents import cli
    public = b""
    while b"/" not in public:
        public, _ = zmq.curve_keypair()
    contract = type("Manifest", (), {"server_public_key": public.decode(), "curve_required": True})()
    monkeypatch.delenv(SERVER_VAR, raising=False)
    monkeypatch.delenv(CLIENT_VAR, raising=False)
    args = cli.parse_arguments(["list", "--client-key-file", keys.client_secret_file])
    curve = cli._curve(args, contract)  # type: ignore[arg-type]
    assert curve is not None and curve.server_public_key == public


def test_server_key_given_a_file_still_works_with_a_deprecation_note(keys: KeyFiles, capsys) -> None:  # type: ignore[no-untyped-def]
    """The older --server-key FILE (a path that is not 40 Z85 characters) reads the file, and
    says on stderr that this use is deprecated and which option to use (docs/testing.md,
    "Changing the public API": a CLI option's deprecation is a note on stderr)."""
    from pyevents import cli
    args = cli.parse_arguments(["list", "--server-key", keys.server_public_file,
                                          "--client-key-file", keys.client_secret_file])
    server, client = cli._keys(args)
    assert server == Path(keys.server_public_file)
    assert security.curve_config(server, client) == security.CurveConfig(keys.server_public, keys.client_public,
                                                                         keys.client_secret)
    note = capsys.readouterr().err
    assert note == (f"pyevents list: warning: --server-key takes the key's text; {keys.server_public_file!r} is "
                    "read as a file, but give a file with --server-key-file (this use of --server-key is "
                    "deprecated)\n"), note
    cli._keys(args)  # once per run
    assert capsys.readouterr().err == ""
