"""TLS on the NATS side (docs/nats.md, "Securing both sides"): a throwaway CA made with
openssl issues the server's and the clients' certificates; nats-server runs with a
tls { } block, with and without verify: true (mutual TLS). Two applications exchange
events through it with exact counts; a bridge that does not trust the server's CA, one
without a certificate (or with a certificate of another CA) against verify: true, one
that wants TLS from a server without it, and a plain-text client against the TLS server
are all refused, with errors that say why."""

import socket

import pytest

from natsfix import NatsServer, Pki, exchange, failed_start


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """The test CA (server and client certificates) and another CA nobody here trusts."""
    directory = tmp_path_factory.mktemp("pki")
    return Pki(directory).issue("server", server=True).issue("client"), Pki(directory, "other").issue("client")


def tls_server(directory, ca: Pki, verify: bool) -> NatsServer:
    block = (f'tls {{ cert_file: "{ca.cert("server")}", key_file: "{ca.key("server")}", ca_file: "{ca.ca}", '
             f'verify: {"true" if verify else "false"}, timeout: 5 }}')
    return NatsServer(directory, "mtls" if verify else "tls", config=[block], scheme="tls").start()


def client_flags(ca: Pki, cert_from: Pki | None) -> dict[str, str]:
    flags = {"ca_file": str(ca.ca)}
    if cert_from is not None:
        flags.update(cert_file=str(cert_from.cert("client")), key_file=str(cert_from.key("client")))
    return flags


def refused(url: str, **flags) -> str:
    """The error of a bridge that cannot connect to `url` at start; it names the URL."""
    error = failed_start([url], **flags)
    assert f"cannot connect to NATS at {url}" in error, error
    return error


@pytest.mark.parametrize("verify", [False, True], ids=["server_tls", "mutual_tls"])
def test_two_applications_exchange_events_over_tls(tmp_path, pki, verify):
    ca, _ = pki
    server = tls_server(tmp_path, ca, verify)
    try:
        flags = client_flags(ca, ca if verify else None)
        exchange(tmp_path, [server.url], [server.url], dict(flags, instance="a-tls"), dict(flags, instance="b-tls"))
        # Both bridges were TLS clients of the server (it accepts no other kind).
        assert "TLS required for client connections" in server.log.read_text()
    finally:
        server.stop()


@pytest.mark.parametrize("verify, ca_file, cert_from, scheme, says, server_says", [
    pytest.param(False, "other", None, "tls",
                 ["SSL handshake error", "unable to get local issuer certificate",
                  "the TLS handshake failed: the server's certificate must be signed by a CA in bridge_options::ca_file"],
                 [], id="server_ca_not_trusted"),
    # No ca_file at all: the system's trust store does not know the test CA either; a nats://
    # URL is no way around TLS (libnats follows the server's tls_required).
    pytest.param(False, None, None, "tls", ["the TLS handshake failed"], [], id="no_ca_file"),
    pytest.param(False, None, None, "nats", ["the TLS handshake failed"], [], id="no_ca_file_nats_url"),
    pytest.param(True, "test", None, "tls",
                 ["if it verifies client certificates (tls { verify: true }), give bridge_options::cert_file and key_file"],
                 [], id="mutual_tls_no_client_certificate"),
    pytest.param(True, "test", "other", "tls", ["it may have refused this bridge's certificate"],
                 ["TLS handshake error", "certificate signed by unknown authority"], id="mutual_tls_certificate_of_another_ca"),
])
def test_a_bridge_the_tls_handshake_refuses_fails_at_start(tmp_path, pki, verify, ca_file, cert_from, scheme, says,
                                                           server_says):
    """`ca_file`, `cert_from`: which CA ("test", "other") the bridge trusts and which issued its
    client certificate (None: none given); `says`, `server_says`: what the bridge's error and
    the server's log must contain."""
    cas = dict(zip(("test", "other"), pki))
    server = tls_server(tmp_path, cas["test"], verify)
    try:
        flags = client_flags(cas[ca_file], cas.get(cert_from)) if ca_file else {}
        error = refused(server.url.replace("tls://", f"{scheme}://"), **flags)
        for message in says:
            assert message in error, error
        assert "is nats-server running there" not in error, error  # it is: the hint must not send people looking
        log = server.log.read_text()
        for message in server_says:
            assert message in log, log[-2000:]
    finally:
        server.stop()


def test_plain_text_against_a_tls_server_and_tls_against_a_plain_server_are_refused(tmp_path, pki):
    ca, _ = pki
    server = tls_server(tmp_path, ca, verify=False)
    plain = NatsServer(tmp_path, "plain").start()
    try:
        # A client speaking the plain-text protocol: the server's INFO says TLS is required, and
        # what the client sends next is not a TLS handshake: the server hangs up without a word.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            info = s.recv(65536)
            assert b'"tls_required":true' in info, info
            s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"name":"plain"}\r\nPING\r\n')
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
            assert reply == b"", reply  # no PONG: closed
        assert "TLS handshake error: tls: first record does not look like a TLS handshake" in server.log.read_text()
        # A bridge that wants TLS (a CA to verify with) from a server that has none does not fall back.
        error = refused(plain.url, **client_flags(ca, None))
        assert f"cannot connect to NATS at {plain.url}: Secure Connection not available" in error, error
        assert "this bridge requires TLS" in error and "the server does not offer it" in error, error
    finally:
        server.stop()
        plain.stop()
