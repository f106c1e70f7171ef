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


def test_a_bridge_that_does_not_trust_the_servers_ca_fails_at_start(tmp_path, pki):
    ca, other = pki
    server = tls_server(tmp_path, ca, verify=False)
    try:
        error = refused(server.url, ca_file=other.ca)
        assert "SSL handshake error" in error and "unable to get local issuer certificate" in error, error
        assert "the TLS handshake failed: the server's certificate must be signed by a CA in bridge_options::ca_file" in error, error
        assert "is nats-server running there" not in error, error  # it is: the hint must not send people looking
        # No ca_file at all: the system's trust store does not know the test CA either; a nats://
        # URL is no way around TLS (libnats follows the server's tls_required).
        for url in (server.url, server.url.replace("tls://", "nats://")):
            error = refused(url)
            assert "the TLS handshake failed" in error, error
    finally:
        server.stop()


def test_mutual_tls_refuses_a_bridge_without_a_trusted_client_certificate(tmp_path, pki):
    ca, other = pki
    server = tls_server(tmp_path, ca, verify=True)
    try:
        error = refused(server.url, **client_flags(ca, None))
        assert "if it verifies client certificates (tls { verify: true }), give bridge_options::cert_file and key_file" in error, error
        error = refused(server.url, **client_flags(ca, other))
        assert "it may have refused this bridge's certificate" in error, error
        log = server.log.read_text()
        assert "TLS handshake error" in log and "certificate signed by unknown authority" in log, log[-2000:]
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
