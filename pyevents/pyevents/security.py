"""CURVE keys for the sockets pyevents makes (docs/security.md).

An application started with a server key pair accepts only CURVE clients whose
public key it lists.  pyevents takes the keys from two environment variables,
in the legacy helpers (so an unmodified plugin can be secured) and in
:class:`~pyevents.PluginClient` (whose ``server_key``/``client_key`` arguments
override them):

``EVENT_ENGINE_SERVER_KEY``
    the application's **public** key: ``z85:`` and its 40 Z85 characters, or
    ``file:`` and the path of a ZeroMQ certificate file holding it (``NAME.key``).
``EVENT_ENGINE_CLIENT_KEY``
    this plugin's **secret** key: ``file:`` and the path of its ``NAME.key_secret``
    certificate file, or ``z85:`` and the 40 Z85 characters of the secret key
    (the public key is derived from it).

Both set: every socket speaks CURVE.  Neither set: plain sockets, as with the
original engine.  Anything else (one of them only, an empty value, a file that
does not exist or holds no key, text that is not a 40-character Z85 key)
raises :class:`~pyevents.errors.SecurityConfigError` naming the variable.

A key is text or a file by what the caller says, never by a guess: in a
variable or a ``str`` argument, ``z85:`` and ``file:`` say which (they always
win: a key whose own text starts with one is written ``z85:z85:...``); a
:class:`pathlib.Path` (any path-like object) is a file; ``bytes`` of 40 Z85
characters are a key (as :func:`zmq.curve_keypair` gives them).  Without a
prefix (the older spelling, still accepted) a value that is not 40 Z85
characters is a path; one that is is the key unless it could be a path too (Z85
has ``/``, ``.``, ``-``, letters and digits: a 40-character path can be one):
it contains ``/``, starts with ``.`` or ``~``, ends with ``.key`` or
``.key_secret``, or names something that exists or cannot be checked.  That is
refused, whether or not the file exists, with an error that names both ways, as
is the engine's ``curve_key::from_setting``; a key that contains ``/`` (about a
third do) is written ``z85:KEY``.

Certificate files are those of :func:`zmq.auth.create_certificates` (and
czmq's ``zcert``, and ``pyevents keygen DIR NAME``, which calls
:func:`write_certificates`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Tuple, Union

import zmq
import zmq.auth

from .errors import SecurityConfigError

__all__ = [
    "SERVER_KEY_ENV_VAR",
    "CLIENT_KEY_ENV_VAR",
    "KeySource",
    "Z85_PREFIX",
    "FILE_PREFIX",
    "CurveConfig",
    "is_z85_key",
    "load_public_key",
    "load_secret_key",
    "curve_config",
    "write_certificates",
]

logger = logging.getLogger(__name__)

#: The application's public key (``z85:`` + 40 Z85 characters, or ``file:`` + the path of its ``.key`` file).
SERVER_KEY_ENV_VAR = "EVENT_ENGINE_SERVER_KEY"
#: This plugin's secret key (``file:`` + the path of its ``.key_secret`` file, or ``z85:`` + 40 Z85 characters).
CLIENT_KEY_ENV_VAR = "EVENT_ENGINE_CLIENT_KEY"

#: A key as pyevents accepts it: Z85 text (``str`` or ``bytes``, e.g. from
#: :func:`zmq.curve_keypair`, optionally ``z85:``-prefixed) or a certificate file
#: (a path-like object such as :class:`pathlib.Path`, or a ``str`` prefixed ``file:``).
KeySource = Union[str, bytes, "os.PathLike[str]"]

_Z85_CHARS = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
_Z85_VALUES = {char: index for index, char in enumerate(_Z85_CHARS)}
_KEY_TEXT_LENGTH = 40


def is_z85_key(text: Union[str, bytes]) -> bool:
    """Whether *text* is a CURVE key in Z85: 40 characters that decode into 32 bytes.

    The same test as libzmq's ``zmq_z85_decode``: only Z85 characters, and
    every group of 5 characters encodes a value below 2**32.
    """
    if isinstance(text, str):
        try:
            raw = text.encode("ascii")
        except UnicodeEncodeError:
            return False
    elif isinstance(text, bytes):
        raw = text
    else:
        return False
    if len(raw) != _KEY_TEXT_LENGTH:
        return False
    for start in range(0, _KEY_TEXT_LENGTH, 5):
        value = 0
        for char in raw[start:start + 5]:
            digit = _Z85_VALUES.get(char)
            if digit is None:
                return False
            value = value * 85 + digit
        if value >= 1 << 32:
            return False
    return True


@dataclass(frozen=True)
class CurveConfig:
    """The three keys a CURVE client socket needs, each as 40 Z85 characters (bytes).

    :meth:`apply` sets them on a socket; it must be called before the socket
    connects.  The secret key is left out of ``repr()``.
    """

    server_public_key: bytes
    client_public_key: bytes
    client_secret_key: bytes = field(repr=False)

    def apply(self, socket: zmq.Socket) -> None:
        """Make *socket* a CURVE client of the engine (call before ``connect``)."""
        socket.curve_serverkey = self.server_public_key
        socket.curve_publickey = self.client_public_key
        socket.curve_secretkey = self.client_secret_key


def _describe(value: KeySource, secret: bool) -> str:
    """*value* for an error message; a secret key's text (even mistyped) is never shown."""
    text = os.fsdecode(value) if isinstance(value, (bytes, os.PathLike)) else value
    # Z85 has "/" among its characters: only a value clearly not 40-ish characters long counts as a path.
    looks_like_path = text.endswith((".key", ".key_secret")) or (
        (os.sep in text or "/" in text) and not 30 <= len(text) <= 50
    )
    if secret and not looks_like_path:
        return f"the value ({len(text)} characters, not shown)"
    return repr(text)


#: The prefixes that say what a key's text is, whatever its characters (environment
#: variables, ``str`` arguments): ``z85:<40 Z85 characters>`` or ``file:<certificate path>``.
Z85_PREFIX, FILE_PREFIX = "z85:", "file:"


def _could_be_path(text: str) -> Tuple[bool, str]:
    """Whether *text*, 40 Z85 characters, could also be a certificate file's path, and why.

    It could if it looks like one ('/' in it, a leading '.' or '~', a ``.key`` or
    ``.key_secret`` ending), whether or not the file exists (it may be missing, mistyped
    or not mounted), or if it names something that exists or whose existence cannot be
    checked (``os.path.exists`` says False on any error: an unreadable directory, a loop
    of symbolic links).
    """
    if "/" in text or os.sep in text or text.startswith((".", "~")) or text.endswith((".key", ".key_secret")):
        return True, "it looks like one"
    try:
        os.stat(text)
    except (FileNotFoundError, NotADirectoryError):
        return False, ""
    except OSError as e:
        return True, f"its existence cannot be checked: {e.strerror or e}"
    except ValueError:  # an embedded NUL: not a path the system can name
        return False, ""
    return True, "such a file exists"


def _as_text(value: object, source: str, *, secret: bool = False) -> Tuple[Optional[bytes], Optional[str]]:
    """Split *value* into (Z85 key bytes, None) or (None, file path), or raise.

    Never a guess: a path object is a file; ``z85:``/``file:`` say which (the prefixes
    always win: a key whose own text starts with ``z85:`` or ``file:`` is written
    ``z85:z85:...`` or ``z85:file:...``); ``bytes`` of 40 Z85 characters are a key. A
    bare ``str`` (or other ``bytes``) that is not 40 Z85 characters is a file's path; one that is 40 Z85 characters is the key unless it could
    be a path (:func:`_could_be_path`: a path such as
    ``/home/ann/keys/abcdefghijklmn/engine.key`` is 40 Z85 characters), and then it is
    refused whether or not the file exists. Z85 has '/': a key containing one is written
    with ``z85:``.
    """
    if isinstance(value, os.PathLike):
        return None, os.fsdecode(os.fspath(value))
    if isinstance(value, bytes):
        if is_z85_key(value.strip()):  # bytes are key material (zmq.curve_keypair); a path is a Path
            return value.strip(), None
        value = os.fsdecode(value)
    if not isinstance(value, str):
        raise SecurityConfigError(
            source, f"must be a str, bytes or path (Z85 key text or a certificate file), not {type(value).__name__}"
        )
    if not value:
        raise SecurityConfigError(source, "set but empty; give a key or a certificate file's path, or unset it")
    if value.startswith(Z85_PREFIX):
        text = value[len(Z85_PREFIX):].strip()
        if not is_z85_key(text):
            shown = f"{len(text)} characters, not shown" if secret else repr(text)
            raise SecurityConfigError(
                source, f"{Z85_PREFIX} must be followed by a key's 40 Z85 characters ({shown}); "
                        f"for a certificate file write {FILE_PREFIX}PATH"
            )
        return text.encode("ascii"), None
    if value.startswith(FILE_PREFIX):
        return None, value[len(FILE_PREFIX):]
    text = value.strip()
    if not is_z85_key(text):
        return None, value
    ambiguous, why = _could_be_path(text)
    if ambiguous:
        # Never the value itself if it may be a secret key: only a public key's text is shown.
        shown = f"the value ({len(text)} characters, not shown)" if secret else repr(value)
        raise SecurityConfigError(
            source, f"{shown} is 40 Z85 characters, so it could be a key, and could be a certificate file's "
                    f"path too ({why}); nothing is guessed: write {FILE_PREFIX}PATH for the file or "
                    f"{Z85_PREFIX}KEY for the key itself"
        )
    return text.encode("ascii"), None


def _read_certificate(
    path: str, value: KeySource, source: str, expected: str, *, secret: bool
) -> Tuple[bytes, Optional[bytes]]:
    """Read ``(public key, secret key or None)`` from the certificate file *path*."""
    if not path:
        raise SecurityConfigError(source, "set but empty; give a key or a certificate file's path, or unset it")
    if not os.path.exists(path):
        hint = (" (it is 40 characters long but not valid Z85: a key has only the characters of ZeroMQ's Z85 "
                "alphabet)" if len(path.strip()) == _KEY_TEXT_LENGTH else "")
        raise SecurityConfigError(
            source, f"{_describe(value, secret)} is neither a 40-character Z85 key nor an existing file{hint}; "
                    f"give {expected} (write {Z85_PREFIX}KEY or {FILE_PREFIX}PATH to say which)"
        )
    if os.path.isdir(path):
        raise SecurityConfigError(source, f"{path!r} is a directory; give {expected}")
    try:
        public, secret_key = zmq.auth.load_certificate(path)
    except ValueError:
        raise SecurityConfigError(
            source, f"{path!r} holds no public key: it is not a ZeroMQ certificate file (expected a line "
                    f'public-key = "<40 Z85 characters>"); give {expected}'
        ) from None
    except OSError as e:
        raise SecurityConfigError(source, f"cannot read {path!r}: {e.strerror or e}") from None
    if not is_z85_key(public):
        raise SecurityConfigError(
            source, f"{path!r} holds no valid public key (expected a line "
                    f'public-key = "<40 Z85 characters>"); give {expected}'
        )
    if secret_key is not None and not is_z85_key(secret_key):
        raise SecurityConfigError(source, f"{path!r} holds a secret-key line that is not a 40-character Z85 key")
    return public, secret_key


def load_public_key(value: KeySource, source: str = SERVER_KEY_ENV_VAR) -> bytes:
    """The engine's public key from its Z85 text or the path of a certificate file.

    *source* names where *value* came from, for error messages.  A
    ``NAME.key_secret`` file is accepted (its public key is used), with a
    warning: a plugin's machine needs only the public ``NAME.key``.

    Raises :class:`~pyevents.errors.SecurityConfigError` if it holds no valid key.
    """
    key, path = _as_text(value, source)
    if key is not None:
        return key
    assert path is not None
    public, secret = _read_certificate(
        path, value, source, "the application's public key: 40 Z85 characters or the path of its NAME.key file",
        secret=False,
    )
    if secret is not None:
        logger.warning(
            "%s: %r holds the application's SECRET key too; a plugin needs only the public NAME.key file "
            "(keep NAME.key_secret on the application's machine)", source, path,
        )
    return public


def load_secret_key(value: KeySource, source: str = CLIENT_KEY_ENV_VAR) -> Tuple[bytes, bytes]:
    """A client's ``(public key, secret key)`` from a ``.key_secret`` file or the secret key's Z85 text.

    Given the secret key's text, the public key is derived from it
    (:func:`zmq.curve_public`).  *source* names where *value* came from, for
    error messages.

    Raises :class:`~pyevents.errors.SecurityConfigError` if there is no valid
    secret key (e.g. a public ``.key`` file was given).
    """
    key, path = _as_text(value, source, secret=True)
    if key is not None:
        return zmq.curve_public(key), key
    assert path is not None
    expected = "this plugin's secret key: the path of its NAME.key_secret file or 40 Z85 characters"
    public, secret = _read_certificate(path, value, source, expected, secret=True)
    if secret is None:
        raise SecurityConfigError(
            source, f"{path!r} holds only a public key; give {expected} "
                    "(the public NAME.key file goes to the application)"
        )
    if zmq.curve_public(secret) != public:
        raise SecurityConfigError(source, f"the public and secret keys in {path!r} are not a pair")
    return public, secret


def curve_config(
    server_key: Optional[KeySource] = None,
    client_key: Optional[KeySource] = None,
    *,
    environ: Optional[Mapping[str, str]] = None,
) -> Optional[CurveConfig]:
    """The CURVE keys to use, or ``None`` for plain sockets.

    *server_key* and *client_key* (as accepted by :func:`load_public_key` and
    :func:`load_secret_key`) each override their environment variable
    (``EVENT_ENGINE_SERVER_KEY``, ``EVENT_ENGINE_CLIENT_KEY``; *environ*
    defaults to :data:`os.environ`).  Neither given nor set: ``None``.  Only
    one of the two, or a bad key: :class:`~pyevents.errors.SecurityConfigError`.
    """
    env = os.environ if environ is None else environ
    server_source, client_source = "server_key argument", "client_key argument"
    if server_key is None and SERVER_KEY_ENV_VAR in env:
        server_key, server_source = env[SERVER_KEY_ENV_VAR], SERVER_KEY_ENV_VAR
    if client_key is None and CLIENT_KEY_ENV_VAR in env:
        client_key, client_source = env[CLIENT_KEY_ENV_VAR], CLIENT_KEY_ENV_VAR
    if server_key is None and client_key is None:
        return None
    for value, source in ((server_key, server_source), (client_key, client_source)):
        if isinstance(value, (str, bytes)) and not value:
            raise SecurityConfigError(source, "set but empty; give a key or a certificate file's path, or unset it")
    if client_key is None:
        raise SecurityConfigError(
            CLIENT_KEY_ENV_VAR,
            f"not set, but {server_source} is: a CURVE client needs both keys; set {CLIENT_KEY_ENV_VAR} "
            "to this plugin's NAME.key_secret file (or pass client_key=), or unset "
            f"{SERVER_KEY_ENV_VAR} to connect without security",
        )
    if server_key is None:
        raise SecurityConfigError(
            SERVER_KEY_ENV_VAR,
            f"not set, but {client_source} is: a CURVE client needs both keys; set {SERVER_KEY_ENV_VAR} "
            "to the application's public NAME.key file (or pass server_key=), or unset "
            f"{CLIENT_KEY_ENV_VAR} to connect without security",
        )
    server_public = load_public_key(server_key, server_source)
    client_public, client_secret = load_secret_key(client_key, client_source)
    logger.debug("CURVE on: client public key %s", client_public.decode("ascii"))
    return CurveConfig(server_public, client_public, client_secret)


def write_certificates(
    directory: Union[str, "os.PathLike[str]"], name: str, *, overwrite: bool = False
) -> Tuple[str, Path, Path]:
    """Write a new CURVE key pair as ``DIRECTORY/NAME.key`` and ``DIRECTORY/NAME.key_secret``.

    The files are ZeroMQ certificate files (:func:`zmq.auth.create_certificates`):
    ``NAME.key`` holds the public key (give it to the application),
    ``NAME.key_secret`` both keys (keep it private; it is made readable by
    its owner only).  *directory* is created if missing.  Returns
    ``(public key as Z85 text, public file, secret file)``.

    Raises :class:`ValueError` for a *name* that is not a plain file name,
    :class:`FileExistsError` if a file exists and not *overwrite*,
    :class:`OSError` if the files cannot be written.
    """
    if not name or name in (".", "..") or "/" in name or os.sep in name or (os.altsep and os.altsep in name):
        raise ValueError(f"NAME must be a plain file name such as 'pyplugin', not {name!r}")
    if not zmq.has("curve"):
        raise RuntimeError("this libzmq has no CURVE support; install a libzmq built with libsodium or tweetnacl")
    folder = Path(directory)
    public_file, secret_file = folder / f"{name}.key", folder / f"{name}.key_secret"
    existing = [str(path) for path in (public_file, secret_file) if path.exists() or path.is_symlink()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{' and '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; choose another NAME "
            "or directory, or replace them (keygen --force, overwrite=True), after which everything that "
            "uses the old keys needs the new ones"
        )
    folder.mkdir(parents=True, exist_ok=True)
    old_umask = os.umask(0o077)  # the secret file is never readable by others, not even briefly
    try:
        for path in (public_file, secret_file):  # replaced, not rewritten: new files, new permissions
            if path.exists() or path.is_symlink():
                path.unlink()
        written_public, written_secret = zmq.auth.create_certificates(str(folder), name)
    finally:
        os.umask(old_umask)
    os.chmod(written_secret, 0o600)
    os.chmod(written_public, 0o644 & ~old_umask)
    public_key, _ = zmq.auth.load_certificate(written_public)
    logger.debug("wrote CURVE certificates %s and %s", written_public, written_secret)
    return public_key.decode("ascii"), Path(written_public), Path(written_secret)
