"""The ``pyevents`` command line (``python3 -m pyevents`` or the ``pyevents`` script).

Subcommands:

``keygen DIR NAME [--force]``
    write a CURVE key pair as ZeroMQ certificate files ``DIR/NAME.key``
    (public: give it to the application) and ``DIR/NAME.key_secret`` (both
    keys: keep it private, mode 0600), and print the public key and both
    paths.  See docs/security.md.

``list``, ``echo EVENT...``, ``hz EVENT...``, ``graph``, ``pub EVENT field=value...``
    look at a running application through its TCP endpoints (README, "Tools"):
    its events and plugins, events as they pass (decoded when the manifest
    describes them), their rates and sizes, its event graph, and one event
    published.  Each reads the application's manifest from ``--manifest FILE``,
    ``--introspection [HOST:]PORT`` (the introspection endpoint) or
    ``--plugin-port [HOST:]PORT`` (``plugin_command: manifest`` on an external
    plugin's port); ``--host`` (default ``$EVENT_ENGINE_HOST``, else 127.0.0.1)
    is where the publish and subscribe ports are.  With CURVE, the keys come from
    ``--server-key``/``--client-key`` (a key's Z85 text), ``--server-key-file``/
    ``--client-key-file`` (certificate files) or ``EVENT_ENGINE_SERVER_KEY``/
    ``EVENT_ENGINE_CLIENT_KEY`` (``z85:KEY`` or ``file:PATH``); every wait ends after
    ``--timeout`` seconds.

A subcommand is an ``_add_<name>(subparsers)`` function, listed in
:data:`_SUBCOMMANDS`, that adds its parser and sets ``command`` to a function
``(args) -> exit status``.  :func:`main` returns the exit status: 0 success,
1 failure (the reason on stderr), 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

import zmq

from . import graph, protocol, tools
from .connection import tcp_endpoint
from .contract import Contract, ContractError, EventType, fetch_manifest, parse_endpoint
from .errors import PyEventsError
from .errors import SecurityConfigError
from .security import (
    CLIENT_KEY_ENV_VAR,
    FILE_PREFIX,
    SERVER_KEY_ENV_VAR,
    Z85_PREFIX,
    CurveConfig,
    curve_config,
    _could_be_path,
    is_z85_key,
    write_certificates,
)

__all__ = ["main", "build_parser"]

if TYPE_CHECKING:  # annotations only (not subscriptable at run time)
    _SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _cmd_keygen(args: argparse.Namespace) -> int:
    try:
        public_key, public_file, secret_file = write_certificates(args.dir, args.name, overwrite=args.force)
    except FileExistsError:
        raise
    except OSError as e:
        raise OSError(f"cannot write the key files in {args.dir!r}: {e.strerror or e}") from None
    sys.stdout.write(
        f"public key:  {public_key}\n"
        f"public file: {public_file}  (give it to the application)\n"
        f"secret file: {secret_file}  (keep it private)\n"
    )
    return 0


def _add_keygen(subparsers: _SubParsers) -> None:
    parser = subparsers.add_parser(
        "keygen",
        help="write a CURVE key pair as ZeroMQ certificate files",
        description="Write a new CURVE key pair as ZeroMQ certificate files: DIR/NAME.key (the public key; "
                    "give it to the application) and DIR/NAME.key_secret (both keys; keep it private). Make one "
                    "pair for the application and one per plugin; a plugin then runs with "
                    "EVENT_ENGINE_SERVER_KEY=file:DIR/APP.key EVENT_ENGINE_CLIENT_KEY=file:DIR/NAME.key_secret "
                    "(docs/security.md).",
    )
    parser.add_argument("dir", metavar="DIR", help="directory for the two files (created if missing)")
    parser.add_argument("name", metavar="NAME", help="base name of the files, e.g. engine or pyplugin")
    parser.add_argument("--force", action="store_true", help="replace existing key files of that name")
    parser.set_defaults(command=_cmd_keygen)


# ------------------------------------------------------------------ the tools

def _add_source_options(parser: argparse.ArgumentParser) -> None:
    """The options every tool shares: where the manifest comes from, the host, keys, timeout."""
    group = parser.add_argument_group("the application")
    source = group.add_mutually_exclusive_group()
    source.add_argument("--manifest", metavar="FILE", help="the manifest's file (app_config::manifest_path)")
    source.add_argument("--introspection", metavar="[HOST:]PORT",
                        help="the application's introspection endpoint (app_config::introspection_port)")
    source.add_argument("--plugin-port", metavar="[HOST:]PORT",
                        help="an external plugin's port ('plugin_command: manifest'; with CURVE only that "
                             "plugin's key is accepted there: prefer --introspection)")
    group.add_argument("--host", help="the application's host for the publish and subscribe ports and for ports "
                                      "given without one (default: the host of --introspection/--plugin-port, "
                                      "else $EVENT_ENGINE_HOST, else 127.0.0.1)")
    group.add_argument("--publish-port", type=int, metavar="PORT", help="instead of the manifest's publish port")
    group.add_argument("--subscribe-port", type=int, metavar="PORT", help="instead of the manifest's subscribe port")
    server = group.add_mutually_exclusive_group()
    server.add_argument("--server-key", metavar="KEY", help=f"the application's public CURVE key, its 40 Z85 "
                                                           f"characters (default ${SERVER_KEY_ENV_VAR}, else the "
                                                           "manifest's)")
    server.add_argument("--server-key-file", metavar="FILE", help="the application's public CURVE key from its "
                                                                 "certificate file NAME.key")
    client = group.add_mutually_exclusive_group()
    client.add_argument("--client-key", metavar="KEY", help=f"this client's secret CURVE key, its 40 Z85 characters "
                                                           f"(z85:KEY if it has a '/'); other local users can read "
                                                           f"a command line (ps): prefer --client-key-file or "
                                                           f"${CLIENT_KEY_ENV_VAR} (the default)")
    client.add_argument("--client-key-file", metavar="FILE", help="this client's secret CURVE key from its "
                                                                 "certificate file NAME.key_secret")
    group.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                       help="longest wait for the application: connecting, fetching the manifest, publishing "
                            "(default 5)")


def _default_host(args: argparse.Namespace) -> str:
    if args.host:
        return args.host
    for given in (args.introspection, args.plugin_port):
        if given and ":" in given.replace("tcp://", ""):
            return parse_endpoint(given)[0]
    return protocol.resolve_host(None, "127.0.0.1")


def _key_option(args: argparse.Namespace, which: str) -> Any:
    """--WHICH-key (the key's text) or --WHICH-key-file (a file), never guessed between.

    --WHICH-key once took a file too: a value that is not a Z85 key but an existing file
    is still read, with a warning. A value of 40 Z85 characters that could be a path
    (security._could_be_path: '/' in it, a leading '.' or '~', a .key/.key_secret ending,
    or an existing or uncheckable name) is refused naming both options, whether or not
    the file exists: a missing certificate file never becomes the key.
    """
    option, text, file = f"--{which}-key", getattr(args, f"{which}_key"), getattr(args, f"{which}_key_file")
    if file is not None:
        if not file:
            raise SecurityConfigError(f"{option}-file", "is empty; give the certificate file's path")
        return Path(file)
    if text is None:
        return None
    if text.startswith((Z85_PREFIX, FILE_PREFIX)):
        return text
    secret = which == "client"
    shown = f"the value ({len(text)} characters, not shown)" if secret else repr(text)
    if is_z85_key(text.strip()):
        ambiguous, why = _could_be_path(text.strip())
        if ambiguous:
            raise SecurityConfigError(
                option, f"{shown} is 40 Z85 characters, so it could be a key, and could be a certificate file's "
                        f"path too ({why}); nothing is guessed: give a file with {option}-file PATH, a key with "
                        f"{option} {Z85_PREFIX}KEY")
        return Z85_PREFIX + text.strip()
    if os.path.exists(text):
        _note(args, f"warning: {option} takes the key's text; {text!r} is read as a file, but give a file with "
                    f"{option}-file (this use of {option} is deprecated)")
        return Path(text)
    raise SecurityConfigError(option, f"{shown} is not a 40-character Z85 key (and no such file exists); give the "
                                      f"key's text with {option} or a certificate file with {option}-file")


def _keys(args: argparse.Namespace) -> Tuple[Any, Any]:
    if not hasattr(args, "_keys"):  # once: a warning is given once
        args._keys = (_key_option(args, "server"), _key_option(args, "client"))
    return args._keys


def _load_contract(args: argparse.Namespace) -> Contract:
    if args.timeout <= 0:
        raise ValueError("--timeout must be > 0 seconds")
    if args.manifest:
        return Contract.load(args.manifest)
    given = args.introspection or args.plugin_port
    if not given:
        raise ValueError("say where the manifest is: --manifest FILE, --introspection [HOST:]PORT or "
                         "--plugin-port [HOST:]PORT")
    host, port = parse_endpoint(given, args.host or protocol.resolve_host(None, "127.0.0.1"))
    server_key, client_key = _keys(args)
    return Contract(fetch_manifest(tcp_endpoint(host, port), timeout=args.timeout, server_key=server_key,
                                   client_key=client_key))


def _curve(args: argparse.Namespace, contract: Contract) -> Optional[CurveConfig]:
    """The keys for the publish and subscribe ports; the server key may come from the manifest."""
    server_key, client_key = _keys(args)
    has_client = client_key is not None or os.environ.get(CLIENT_KEY_ENV_VAR)
    if server_key is None and not os.environ.get(SERVER_KEY_ENV_VAR) and has_client and contract.server_public_key:
        server_key = Z85_PREFIX + contract.server_public_key  # the manifest's key is text, '/' or not
    curve = curve_config(server_key, client_key)
    if curve is None and contract.curve_required:
        raise PyEventsError(
            "the application requires CURVE keys (its manifest says so): give this client's secret key with "
            f"--client-key-file (or --client-key, ${CLIENT_KEY_ENV_VAR}; the application must list its public "
            f"key), and the application's public key with --server-key-file (or --server-key, "
            f"${SERVER_KEY_ENV_VAR}) (docs/security.md)")
    return curve


def _port_endpoint(args: argparse.Namespace, contract: Contract, which: str) -> str:
    port = getattr(args, f"{which}_port") or contract.endpoint_port(which)
    if port is None:
        raise PyEventsError(f"the manifest does not say which port is the {which} port (not bound yet?); "
                            f"give --{which}-port")
    return tcp_endpoint(_default_host(args), port)


def _selected(contract: Contract, names: Sequence[str]) -> List[EventType]:
    """The events named (every event when none is); unknown names are an error."""
    return [contract.event(name) for name in names] if names else list(contract)


def _out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _note(args: argparse.Namespace, text: str) -> None:
    sys.stderr.write(f"pyevents {args.command_name}: {text}\n")
    sys.stderr.flush()


def _cmd_list(args: argparse.Namespace) -> int:
    contract = _load_contract(args)
    if args.json:
        import json
        _out(json.dumps(contract.manifest, indent=2) + "\n")
    else:
        _out(tools.describe(contract))
    return 0


def _cmd_graph(args: argparse.Namespace) -> int:
    contract = _load_contract(args)
    text = graph.to_dot(contract.manifest) if args.format == "dot" else graph.to_mermaid(contract.manifest)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as file:
                file.write(text)
        except OSError as e:
            raise OSError(f"cannot write {args.output!r}: {e.strerror or e}") from None
        _note(args, f"wrote the {args.format} graph to {args.output}")
    else:
        _out(text)
    return 0


def _stream_setup(args: argparse.Namespace) -> Tuple[Contract, List[EventType], str, Optional[CurveConfig]]:
    """echo's and hz's start: checked options, the contract, the events, the subscribe port, the keys."""
    if args.count is not None and args.count < 1:
        raise ValueError("--count must be at least 1")
    if args.duration is not None and args.duration <= 0:
        raise ValueError("--duration must be > 0 seconds")
    contract = _load_contract(args)
    events = _selected(contract, args.events)
    return contract, events, _port_endpoint(args, contract, "subscribe"), _curve(args, contract)


def _ended(args: argparse.Namespace, ended: str, seen: int) -> int:
    """The exit status of echo and hz: 1 if the application went away before --count events."""
    if ended == "gone":
        _note(args, f"the application closed the connection after {seen} event(s)")
        return 1 if args.count is not None else 0
    return 0


def _cmd_echo(args: argparse.Namespace) -> int:
    contract, events, endpoint, curve = _stream_setup(args)
    seen = [0]

    def on_frame(frame: bytes) -> bool:
        _out((tools.event_json(contract, frame) if args.json else tools.event_text(contract, frame)) + "\n")
        seen[0] += 1
        return args.count is None or seen[0] < args.count

    def on_ready() -> None:
        for event in events:
            if event.note is not None:
                _note(args, f"{event.name}: {event.note}")
        _note(args, f"subscribed to {', '.join(e.name for e in events)} at {endpoint}")

    with zmq.Context() as context:
        ended = tools.subscribe(context, endpoint, [e.topic for e in events], curve, timeout=args.timeout,
                                on_frame=on_frame, on_ready=on_ready, duration=args.duration)
    return _ended(args, ended, seen[0])


class _Rates:
    """The counts and sizes ``hz`` shows, per event: since the start and in the last interval."""

    def __init__(self, events: Sequence[EventType]) -> None:
        self.events = list(events)
        self.start = self.window_start = time.monotonic()
        self.total: Dict[str, List[int]] = {e.name: [0, 0, 0, 0] for e in events}  # count, bytes, min, max
        self.window: Dict[str, List[int]] = {e.name: [0, 0, 0, 0] for e in events}
        self.lines_drawn = 0

    @staticmethod
    def _add(stats: List[int], size: int) -> None:
        stats[0] += 1
        stats[1] += size
        stats[2] = size if stats[0] == 1 else min(stats[2], size)
        stats[3] = max(stats[3], size)

    def add(self, name: str, size: int) -> None:
        self._add(self.total[name], size)
        self._add(self.window[name], size)

    @staticmethod
    def _sizes(stats: List[int]) -> str:
        if not stats[0]:
            return "-"
        return f"{stats[1] / stats[0]:.0f} B mean, {stats[2]}..{stats[3]} B"

    def table(self) -> List[str]:
        """The TTY table: one row per event, rate over the last interval and counts since the start."""
        elapsed = max(time.monotonic() - self.window_start, 1e-9)
        width = max(len(e.name) for e in self.events)
        rows = [f"{'event':<{width}}  {'rate':>10}  {'events':>8}  sizes"]
        for event in self.events:
            window, total = self.window[event.name], self.total[event.name]
            rows.append(f"{event.name:<{width}}  {window[0] / elapsed:>8.1f}/s  {total[0]:>8}  {self._sizes(total)}")
        return rows

    def interval_lines(self) -> List[str]:
        """One line per event for the last interval (output that is not a terminal)."""
        elapsed = max(time.monotonic() - self.window_start, 1e-9)
        return [f"{e.name}: {self.window[e.name][0] / elapsed:.1f}/s over {elapsed:.2f} s, "
                f"{self.window[e.name][0]} events ({self.total[e.name][0]} in all), "
                f"{self._sizes(self.window[e.name])}" for e in self.events]

    def summary(self) -> List[str]:
        """The final lines: per event, everything since the start."""
        elapsed = max(time.monotonic() - self.start, 1e-9)
        return [f"{e.name}: {self.total[e.name][0]} events in {elapsed:.2f} s, "
                f"{self.total[e.name][0] / elapsed:.1f}/s, {self._sizes(self.total[e.name])}" for e in self.events]

    def next_window(self) -> None:
        self.window_start = time.monotonic()
        self.window = {e.name: [0, 0, 0, 0] for e in self.events}


def _cmd_hz(args: argparse.Namespace) -> int:
    if args.interval <= 0:
        raise ValueError("--interval must be > 0 seconds")
    contract, events, endpoint, curve = _stream_setup(args)
    rates = _Rates(events)
    tty = sys.stdout.isatty()
    seen = [0]

    def draw() -> None:
        if tty:
            rows = rates.table()
            up = f"\x1b[{rates.lines_drawn}F" if rates.lines_drawn else ""
            _out(up + "".join(f"\x1b[2K{row}\n" for row in rows))
            rates.lines_drawn = len(rows)
        else:
            _out("".join(line + "\n" for line in rates.interval_lines()))
        rates.next_window()

    def on_frame(frame: bytes) -> bool:
        rates.add(contract.event_of_frame(frame).name, len(frame))
        seen[0] += 1
        return args.count is None or seen[0] < args.count

    def on_ready() -> None:
        _note(args, f"subscribed to {', '.join(e.name for e in events)} at {endpoint}")
        rates.start = rates.window_start = time.monotonic()

    with zmq.Context() as context:
        ended = tools.subscribe(context, endpoint, [e.topic for e in events], curve, timeout=args.timeout,
                                on_frame=on_frame, on_ready=on_ready, on_tick=draw, tick=args.interval,
                                duration=args.duration)
    if tty:
        draw()
    _out("".join(line + "\n" for line in rates.summary()))
    return _ended(args, ended, seen[0])


def _cmd_pub(args: argparse.Namespace) -> int:
    contract = _load_contract(args)
    event = contract.event(args.event)
    if event.layout is not None:
        if args.hex is not None:
            payload = bytes.fromhex(args.hex)
            event.decode_payload(payload)  # checks it
        elif args.json is not None:
            import json
            payload = event.encode_payload(tools._from_json(event.layout.description, json.loads(args.json),
                                                            event.name))
        else:
            payload = event.encode_payload(tools.parse_assignments(event, args.values))
    else:
        if args.json is not None:
            raise ValueError(f"{event.name} has codec {event.codec!r}: --json is for reflective events")
        if args.hex is not None:
            if args.values:
                raise ValueError("give the payload either in --hex or as VALUE, not both")
            payload = bytes.fromhex(args.hex)
        else:
            if len(args.values) > 1:
                raise ValueError(f"{event.name} has codec {event.codec!r}: give one VALUE (quote it), or --hex")
            text = args.values[0] if args.values else ""
            payload = event.encode_payload(text if event.codec in ("text", "text_view")
                                           else text.encode("utf-8", "surrogateescape"))
    frame = event.topic + payload
    endpoint = _port_endpoint(args, contract, "publish")
    curve = _curve(args, contract)
    publish_endpoint = (contract.manifest.get("endpoints") or {}).get("publish") or {}
    confirms = bool(publish_endpoint.get("confirms")) if isinstance(publish_endpoint, dict) else False
    with zmq.Context() as context:
        tools.publish(context, endpoint, frame, curve, timeout=args.timeout, confirm=confirms)
    if not confirms:
        raise PyEventsError(f"sent {tools.event_text(contract, frame)} to {endpoint}, but this application cannot "
                            "confirm a publish (its manifest has no endpoints.publish.confirms: an older engine), "
                            "so whether it was published is not known")
    _out(f"published {tools.event_text(contract, frame)} to {endpoint}\n")
    return 0


def _add_list(subparsers: _SubParsers) -> None:
    parser = subparsers.add_parser(
        "list", help="the application's events and plugins (from its manifest)",
        description="Print the application's events (codec, topic, publishers -> subscribers, a reflective "
                    "event's members), plugins, endpoints and whether they require CURVE.")
    parser.add_argument("--json", action="store_true", help="print the manifest itself")
    _add_source_options(parser)
    parser.set_defaults(command=_cmd_list)


def _add_stream_options(parser: argparse.ArgumentParser, count_help: str) -> None:
    """The events to subscribe to and when to stop: echo's and hz's."""
    parser.add_argument("events", nargs="*", metavar="EVENT", help="event names (default: every event)")
    parser.add_argument("--count", type=int, metavar="N", help=count_help)
    parser.add_argument("--duration", type=float, metavar="SECONDS", help="exit after SECONDS")


def _add_echo(subparsers: _SubParsers) -> None:
    parser = subparsers.add_parser(
        "echo", help="print events as they pass",
        description="Subscribe on the application's subscribe port and print each event as it passes: "
                    "reflective events as JSON by member name, text as a string, other payloads in hex. "
                    "Events published before the subscription is up are not seen (ZeroMQ PUB/SUB); "
                    "'subscribed to ...' on stderr says when it is.")
    _add_stream_options(parser, "exit after N events")
    parser.add_argument("--json", action="store_true",
                        help='one JSON object per event: {"event", "size", "value"} ("hex" for raw payloads); '
                             'strict JSON: a float that is not finite is "NaN", "Infinity" or "-Infinity"')
    _add_source_options(parser)
    parser.set_defaults(command=_cmd_echo)


def _add_hz(subparsers: _SubParsers) -> None:
    parser = subparsers.add_parser(
        "hz", help="rates and sizes per event type",
        description="Count events per type on the subscribe port: the rate over each interval and the "
                    "frame sizes, as a table updated in place on a terminal, a line per event and interval "
                    "otherwise; at the end, the totals.")
    _add_stream_options(parser, "exit after N events (all types together)")
    parser.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                        help="how often to print (default 1)")
    _add_source_options(parser)
    parser.set_defaults(command=_cmd_hz)


def _add_graph(subparsers: _SubParsers) -> None:
    parser = subparsers.add_parser(
        "graph", help="the event graph as Mermaid or Graphviz DOT",
        description="Print (or write) the application's event graph: plugins as nodes, external ones "
                    "marked, events as labelled edges (pyevents.graph). "
                    "E.g. pyevents graph --format dot --introspection 5561 | dot -Tsvg -o graph.svg")
    parser.add_argument("--format", choices=["mermaid", "dot"], default="mermaid")
    parser.add_argument("--output", "-o", metavar="FILE", help="write it to FILE")
    _add_source_options(parser)
    parser.set_defaults(command=_cmd_graph)


def _add_pub(subparsers: _SubParsers) -> None:
    parser = subparsers.add_parser(
        "pub", help="publish one event",
        description="Publish one event on the application's publish port, once the application has "
                    "subscribed to this publisher (so it is not dropped), and wait for the application to "
                    "confirm it: exit status 1 if it refused the event (e.g. this client's key may publish "
                    "other events only) or did not confirm it within --timeout. A reflective event takes "
                    "member=value assignments (nested: location.site=north; vectors, arrays and structs "
                    "as JSON; bytes in hex; optionals null or a value; the others keep their defaults), "
                    "or --json; another event takes its payload as one VALUE (text, UTF-8) or --hex.")
    parser.add_argument("event", metavar="EVENT", help="the event's name")
    parser.add_argument("values", nargs="*", metavar="member=value | VALUE")
    parser.add_argument("--json", metavar="OBJECT", help="a reflective event's value as a JSON object")
    parser.add_argument("--hex", metavar="HEX", help="the payload's bytes in hex")
    _add_source_options(parser)
    parser.set_defaults(command=_cmd_pub)


#: Every subcommand, in the order ``--help`` lists them.
_SUBCOMMANDS: Tuple[Callable[..., None], ...] = (_add_keygen, _add_list, _add_echo, _add_hz, _add_graph, _add_pub)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="pyevents",
        description="Tools for event_engine applications and their external plugins.",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command_name")
    subparsers.required = True
    for add in _SUBCOMMANDS:
        add(subparsers)
    return parser


#: Options whose value is a key's 40 Z85 characters: Z85's alphabet has '-', so a key may begin
#: with one, which argparse would take for an unknown option (about one key in 85).
_KEY_OPTIONS = ("--server-key", "--client-key")


def _joined_key_values(argv: Sequence[str]) -> List[str]:
    """*argv* with ``--client-key -A1s...`` (a 40-character value after a key option) written
    ``--client-key=-A1s...``, the form argparse reads whatever the value begins with."""
    words = list(argv)
    joined: List[str] = []
    i = 0
    while i < len(words):
        value = words[i + 1] if i + 1 < len(words) else ""
        if words[i] in _KEY_OPTIONS and value.startswith("-") and len(value) == 40:
            joined.append(f"{words[i]}={value}")
            i += 2
        else:
            joined.append(words[i])
            i += 1
    return joined


def parse_arguments(argv: Optional[Sequence[str]] = None,
                    parser: Optional[argparse.ArgumentParser] = None) -> argparse.Namespace:
    """*argv* (default ``sys.argv[1:]``) parsed as main() parses it."""
    parser = parser or build_parser()
    return parser.parse_args(_joined_key_values(sys.argv[1:] if argv is None else argv))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line with *argv* (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parse_arguments(argv, parser)
    try:
        return int(args.command(args))
    except KeyboardInterrupt:
        return 130
    except (ContractError, OSError, RuntimeError, PyEventsError) as e:  # what happened, and what to do
        sys.stderr.write(f"pyevents {args.command_name}: error: {e}\n")
        return 1
    except ValueError as e:  # a bad argument value
        parser.error(f"{args.command_name}: {e}")  # exits with status 2
    return 2  # not reached: parser.error() exits
